from django.contrib import admin, messages

from mcpbridge.models import OutboxEvent
from mcpbridge.services.outbox import outbox_retry
from tenants.admin.base import ReadOnlyAdmin, compact_time
from tenants.services import Actor


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    # Fits 1366 px; bus, outages and the next attempt are on the event's page.
    list_display = ("seq", "detail_type", "tenant", "status", "attempts", "created")
    list_filter = ("status", "bus")
    search_fields = ("event_id", "tenant_id", "detail_type")
    # Event details are tenant payloads: the admin shows where an event stands, not what it says.
    readonly_fields = (
        "seq", "event_id", "tenant_id", "bus", "source", "detail_type", "status", "attempts", "outages",
        "next_attempt_at", "claimed_until", "last_error", "created_at", "delivered_at",
    )
    exclude = ("detail", "claim_token")
    actions = ("retry_parked",)


    @admin.display(description="tenant", ordering="tenant_id")
    def tenant(self, obj):
        return str(obj.tenant_id)[:8]

    @admin.display(description="created", ordering="created_at")
    def created(self, obj):
        return compact_time(obj.created_at)

    @admin.action(description="Retry the selected parked events", permissions=["view"])
    def retry_parked(self, request, queryset):
        count = outbox_retry(events=list(queryset), actor=Actor.for_user(request.user))
        self.message_user(request, f"{count} parked event(s) put back in line.", messages.SUCCESS)
