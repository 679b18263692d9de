from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from tenants.admin.base import CapabilitiesField, ServiceBackedAdmin, actor_for, run_service, scope_label
from tenants.admin.client_configs import client_configs
from tenants.admin.issued_keys import issued_keys_stash, issued_keys_take
from tenants.admin.search import IndexedSearchMixin, equals, member_username, tenant_members
from tenants.models import ApiKey
from tenants.services import api_key_issue, api_key_revoke, api_key_rotate, api_key_update


class ScopeMode(models.TextChoices):
    ROLE = "role", "Unrestricted: whatever the member's role grants, now and after role changes"
    LISTED = "listed", "Only the capabilities ticked below (none ticked: no capabilities at all)"


class ApiKeyForm(forms.ModelForm):
    scope_mode = forms.ChoiceField(
        label="Scope", choices=ScopeMode.choices, widget=forms.RadioSelect,
        help_text="Pick one: an unrestricted key is never the result of leaving the boxes below empty.",
    )
    scopes = CapabilitiesField(label="Capabilities", help_text="Used only for \"Only the capabilities ticked\".")

    class Meta:
        model = ApiKey
        fields = ("membership", "name", "scope_mode", "scopes", "default_org", "expires_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["scope_mode"].initial = ScopeMode.ROLE if self.instance.scopes is None else ScopeMode.LISTED

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("scope_mode")
        if mode == ScopeMode.ROLE:
            if cleaned.get("scopes"):
                self.add_error("scopes", "Untick these, or choose \"Only the capabilities ticked below\".")
            cleaned["scopes"] = None
        elif mode == ScopeMode.LISTED:
            cleaned["scopes"] = list(cleaned.get("scopes") or [])
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
class ApiKeyAdmin(IndexedSearchMixin, ServiceBackedAdmin):
    form = ApiKeyForm
    list_display = ("prefix", "name", "member", "tenant", "scope", "revoked_at", "last_used_at")
    list_filter = (KeyState, "created_at", "membership__tenant__status")
    search_on = (equals("prefix", "key prefix"), member_username(), tenant_members())
    list_select_related = ("membership__user", "membership__tenant")
    autocomplete_fields = ("membership", "default_org")
    actions = ("revoke_keys", "rotate_keys")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at", "revoked_reason")
    change_form_template = "admin/tenants/apikey/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "membership") if obj else ()

    def get_fields(self, request, obj=None):
        fields = ["membership", "name", "scope_mode", "scopes", "default_org", "expires_at"]
        return fields + list(self.readonly_fields) if obj else fields

    @admin.display(description="Member", ordering="membership__user__username")
    def member(self, obj):
        return obj.membership.user

    @admin.display(description="Scope")
    def scope(self, obj):
        return scope_label(obj.scopes)

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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        key = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if key is not None and key.revoked_at is None:
            extra_context["client_configs"] = client_configs(prefix=key.prefix, tenant_slug=key.membership.tenant.slug)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        show = self.admin_site.admin_view(require_GET(self.issued_view))
        return [path("issued/<str:token>/", show, name="tenants_apikey_issued"), *super().get_urls()]

    def response_add(self, request, obj, post_url_continue=None):
        return self._redirect_to_issued(request, request._issued_keys)

    def _redirect_to_issued(self, request, issued):
        """POST-redirect-GET: the raw keys are shown by a GET that finds them only once."""
        token = issued_keys_stash(request, issued)
        return HttpResponseRedirect(reverse("admin:tenants_apikey_issued", args=[token]))

    def issued_view(self, request, token):
        """The only place a raw key is ever shown; a reload says it was already shown and creates nothing."""
        issued = issued_keys_take(request, token)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Copy the new API key now" if issued else "This key was already shown",
            "issued": [
                (key, raw, client_configs(prefix=key.prefix, tenant_slug=key.membership.tenant.slug, raw_key=raw))
                for key, raw in issued or []
            ],
        }
        response = TemplateResponse(request, "admin/tenants/apikey/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset):
        actor = actor_for(request)
        done = sum(
            run_service(
                request, lambda k=key: api_key_revoke(api_key=k, actor=actor, reason="revoked in admin"), history=key
            )
            for key in queryset.filter(revoked_at__isnull=True)
        )
        self.message_user(request, f"Revoked {done} key(s).")

    @admin.action(description="Rotate selected keys (revoke and issue replacements)")
    def rotate_keys(self, request, queryset):
        actor = actor_for(request)
        issued = []
        for key in queryset.filter(revoked_at__isnull=True).select_related("membership"):
            run_service(request, lambda k=key: issued.append(api_key_rotate(api_key=k, actor=actor)), history=key)
        if issued:
            return self._redirect_to_issued(request, issued)
        self.message_user(request, "No active key was selected.")
        return None
