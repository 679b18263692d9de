from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action

from mcpbridge.api.filters import McpSessionFilter
from mcpbridge.api.serializers import McpSessionSerializer
from mcpbridge.models import McpSession
from mcpbridge.services.sessions import mcp_session_revoke
from tenants.api.viewsets import ScopedViewSet


@extend_schema(tags=["mcp sessions"])
class McpSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = McpSession.objects.all()
    serializer_class = McpSessionSerializer
    filterset_class = McpSessionFilter
    ordering_fields = ["started_at", "last_seen_at", "request_count"]
    ordering = ["-started_at"]

    @extend_schema(request=None, responses=McpSessionSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """End the session; the server holding it closes it within 2 s. Revoking an ended session changes nothing."""
        return self.respond(mcp_session_revoke(session=self.get_object(), actor=self.actor()))
