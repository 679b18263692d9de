import django_filters as filters

from mcpbridge.models import McpSession


class McpSessionFilter(filters.FilterSet):
    tenant = filters.UUIDFilter(field_name="tenant_id")
    api_key = filters.UUIDFilter(field_name="api_key_id")
    open = filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull", help_text="Only sessions still open.")
    transport = filters.ChoiceFilter(choices=McpSession.Transport.choices)

    class Meta:
        model = McpSession
        fields = ["tenant", "api_key", "open", "transport"]
