"""Results the application plane reports back (SaaS Builder Toolkit contract), applied to tenants.

Each result is applied once per EventBridge event id; redelivery of the same event changes nothing.
The status moves go through the same lifecycle services as the admin, so they emit the same events.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.models import ApplicationPlaneEvent, Tenant
from tenants.models.tenants import TenantStatus
from tenants.services.actors import Actor
from tenants.services.audit import audit_record
from tenants.services.errors import ConflictError, ServiceError
from tenants.services.tenants import tenant_mark_offboarded, tenant_resume, tenant_suspend

# detail-type -> (provisioning state recorded on the tenant, lifecycle service to call or None)
APPLICATION_PLANE_RESULTS = {
    "provisionSuccess": ("provisioned", None),
    "provisionFailure": ("provision_failed", tenant_suspend),
    "deprovisionSuccess": ("deprovisioned", tenant_mark_offboarded),
    "deprovisionFailure": ("deprovision_failed", None),
    "activateSuccess": ("activated", tenant_resume),
    "activateFailure": ("activate_failed", None),
    "deactivateSuccess": ("deactivated", tenant_suspend),
    "deactivateFailure": ("deactivate_failed", None),
}
# Outputs the application plane may send, kept on the tenant; anything else in `detail` is not stored.
_OUTPUT_KEYS = ("tenantOutput", "jobOutput", "output", "message", "error", "reason")


def _tenant_for(detail: dict) -> Tenant:
    ref = detail.get("tenantId")
    if not isinstance(ref, str) or not ref:
        raise ServiceError("detail.tenantId is required: the tenant's id or slug.", field="detail.tenantId")
    tenant = Tenant.objects.filter(slug=ref).first()
    if tenant is None:
        try:
            tenant = Tenant.objects.filter(pk=ref).first()
        except Exception:  # noqa: BLE001  (not a UUID: no such tenant)
            tenant = None
    if tenant is None:
        raise ServiceError(f"No tenant {ref!r}.", code="not_found", field="detail.tenantId")
    return tenant


def application_plane_result_apply(*, event_id: str, detail_type: str, detail: dict, actor: Actor) -> dict:
    """Apply one application-plane result; return {"tenant", "status", "state", "duplicate"}."""
    if detail_type not in APPLICATION_PLANE_RESULTS:
        raise ServiceError(
            f"Unknown detail-type {detail_type!r}; expected one of {', '.join(APPLICATION_PLANE_RESULTS)}.",
            field="detail-type",
        )
    if not isinstance(detail, dict):
        raise ServiceError("detail must be an object.", field="detail")
    state, lifecycle = APPLICATION_PLANE_RESULTS[detail_type]
    tenant = _tenant_for(detail)
    try:
        with transaction.atomic():
            ApplicationPlaneEvent.objects.create(event_id=event_id, detail_type=detail_type, tenant=tenant,
                                                 outcome=state)
            locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
            if lifecycle is tenant_suspend and locked.status != TenantStatus.ACTIVE:
                lifecycle = None  # already suspended, or on its way out: nothing to deactivate
            if lifecycle is not None:
                try:
                    locked = lifecycle(tenant=locked, actor=actor)
                except ConflictError as exc:
                    raise ConflictError(f"{detail_type} does not fit tenant {locked.slug}: {exc.message}") from exc
            output = dict(locked.provisioning_output or {})
            output.update(
                state=state,
                last_event_id=event_id,
                updated_at=timezone.now().isoformat(),
                **{key: detail[key] for key in _OUTPUT_KEYS if key in detail},
            )
            Tenant.objects.filter(pk=locked.pk).update(provisioning_output=output)
            audit_record(
                actor=actor,
                target=f"tenant:{locked.slug}",
                tenant_id=locked.id,
                details={"operation": f"application_plane.{detail_type}", "event_id": event_id, "state": state},
            )
    except IntegrityError:
        # The same EventBridge event again (at-least-once delivery): already applied.
        tenant.refresh_from_db()
        return {"tenant": str(tenant.id), "status": tenant.status,
                "state": (tenant.provisioning_output or {}).get("state", state), "duplicate": True}
    return {"tenant": str(locked.id), "status": locked.status, "state": state, "duplicate": False}
