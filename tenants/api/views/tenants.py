from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from tenants.api import serializers as s
from tenants.api.filters import TenantFilter
from tenants.api.idempotency import idempotent_create
from tenants.api.viewsets import ScopedViewSet
from tenants.models import LimitOverride, Tenant
from tenants.platform_capabilities import PlatformCapability as P
from tenants.services import (
    tenant_change_plan,
    tenant_create,
    tenant_offboard,
    tenant_resume,
    tenant_suspend,
    tenant_update,
)


@extend_schema(tags=["tenants"])
class TenantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Tenants. Staff create them and move them through their lifecycle; a tenant key reads and renames its own."""

    queryset = Tenant.objects.select_related("plan")
    serializer_class = s.TenantSerializer
    tenant_path = "id"
    staff_only_actions = frozenset({"create", "suspend", "resume", "offboard", "change_plan"})
    platform_capabilities = {
        "list": P.TENANTS_READ,
        "retrieve": P.TENANTS_READ,
        "limits": P.TENANTS_READ,
        "create": P.TENANTS_CREATE,
        "partial_update": P.TENANTS_CREATE,
        "suspend": P.TENANTS_LIFECYCLE,
        "resume": P.TENANTS_LIFECYCLE,
        "offboard": P.TENANTS_LIFECYCLE,
        "change_plan": P.PLANS,
    }
    filterset_class = TenantFilter
    ordering_fields = ["slug", "name", "status", "created_at"]
    ordering = ["slug"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=s.TenantCreateSerializer, responses={201: s.TenantSerializer})
    def create(self, request):
        def handler():
            data = self.validated(s.TenantCreateSerializer)
            tenant = tenant_create(actor=self.actor(), **data)
            return self.respond(tenant, status=status.HTTP_201_CREATED)

        return idempotent_create(request, handler)

    @extend_schema(request=s.TenantUpdateSerializer, responses=s.TenantSerializer)
    def partial_update(self, request, pk=None):
        tenant = self.get_object()
        data = self.validated(s.TenantUpdateSerializer, partial=True)
        return self.respond(tenant_update(tenant=tenant, actor=self.actor(), **data))

    def _lifecycle(self, service):
        tenant = service(tenant=self.get_object(), actor=self.actor())
        return self.respond(Tenant.objects.select_related("plan").get(pk=tenant.pk))

    @extend_schema(request=None, responses=s.TenantSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """Suspend: every key of the tenant is refused at once."""
        return self._lifecycle(tenant_suspend)

    @extend_schema(request=None, responses=s.TenantSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._lifecycle(tenant_resume)

    @extend_schema(request=None, responses=s.TenantSerializer)
    @action(detail=True, methods=["post"])
    def offboard(self, request, pk=None):
        """Start offboarding: access ends now; the data purge runs in the background."""
        return self._lifecycle(tenant_offboard)

    @extend_schema(request=s.TenantChangePlanSerializer, responses=s.TenantSerializer)
    @action(detail=True, methods=["post"], url_path="change-plan")
    def change_plan(self, request, pk=None):
        tenant = self.get_object()
        data = self.validated(s.TenantChangePlanSerializer)
        tenant_change_plan(tenant=tenant, plan=data["plan"], actor=self.actor())
        return self.respond(Tenant.objects.select_related("plan").get(pk=tenant.pk))

    @extend_schema(responses=s.EffectiveLimitSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def limits(self, request, pk=None):
        """Every limit in force for the tenant, and whether it comes from the plan or an override."""
        tenant = self.get_object()
        overrides = dict(LimitOverride.objects.filter(tenant=tenant).values_list("limit", "value"))
        rows = [
            {"limit": name, "value": overrides.get(name, value), "source": "override" if name in overrides else "plan"}
            for name, value in tenant.plan.limits().items()
        ]
        return Response(s.EffectiveLimitSerializer(rows, many=True).data)
