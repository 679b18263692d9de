"""Storage locations derived from the principal's namespace (tenant id, then context). The one place keys are built."""

from django.conf import settings


def tenant_prefix(tenant_id) -> str:
    """Everything of one tenant, in every context, lives under this prefix (see Principal.namespace)."""
    return f"t/{tenant_id}/"


def artifact_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def secret_path(namespace: str, name: str = "") -> str:
    return f"{settings.AWS_SECRETS_PREFIX}/{namespace}/{name}"


def tenant_secrets_prefix(tenant_id) -> str:
    return f"{settings.AWS_SECRETS_PREFIX}/{tenant_prefix(tenant_id)}"
