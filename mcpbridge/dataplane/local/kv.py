from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from mcpbridge.dataplane.local.keyorder import page_by_prefix
from mcpbridge.dataplane.ports import ConditionFailed, KVEntry, KVItem
from mcpbridge.models import LocalKVItem


def _live(now: datetime) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


class LocalKVStore:
    in_database = True  # its writes can share a transaction with their quota change

    def get(self, namespace, key):
        row = LocalKVItem.objects.filter(_live(timezone.now()), namespace=namespace, key=key).first()
        return KVItem(row.key, row.value, row.size, row.expires_at) if row else None

    def put(self, namespace, key, value, size, expires_at, *, must_exist):
        fields = {"value": value, "size": size, "expires_at": expires_at, "updated_at": timezone.now()}
        if must_exist is not False:
            if LocalKVItem.objects.filter(namespace=namespace, key=key).update(**fields):
                return True
            if must_exist:
                raise ConditionFailed(key)
        try:
            with transaction.atomic():
                LocalKVItem.objects.create(namespace=namespace, key=key, **fields)
        except IntegrityError:
            if must_exist is False:
                raise ConditionFailed(key) from None
            LocalKVItem.objects.filter(namespace=namespace, key=key).update(**fields)
            return True
        return False

    def delete(self, namespace, key):
        with transaction.atomic():
            row = LocalKVItem.objects.select_for_update().filter(namespace=namespace, key=key).first()
            if row is None:
                return None
            row.delete()
        return KVEntry(row.key, row.size, row.expires_at)

    def list(self, namespace, prefix, limit, after):
        rows = LocalKVItem.objects.filter(_live(timezone.now()), namespace=namespace)
        page = list(page_by_prefix(rows, "key", prefix, after).values_list("key", "size", "expires_at")[: limit + 1])
        return [KVEntry(*row) for row in page[:limit]], len(page) > limit

    def scan_tenant(self, tenant_prefix):
        # Keyset pages, so callers may delete what they were given while iterating.
        last_pk = 0
        while True:
            page = list(
                LocalKVItem.objects.filter(namespace__startswith=tenant_prefix, pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", "namespace", "key", "size", "expires_at")[:500]
            )
            if not page:
                return
            for pk, namespace, key, size, expires_at in page:
                yield namespace, KVEntry(key, size, expires_at)
            last_pk = page[-1][0]

    def delete_many(self, items):
        for namespace, key in items:
            LocalKVItem.objects.filter(namespace=namespace, key=key).delete()
