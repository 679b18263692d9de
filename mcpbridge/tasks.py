"""Celery tasks: thin, idempotent, keyed by ids. At-least-once delivery is configured in settings/celery.py."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from mcpbridge.dataplane.ports import BackendError
from mcpbridge.services import outbox as outbox_service
from mcpbridge.services import provisioning, reconcile
from tenants.models import Tenant
from tenants.models.tenants import TenantStatus

logger = logging.getLogger(__name__)
_FOLLOW_UP_KEY = "mcpbridge:outbox:follow-up"
_TRANSIENT = dict(autoretry_for=(BackendError,), retry_backoff=True, retry_backoff_max=300, max_retries=None)


@shared_task(name="mcpbridge.tasks.drain_outbox")
def drain_outbox(follow_up: bool = False):
    if follow_up:
        cache.delete(_FOLLOW_UP_KEY)  # this run is the follow-up; the next one may be scheduled
    report = outbox_service.outbox_drain()
    # With a broker, come back for entries that are waiting (backoff, another worker's lease).
    # Eagerly this would recurse; the beat schedule and the next send pick them up instead.
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        wait = outbox_service.outbox_next_due_in()
        # One follow-up at a time (per cache), however many drains found the same backlog.
        if wait is not None and cache.add(_FOLLOW_UP_KEY, 1, timeout=max(1, int(wait) + 1)):
            drain_outbox.apply_async(kwargs={"follow_up": True}, countdown=max(wait, 0.2))
    return {"delivered": report.delivered, "failed": report.failed, "parked": report.parked, "outage": report.outage}


@shared_task(bind=True, name="mcpbridge.tasks.provision_tenant_data", **_TRANSIENT)
def provision_tenant_data(self, tenant_id: str):
    try:
        provisioning.tenant_data_provision(tenant_id=tenant_id)
    except BackendError as exc:
        if not self.request.is_eager:
            raise  # a worker retries with backoff
        # Eagerly a retry would run at once and fail again: the tenant stays pending instead.
        logger.warning(
            "Data plane of tenant %s not provisioned yet (%s); it stays pending until `manage.py aws_bootstrap` "
            "or the beat task provision_pending_tenant_data provisions it.", tenant_id, exc,
        )


@shared_task(name="mcpbridge.tasks.provision_pending_tenant_data")
def provision_pending_tenant_data():
    provisioned, pending = provisioning.tenant_data_provision_pending()
    return {"provisioned": provisioned, "pending": pending}


@shared_task(name="mcpbridge.tasks.purge_tenant_data", **_TRANSIENT)
def purge_tenant_data(tenant_id: str):
    state = provisioning.tenant_data_purge(tenant_id=tenant_id)
    return state.purge_progress


@shared_task(name="mcpbridge.tasks.reconcile_usage", **_TRANSIENT)
def reconcile_usage(tenant_id: str | None = None):
    if tenant_id is not None:
        return reconcile.usage_reconcile(tenant_id=tenant_id)
    active = Tenant.objects.exclude(status=TenantStatus.OFFBOARDED).values_list("pk", flat=True)
    for pk in active:
        reconcile_usage.delay(tenant_id=str(pk))
