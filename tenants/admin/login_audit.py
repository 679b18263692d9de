"""Failed logins and lockouts (django-axes) in the audit log, counted per user (or address) per minute."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from tenants.models.audit import AuditOutcome
from tenants.services import audit_login_refusal

LOGIN_FAILED = "login_failed"
LOCKED_OUT = "locked_out"


def client_address(request) -> str | None:
    """The address logins are counted and locked out under: the peer Django sees (proxy headers are the ASGI
    server's job), never a header a client can set."""
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    audit_login_refusal(
        username=str(credentials.get("username") or "")[:150] or None,
        address=client_address(request) or "",
        reason=LOGIN_FAILED,
    )


@receiver(user_locked_out, dispatch_uid="audit-login-locked-out")
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    audit_login_refusal(
        username=str(username or "")[:150] or None,
        address=ip_address or client_address(request) or "",
        reason=LOCKED_OUT,
        outcome=AuditOutcome.RATE_LIMITED,
    )
