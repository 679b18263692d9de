from tenants.models import Tenant
from tenants.signals import tenant_lifecycle

from mcpbridge.services.lifecycle import DETAIL_TYPES, lifecycle_event_publish


def _on_tenant_lifecycle(sender, *, tenant, event, previous, **kwargs):
    if event in DETAIL_TYPES:
        lifecycle_event_publish(tenant=tenant, event=event, previous=previous)


tenant_lifecycle.connect(_on_tenant_lifecycle, sender=Tenant, dispatch_uid="mcpbridge-lifecycle-outbox")
