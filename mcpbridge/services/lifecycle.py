"""Tenant lifecycle changes published to the control-plane bus in the SaaS Builder Toolkit's contract."""

from mcpbridge.models import OutboxEvent
from mcpbridge.services.jobs import enqueue_on_commit
from mcpbridge.services.outbox import outbox_enqueue
from tenants.signals import LifecycleEvent

SBT_CONTROL_PLANE_SOURCE = "sbt.control.plane"
DETAIL_TYPES = {
    LifecycleEvent.ONBOARDED: "sbt_aws_onboardingRequest",
    LifecycleEvent.OFFBOARDING: "sbt_aws_offboardingRequest",
    LifecycleEvent.SUSPENDED: "sbt_aws_deactivateRequest",
    LifecycleEvent.RESUMED: "sbt_aws_activateRequest",
    # Ours: SBT has no plan-change or purge-finished event.
    LifecycleEvent.PLAN_CHANGED: "mcp_tenantPlanChanged",
    LifecycleEvent.OFFBOARDED: "mcp_tenantOffboarded",
}


def lifecycle_detail(tenant, previous: dict) -> dict:
    registration = dict(tenant.registration_data or {})
    return {
        # SBT's consumers read the registration fields at the top level, next to tenantId and tier.
        **registration,
        "tenantId": str(tenant.id),
        "tenantSlug": tenant.slug,
        "tenantName": tenant.name,
        "tier": tenant.plan.slug,
        "tenantStatus": tenant.status,
        "tenantRegistrationData": registration,
        "previous": previous or {},
    }


def lifecycle_event_publish(*, tenant, event: str, previous: dict) -> OutboxEvent:
    """Write the lifecycle event to the outbox (inside the change's transaction) and queue the data-plane work."""
    outboxed = outbox_enqueue(
        tenant_id=tenant.id,
        bus=OutboxEvent.Bus.CONTROL_PLANE,
        source=SBT_CONTROL_PLANE_SOURCE,
        detail_type=DETAIL_TYPES[event],
        detail=lifecycle_detail(tenant, previous),
    )
    if event == LifecycleEvent.ONBOARDED:
        enqueue_on_commit("mcpbridge.tasks.provision_tenant_data", tenant_id=str(tenant.id))
    elif event == LifecycleEvent.OFFBOARDING:
        enqueue_on_commit("mcpbridge.tasks.purge_tenant_data", tenant_id=str(tenant.id))
    return outboxed
