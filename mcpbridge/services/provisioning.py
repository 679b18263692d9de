"""Tenant data-plane provisioning and the offboarding purge (run by Celery tasks, resumable and idempotent)."""

import json
import logging
from collections.abc import Callable
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mcpbridge.dataplane import data_plane
from mcpbridge.dataplane.ports import BackendError
from mcpbridge.models import TenantDataPlane
from mcpbridge.services.namespaces import tenant_prefix, tenant_secrets_prefix
from mcpbridge.services.quotas import GAUGES, quota_set
from tenants.models import Tenant
from tenants.models.tenants import TenantStatus
from tenants.services import Actor, tenant_mark_offboarded

logger = logging.getLogger(__name__)

PURGE_CHUNK = 100


def provisioning_marker_key(tenant_id) -> str:
    return f"_tenants/{tenant_id}/provisioned.json"


def tenant_data_provision(*, tenant_id) -> TenantDataPlane:
    """Record where the tenant's data lives and leave a marker object in the bucket. Safe to repeat."""
    state, _ = TenantDataPlane.objects.get_or_create(tenant_id=tenant_id)
    if state.provisioned_at:
        return state
    prefix = tenant_prefix(tenant_id)
    layout = {
        "backend": settings.DATAPLANE_BACKEND,
        "kv_table": settings.AWS_DYNAMODB_TABLE,
        "kv_partition_prefix": prefix,
        "artifact_bucket": settings.AWS_S3_BUCKET,
        "artifact_prefix": prefix,
        "secrets_prefix": tenant_secrets_prefix(tenant_id),
        "event_bus": settings.AWS_EVENT_BUS_NAME,
    }
    marker = json.dumps({"tenantId": str(tenant_id), **layout}).encode()
    data_plane().artifacts.put(provisioning_marker_key(tenant_id), marker, "application/json")
    state.provisioning = layout
    state.provisioned_at = timezone.now()
    state.save(update_fields=["provisioning", "provisioned_at"])
    return state


def tenant_data_provision_pending() -> tuple[int, int]:
    """Provision every live tenant whose data plane is not provisioned yet (say, one created before
    `aws_bootstrap` made the AWS resources). Returns (provisioned now, still pending); stops at the first
    backend failure, since the others would fail the same way."""
    pending = list(
        Tenant.objects.exclude(status__in=[TenantStatus.OFFBOARDING, TenantStatus.OFFBOARDED])
        .filter(Q(data_plane__isnull=True) | Q(data_plane__provisioned_at__isnull=True))
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    for done, tenant_id in enumerate(pending):
        try:
            tenant_data_provision(tenant_id=tenant_id)
        except BackendError as exc:
            logger.warning("Tenant data-plane provisioning still pending for %d tenant(s): %s", len(pending) - done, exc)
            return done, len(pending) - done
    return len(pending), 0


def _progress(state: TenantDataPlane, store: str, count: int, on_progress: Callable[[str, int], None] | None) -> None:
    state.purge_progress[store] = state.purge_progress.get(store, 0) + count
    state.save(update_fields=["purge_progress"])
    if on_progress is not None:
        on_progress(store, count)


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def tenant_data_purge(*, tenant_id, on_progress: Callable[[str, int], None] | None = None) -> TenantDataPlane:
    """Delete everything the tenant stored (KV, artifacts, secrets), chunk by chunk with progress saved,
    then mark the tenant offboarded. Re-running after a crash continues with what is left.
    on_progress(store, count) is told of each deleted chunk (the purge command draws a progress bar)."""
    tenant = Tenant.objects.get(pk=tenant_id)
    state, _ = TenantDataPlane.objects.get_or_create(tenant_id=tenant_id)
    if state.purge_finished_at and tenant.status == TenantStatus.OFFBOARDED:
        return state
    if tenant.status not in (TenantStatus.OFFBOARDING, TenantStatus.OFFBOARDED):
        raise ValueError(f"Tenant {tenant.slug} is {tenant.status}; only an offboarding tenant's data is purged.")
    if state.purge_started_at is None:
        state.purge_started_at = timezone.now()
        state.save(update_fields=["purge_started_at"])
    plane = data_plane()
    prefix = tenant_prefix(tenant_id)
    for chunk in _chunks(plane.kv.scan_tenant(prefix), PURGE_CHUNK):
        plane.kv.delete_many([(namespace, entry.key) for namespace, entry in chunk])
        _progress(state, "kv", len(chunk), on_progress)
    for chunk in _chunks(plane.artifacts.iter_prefix(prefix), PURGE_CHUNK):
        plane.artifacts.delete_many([meta.key for meta in chunk])
        _progress(state, "artifacts", len(chunk), on_progress)
    for chunk in _chunks(plane.secrets.list_names(tenant_secrets_prefix(tenant_id)), PURGE_CHUNK):
        for name in chunk:
            plane.secrets.delete(name)
        _progress(state, "secrets", len(chunk), on_progress)
    plane.artifacts.delete(provisioning_marker_key(tenant_id))
    with transaction.atomic():
        for limit in GAUGES:
            quota_set(tenant_id=tenant_id, limit=limit, used=0)
        state.purge_finished_at = timezone.now()
        state.save(update_fields=["purge_finished_at"])
        if tenant.status == TenantStatus.OFFBOARDING:
            tenant_mark_offboarded(tenant=tenant, actor=Actor.system("offboarding"))
    logger.info("Purged data of tenant %s: %s", tenant_id, state.purge_progress)
    return state
