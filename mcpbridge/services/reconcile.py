"""Recompute a tenant's usage from what the backends actually hold."""

from datetime import datetime, timezone as dt_timezone


from mcpbridge.dataplane import data_plane
from mcpbridge.services.namespaces import tenant_prefix, tenant_secrets_prefix
from mcpbridge.services.quotas import quota_set
from tenants.limits import Limit


def usage_reconcile(*, tenant_id) -> dict:
    """Set storage_bytes, kv_items and secrets_count to what is stored; expired KV items are removed first.

    A write racing with this may leave the counter off by that write until the next run.
    """
    plane = data_plane()
    prefix = tenant_prefix(tenant_id)
    now = datetime.now(dt_timezone.utc)
    expired, live = [], 0
    for namespace, entry in plane.kv.scan_tenant(prefix):
        if entry.expires_at is not None and entry.expires_at <= now:
            expired.append((namespace, entry.key))
        else:
            live += 1
    if expired:
        plane.kv.delete_many(expired)
    storage = sum(meta.size for meta in plane.artifacts.iter_prefix(prefix))
    secrets = sum(1 for _ in plane.secrets.list_names(tenant_secrets_prefix(tenant_id)))
    usage = {Limit.KV_ITEMS: live, Limit.STORAGE_BYTES: storage, Limit.SECRETS_COUNT: secrets}
    for limit, used in usage.items():
        quota_set(tenant_id=tenant_id, limit=limit, used=used)
    return {str(k): v for k, v in usage.items()}
