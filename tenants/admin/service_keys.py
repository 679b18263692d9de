from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse

from tenants.admin.api_keys import KeyState
from tenants.admin.base import CapabilitiesField, ServiceBackedAdmin, actor_for, run_service
from tenants.models import PlatformServiceKey, ServiceAccount
from tenants.platform_capabilities import PlatformCapability
from tenants.services import (
    service_account_create,
    service_account_update,
    service_key_issue,
    service_key_revoke,
    service_key_rotate,
)


@admin.register(ServiceAccount)
class ServiceAccountAdmin(ServiceBackedAdmin):
    list_display = ("name", "description", "created_at", "created_by")
    search_fields = ("name", "description")
    readonly_fields = ("created_at", "created_by")

    def get_readonly_fields(self, request, obj=None):
        # The name is the identity in the audit log, so it never changes.
        return (*self.readonly_fields, "name") if obj else ()

    def get_fields(self, request, obj=None):
        return ["name", "description", *self.readonly_fields] if obj else ["name", "description"]

    def has_delete_permission(self, request, obj=None):
        return False

    def service_create(self, request, obj, form):
        return service_account_create(name=obj.name, description=obj.description, actor=actor_for(request))

    def service_update(self, request, obj, form):
        return service_account_update(account=obj, description=obj.description, actor=actor_for(request))


class PlatformServiceKeyForm(forms.ModelForm):
    capabilities = CapabilitiesField(
        choices=PlatformCapability.choices, required=True, help_text="What provisioning automation may do with it."
    )

    class Meta:
        model = PlatformServiceKey
        fields = ("account", "name", "capabilities", "expires_at")


@admin.register(PlatformServiceKey)
class PlatformServiceKeyAdmin(ServiceBackedAdmin):
    """Issued here and shown once; never edited afterwards (rotate or revoke instead)."""

    form = PlatformServiceKeyForm
    list_display = ("prefix", "name", "account", "capabilities", "expires_at", "revoked_at", "last_used_at")
    list_filter = (KeyState, "created_at")
    search_fields = ("prefix", "name", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    actions = ("revoke_keys", "rotate_keys")
    readonly_fields = (
        "account", "name", "capabilities", "expires_at", "prefix", "created_at", "created_by", "last_used_at",
        "revoked_at", "revoked_reason",
    )

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_fields(self, request, obj=None):
        return list(self.readonly_fields) if obj else ["account", "name", "capabilities", "expires_at"]

    def has_change_permission(self, request, obj=None):
        # Viewing the change page stays possible; nothing on it can be saved.
        return super().has_change_permission(request, obj) and obj is None

    def has_delete_permission(self, request, obj=None):
        return False

    def service_create(self, request, obj, form):
        key, raw = service_key_issue(
            account=obj.account,
            name=obj.name,
            capabilities=form.cleaned_data["capabilities"],
            expires_at=obj.expires_at,
            actor=actor_for(request),
        )
        request._issued_service_keys = [(key, raw)]
        return key

    def response_add(self, request, obj, post_url_continue=None):
        return self._show_raw_keys(request, request._issued_service_keys)

    def _show_raw_keys(self, request, issued):
        """The only place a raw service key is ever shown: rendered once, never stored (not even in a message)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Copy the new platform service key now",
            "issued": issued,
        }
        response = TemplateResponse(request, "admin/tenants/platformservicekey/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset):
        actor = actor_for(request)
        def revoke(key):
            return lambda: service_key_revoke(service_key=key, actor=actor, reason="revoked in admin")

        done = sum(
            run_service(request, revoke(key), history=key) for key in queryset.filter(revoked_at__isnull=True)
        )
        self.message_user(request, f"Revoked {done} key(s).")

    @admin.action(description="Rotate selected keys (revoke and issue replacements)")
    def rotate_keys(self, request, queryset):
        actor = actor_for(request)
        issued = []
        for key in queryset.filter(revoked_at__isnull=True).select_related("account"):
            run_service(
                request, lambda k=key: issued.append(service_key_rotate(service_key=k, actor=actor)), history=key
            )
        if issued:
            return self._show_raw_keys(request, issued)
        self.message_user(request, "No active key was selected.")
        return None
