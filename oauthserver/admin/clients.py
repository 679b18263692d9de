from django import forms
from django.contrib import admin

from oauthserver.models import OAuthClient
from oauthserver.services.clients import client_block, client_register, client_unblock
from tenants.admin.base import ServiceBackedAdmin, actor_for, run_service


class ClientState(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("blocked", "Blocked"))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(blocked_at__isnull=True)
        if self.value() == "blocked":
            return queryset.filter(blocked_at__isnull=False)
        return queryset


class RegisteredClientForm(forms.ModelForm):
    redirect_uris = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="One exact redirect URI a line."
    )

    class Meta:
        model = OAuthClient
        fields = ("client_id", "name", "redirect_uris")

    def clean_redirect_uris(self):
        return [line.strip() for line in self.cleaned_data["redirect_uris"].splitlines() if line.strip()]


@admin.register(OAuthClient)
class OAuthClientAdmin(ServiceBackedAdmin):
    """Clients that registered themselves, published a metadata document, or were registered here. Blocking one
    refuses it everywhere and revokes its grants."""

    form = RegisteredClientForm
    list_display = ("__str__", "client_id", "kind", "last_used_at", "blocked_at", "created_at")
    list_filter = ("kind", ClientState, "created_at")
    search_fields = ("client_id", "name")
    actions = ("block_clients", "unblock_clients")
    readonly_fields = (
        "client_id", "name", "kind", "redirect_uris", "metadata", "registered_from", "created_at", "created_by",
        "last_used_at", "blocked_at", "blocked_reason",
    )

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_fields(self, request, obj=None):
        return list(self.readonly_fields) if obj else ["client_id", "name", "redirect_uris"]

    def has_change_permission(self, request, obj=None):
        # The change page shows the client; blocking is an action, and nothing else is edited here.
        return super().has_change_permission(request, obj) and obj is None

    def has_delete_permission(self, request, obj=None):
        return False

    def service_create(self, request, obj, form):
        return client_register(
            client_id=obj.client_id,
            name=obj.name,
            redirect_uris=form.cleaned_data["redirect_uris"],
            actor=actor_for(request),
        )

    @admin.action(description="Block selected clients (and revoke their grants)")
    def block_clients(self, request, queryset):
        actor = actor_for(request)
        done = sum(
            run_service(request, lambda c=client: client_block(client=c, actor=actor, reason="blocked in admin"))
            for client in queryset.filter(blocked_at__isnull=True)
        )
        self.message_user(request, f"Blocked {done} client(s).")

    @admin.action(description="Unblock selected clients")
    def unblock_clients(self, request, queryset):
        actor = actor_for(request)
        done = sum(
            run_service(request, lambda c=client: client_unblock(client=c, actor=actor))
            for client in queryset.filter(blocked_at__isnull=False)
        )
        self.message_user(request, f"Unblocked {done} client(s).")
