from django.contrib import admin, messages

from mcpbridge.models import McpSession
from mcpbridge.services.sessions import mcp_session_revoke
from tenants.admin.base import ReadOnlyAdmin, actor_for
from tenants.admin.search import (
    IndexedSearchMixin, IndexedValuesFilter, api_key_prefix, equals, member_username, tenant_slug, uuid_equals,
)


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("open", "Open"), ("ended", "Ended"))

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "ended":
            return queryset.filter(ended_at__isnull=False)
        return queryset


class ProtocolVersionFilter(IndexedValuesFilter):
    field_name = "protocol_version"


@admin.register(McpSession)
class McpSessionAdmin(IndexedSearchMixin, ReadOnlyAdmin):
    """Sessions are recorded by the MCP servers; admins watch them and revoke them (ends within 2 s)."""

    list_display = (
        "id",
        "tenant",
        "user",
        "key_prefix",
        "transport",
        "protocol_version",
        "client_name",
        "started_at",
        "last_seen_at",
        "request_count",
        "ended_at",
        "end_reason",
    )
    list_filter = (OpenFilter, "transport", "end_reason", ProtocolVersionFilter, "started_at")
    search_on = (
        uuid_equals("id", "session id"),
        tenant_slug(),
        member_username(),
        api_key_prefix(),
        equals("transport_session_id", "Mcp-Session-Id"),
    )
    list_select_related = ("tenant", "membership__user", "api_key")
    actions = ["revoke"]
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = [field.name for field in McpSession._meta.fields]

    @admin.display(description="user", ordering="membership__user__username")
    def user(self, obj):
        return obj.membership.user.get_username() if obj.membership else "-"

    @admin.display(description="key", ordering="api_key__prefix")
    def key_prefix(self, obj):
        return obj.api_key.prefix if obj.api_key else "-"

    @admin.action(description="Revoke selected sessions (they end within 2 seconds)")
    def revoke(self, request, queryset):
        ended = 0
        for session in queryset.filter(ended_at__isnull=True):
            mcp_session_revoke(session=session, actor=actor_for(request))
            ended += 1
        messages.success(request, f"Revoked {ended} session(s).")
