from rest_framework import serializers

from mcpbridge.models import McpSession


class McpSessionSerializer(serializers.ModelSerializer):
    is_open = serializers.BooleanField(read_only=True)
    end_reason = serializers.ChoiceField(
        choices=McpSession.EndReason.choices, allow_blank=True, read_only=True, help_text="Empty while open."
    )

    class Meta:
        model = McpSession
        fields = ["id", "tenant", "membership", "api_key", "transport", "protocol_version", "client_name",
                  "client_version", "started_at", "last_seen_at", "ended_at", "end_reason", "revoke_requested_at",
                  "request_count", "is_open"]
        read_only_fields = fields
