"""Tenant scoping: the one place that decides which rows a caller can see. Every viewset and every
related-object field of the API goes through `restrict`, so another tenant's object is simply absent (404)."""

from django.db.models import QuerySet

from tenants.api.caller import Caller


def restrict(queryset: QuerySet, caller: Caller, tenant_path: str | None) -> QuerySet:
    """Staff and platform service keys see everything (a service key only reaches the platform endpoints
    CallerMayUse lets it use); a tenant.manage key sees its own tenant's rows; anyone else sees nothing.

    `tenant_path` is the lookup from the model to its tenant id ("tenant", "membership__tenant", "id" for
    Tenant itself), or None for platform catalogues (plans, roles) that every authorised caller may read.
    """
    if caller.is_staff or caller.service is not None:
        return queryset
    if not caller.can_manage_tenant:
        return queryset.none()
    if tenant_path is None:
        return queryset
    return queryset.filter(**{tenant_path: caller.tenant_id})
