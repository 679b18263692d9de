from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action

from tenants.api import serializers as s
from tenants.api.filters import ApiKeyFilter
from tenants.api.idempotency import idempotent_create
from tenants.api.viewsets import ScopedViewSet
from tenants.models import ApiKey
from tenants.services import api_key_issue, api_key_revoke, api_key_rotate, api_key_update


@extend_schema(tags=["api keys"])
class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """API keys. The raw key is in the create and rotate responses only; lists show prefixes."""

    queryset = ApiKey.objects.select_related("membership")
    serializer_class = s.ApiKeySerializer
    tenant_path = "membership__tenant"
    filterset_class = ApiKeyFilter
    ordering_fields = ["created_at", "name", "prefix", "last_used_at"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=s.ApiKeyCreateSerializer, responses={201: s.ApiKeyWithSecretSerializer})
    def create(self, request):
        def handler():
            data = self.validated(s.ApiKeyCreateSerializer)
            key, raw = api_key_issue(actor=self.actor(), **data)
            return self.respond(
                key, status=status.HTTP_201_CREATED, serializer_class=s.ApiKeyWithSecretSerializer, raw_key=raw
            )

        return idempotent_create(request, handler, redact=("key",))

    @extend_schema(request=s.ApiKeyUpdateSerializer, responses=s.ApiKeySerializer)
    def partial_update(self, request, pk=None):
        key = self.get_object()
        return self.respond(api_key_update(api_key=key, actor=self.actor(), **self.validated(s.ApiKeyUpdateSerializer)))

    @extend_schema(request=s.ApiKeyRevokeSerializer, responses=s.ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke now; revoking a revoked key changes nothing."""
        key = self.get_object()
        data = self.validated(s.ApiKeyRevokeSerializer)
        return self.respond(api_key_revoke(api_key=key, actor=self.actor(), reason=data["reason"]))

    @extend_schema(request=None, responses={201: s.ApiKeyWithSecretSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        """Revoke this key and issue its replacement (same name, scope, org and expiry)."""

        def handler():
            new_key, raw = api_key_rotate(api_key=self.get_object(), actor=self.actor())
            return self.respond(
                new_key, status=status.HTTP_201_CREATED, serializer_class=s.ApiKeyWithSecretSerializer, raw_key=raw
            )

        return idempotent_create(request, handler, redact=("key",))
