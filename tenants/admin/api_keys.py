from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse

from tenants.admin.base import CapabilitiesField, ServiceBackedAdmin, actor_for, run_service
from tenants.models import ApiKey
from tenants.services import api_key_issue, api_key_revoke, api_key_rotate, api_key_update


class ApiKeyForm(forms.ModelForm):
    scopes = CapabilitiesField(help_text="Leave all unticked for the member's full role.")

    class Meta:
        model = ApiKey
        fields = ("membership", "name", "scopes", "default_org", "expires_at")

    def clean(self):
        cleaned = super().clean()
        membership, org = cleaned.get("membership") or self.instance_membership(), cleaned.get("default_org")
        if org and membership and org.tenant_id != membership.tenant_id:
            self.add_error("default_org", "Pick an organization of the member's tenant.")
        return cleaned

    def instance_membership(self):
        return self.instance.membership if self.instance.membership_id else None


class KeyState(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("revoked", "Revoked"))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceBackedAdmin):
    form = ApiKeyForm
    list_display = ("prefix", "name", "member", "tenant", "revoked_at", "last_used_at")
    list_filter = (KeyState, "created_at", "membership__tenant__status")
    search_fields = ("prefix", "name", "membership__user__username", "membership__tenant__slug")
    list_select_related = ("membership__user", "membership__tenant")
    autocomplete_fields = ("membership", "default_org")
    actions = ("revoke_keys", "rotate_keys")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at", "revoked_reason")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "membership") if obj else ()

    def get_fields(self, request, obj=None):
        fields = ["membership", "name", "scopes", "default_org", "expires_at"]
        return fields + list(self.readonly_fields) if obj else fields

    @admin.display(description="Member", ordering="membership__user__username")
    def member(self, obj):
        return obj.membership.user

    @admin.display(description="Tenant", ordering="membership__tenant__slug")
    def tenant(self, obj):
        return obj.membership.tenant

    def has_delete_permission(self, request, obj=None):
        # Keys are revoked, not deleted, so the audit trail keeps pointing at something.
        return False

    def service_create(self, request, obj, form):
        key, raw = api_key_issue(
            membership=obj.membership,
            name=obj.name,
            scopes=form.cleaned_data["scopes"],
            default_org=obj.default_org,
            expires_at=obj.expires_at,
            actor=actor_for(request),
        )
        request._issued_keys = [(key, raw)]
        return key

    def service_update(self, request, obj, form):
        return api_key_update(
            api_key=obj,
            name=obj.name,
            scopes=form.cleaned_data["scopes"],
            default_org=obj.default_org,
            expires_at=obj.expires_at,
            actor=actor_for(request),
        )

    def response_add(self, request, obj, post_url_continue=None):
        return self._show_raw_keys(request, request._issued_keys)

    def _show_raw_keys(self, request, issued):
        """The only place a raw key is ever shown: rendered once, never stored (not even in a message)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Copy the new API key now",
            "issued": issued,
        }
        response = TemplateResponse(request, "admin/tenants/apikey/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset):
        actor = actor_for(request)
        done = sum(
            run_service(request, lambda k=key: api_key_revoke(api_key=k, actor=actor, reason="revoked in admin"))
            for key in queryset.filter(revoked_at__isnull=True)
        )
        self.message_user(request, f"Revoked {done} key(s).")

    @admin.action(description="Rotate selected keys (revoke and issue replacements)")
    def rotate_keys(self, request, queryset):
        actor = actor_for(request)
        issued = []
        for key in queryset.filter(revoked_at__isnull=True).select_related("membership"):
            run_service(request, lambda k=key: issued.append(api_key_rotate(api_key=k, actor=actor)))
        if issued:
            return self._show_raw_keys(request, issued)
        self.message_user(request, "No active key was selected.")
        return None
