"""Plans, per-tenant limit overrides and roles. Staff write them; a tenant key may read them
(limit overrides only of its own tenant): a tenant must not raise its own limits or invent capabilities."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from tenants.api import serializers as s
from tenants.api.filters import LimitOverrideFilter, PlanFilter, RoleFilter
from tenants.api.idempotency import idempotent_create
from tenants.api.viewsets import ScopedViewSet
from tenants.limits import LIMIT_NAMES
from tenants.models import LimitOverride, Plan, Role
from tenants.platform_capabilities import PlatformCapability as P
from tenants.services import (
    plan_create,
    plan_update,
    role_create,
    role_delete,
    role_update,
    tenant_limit_clear,
    tenant_limit_set,
)

WRITES = frozenset({"create", "partial_update", "destroy"})


def _split_limits(data: dict) -> tuple[dict, dict]:
    limits = {name: data.pop(name) for name in LIMIT_NAMES if name in data}
    return data, limits


@extend_schema(tags=["plans and limits"])
class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Plan.objects.all()
    serializer_class = s.PlanSerializer
    tenant_path = None
    staff_only_actions = WRITES
    # The plan catalogue is readable by every service key: creating a tenant names a plan.
    platform_capabilities = {"list": None, "retrieve": None, "create": P.PLANS, "partial_update": P.PLANS}
    filterset_class = PlanFilter
    ordering_fields = ["slug", "name", "created_at"]
    ordering = ["slug"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=s.PlanSerializer, responses={201: s.PlanSerializer})
    def create(self, request):
        def handler():
            data, limits = _split_limits(dict(self.validated(s.PlanSerializer)))
            plan = plan_create(actor=self.actor(), limits=limits, **data)
            return self.respond(plan, status=status.HTTP_201_CREATED)

        return idempotent_create(request, handler)

    @extend_schema(request=s.PlanUpdateSerializer, responses=s.PlanSerializer)
    def partial_update(self, request, pk=None):
        plan = self.get_object()
        data, limits = _split_limits(dict(self.validated(s.PlanUpdateSerializer, partial=True)))
        return self.respond(plan_update(plan=plan, actor=self.actor(), limits=limits, **data))


@extend_schema(tags=["plans and limits"])
class LimitOverrideViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A tenant's limits that differ from its plan. Creating one for a limit already overridden updates it."""

    queryset = LimitOverride.objects.all()
    serializer_class = s.LimitOverrideSerializer
    staff_only_actions = WRITES
    platform_capabilities = dict.fromkeys(("list", "retrieve", "create", "partial_update", "destroy"), P.LIMITS)
    filterset_class = LimitOverrideFilter
    ordering_fields = ["limit", "value", "updated_at"]
    ordering = ["limit"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(request=s.LimitOverrideSerializer, responses={201: s.LimitOverrideSerializer})
    def create(self, request):
        def handler():
            data = self.validated(s.LimitOverrideSerializer)
            override = tenant_limit_set(actor=self.actor(), **data)
            return self.respond(override, status=status.HTTP_201_CREATED)

        return idempotent_create(request, handler)

    @extend_schema(request=s.LimitOverrideUpdateSerializer, responses=s.LimitOverrideSerializer)
    def partial_update(self, request, pk=None):
        override = self.get_object()
        data = self.validated(s.LimitOverrideUpdateSerializer)
        return self.respond(
            tenant_limit_set(tenant=override.tenant, limit=override.limit, value=data["value"], actor=self.actor())
        )

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        override = self.get_object()
        tenant_limit_clear(tenant=override.tenant, limit=override.limit, actor=self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["roles"])
class RoleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Roles and the capabilities they grant. Built-in roles cannot be deleted."""

    queryset = Role.objects.all()
    serializer_class = s.RoleSerializer
    tenant_path = None
    staff_only_actions = WRITES
    filterset_class = RoleFilter
    ordering_fields = ["slug", "name", "created_at"]
    ordering = ["slug"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(request=s.RoleSerializer, responses={201: s.RoleSerializer})
    def create(self, request):
        def handler():
            role = role_create(actor=self.actor(), **self.validated(s.RoleSerializer))
            return self.respond(role, status=status.HTTP_201_CREATED)

        return idempotent_create(request, handler)

    @extend_schema(request=s.RoleUpdateSerializer, responses=s.RoleSerializer)
    def partial_update(self, request, pk=None):
        role = self.get_object()
        return self.respond(role_update(role=role, actor=self.actor(), **self.validated(s.RoleUpdateSerializer)))

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        role_delete(role=self.get_object(), actor=self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)
