from django.contrib import admin, messages

from mcpbridge.models import OutboxEvent
from mcpbridge.services.outbox import outbox_retry
from tenants.admin.base import ReadOnlyAdmin
from tenants.services import Actor


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "detail_type", "bus", "tenant_id", "status", "attempts", "outages", "next_attempt_at", "created_at")
    list_filter = ("status", "bus")
    search_fields = ("event_id", "tenant_id", "detail_type")
    # Event details are tenant payloads: the admin shows where an event stands, not what it says.
    readonly_fields = (
        "seq", "event_id", "tenant_id", "bus", "source", "detail_type", "status", "attempts", "outages",
        "next_attempt_at", "claimed_until", "last_error", "created_at", "delivered_at",
    )
    exclude = ("detail", "claim_token")
    actions = ("retry_parked",)


    @admin.action(description="Retry the selected parked events", permissions=["view"])
    def retry_parked(self, request, queryset):
        count = outbox_retry(events=list(queryset), actor=Actor.for_user(request.user))
        self.message_user(request, f"{count} parked event(s) put back in line.", messages.SUCCESS)
