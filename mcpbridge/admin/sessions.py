from django.contrib import admin, messages

from mcpbridge.models import McpSession
from mcpbridge.services.sessions import mcp_session_revoke
from tenants.admin.base import ReadOnlyAdmin, actor_for, compact_time, run_service
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

    # Fits 1366 px; protocol version, start and end times are on the session's page.
    list_display = ("session", "tenant", "user", "key_prefix", "client_name", "last_seen", "requests", "state")
    list_display_links = ("session",)
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

    @admin.display(description="session", ordering="started_at")
    def session(self, obj):
        return f"{obj.transport} {str(obj.id)[:8]}"

    @admin.display(description="requests", ordering="request_count")
    def requests(self, obj):
        return obj.request_count

    @admin.display(description="last seen", ordering="last_seen_at")
    def last_seen(self, obj):
        return compact_time(obj.last_seen_at)

    @admin.display(description="state", ordering="ended_at")
    def state(self, obj):
        return "open" if obj.is_open else obj.get_end_reason_display() or "ended"

    @admin.display(description="user", ordering="membership__user__username")
    def user(self, obj):
        return obj.membership.user.get_username() if obj.membership else "-"

    @admin.display(description="key", ordering="api_key__prefix")
    def key_prefix(self, obj):
        return obj.api_key.prefix if obj.api_key else "-"

    @admin.action(description="Revoke selected sessions (they end within 2 seconds)")
    def revoke(self, request, queryset):
        ended = sum(
            run_service(request, lambda s=session: mcp_session_revoke(session=s, actor=actor_for(request)), history=session)
            for session in queryset.filter(ended_at__isnull=True)
        )
        messages.success(request, f"Revoked {ended} session(s).")
