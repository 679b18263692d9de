"""The base every provisioning viewset builds on: scoping, permissions and the caller's audit identity."""

from rest_framework import serializers, viewsets
from rest_framework.response import Response

from tenants.api.caller import Caller
from tenants.api.permissions import CallerMayUse
from tenants.api.scoping import restrict
from tenants.models import Tenant
from tenants.services import Actor


class ScopedViewSet(viewsets.GenericViewSet):
    tenant_path: str | None = "tenant"
    staff_only_actions: frozenset[str] = frozenset()
    # action -> the platform capability a service key needs for it (None: any service key); unlisted: refused.
    platform_capabilities: dict[str, str | None] = {}
    permission_classes = [CallerMayUse]

    def get_queryset(self):
        return restrict(super().get_queryset(), self.caller, self.tenant_path)

    @property
    def caller(self) -> Caller:
        return Caller.of(self.request)

    def actor(self) -> Actor:
        return self.caller.actor()

    def validated(self, serializer_class, *, partial: bool = False) -> dict:
        serializer = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def target_tenant(self, given: Tenant | None) -> Tenant:
        """The tenant a create goes into: the key's own tenant, or the one staff named."""
        if self.caller.principal is not None:
            return given or Tenant.objects.get(pk=self.caller.tenant_id)
        if given is None:
            raise serializers.ValidationError({"tenant": ["This field is required."]})
        return given

    def respond(self, instance, *, status: int = 200, serializer_class=None, **context) -> Response:
        serializer_class = serializer_class or self.get_serializer_class()
        data = serializer_class(instance, context={**self.get_serializer_context(), **context}).data
        return Response(data, status=status)
