from django.contrib import admin

from oauthserver.models import OAuthGrant
from oauthserver.services.grants import grant_revoke
from tenants.admin.base import ReadOnlyAdmin, actor_for, run_service


class GrantState(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("revoked", "Revoked"))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, api_key__revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.exclude(revoked_at__isnull=True, api_key__revoked_at__isnull=True)
        return queryset


@admin.register(OAuthGrant)
class OAuthGrantAdmin(ReadOnlyAdmin):
    """Who let which client act where. Revoking refuses the grant's tokens on the next call in every process."""

    list_display = ("user", "tenant", "context", "client", "scopes", "created_at", "last_used_at", "revoked_at")
    list_filter = (GrantState, "membership__tenant", "created_at")
    search_fields = ("membership__user__username", "membership__tenant__slug", "client__client_id", "client__name")
    list_select_related = (
        "membership__user", "membership__tenant", "membership__role", "organization", "client", "api_key"
    )
    actions = ("revoke_grants",)

    def has_change_permission(self, request, obj=None):
        # Actions need change permission; the change page itself saves nothing (every field is read-only).
        return request.user.has_perm("oauthserver.change_oauthgrant")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.display(ordering="membership__user__username")
    def user(self, grant):
        return grant.membership.user

    @admin.display(ordering="membership__tenant__slug")
    def tenant(self, grant):
        return grant.membership.tenant

    @admin.display(description="context")
    def context(self, grant):
        return f"org:{grant.organization.slug}" if grant.organization else "personal"

    @admin.display(description="last used")
    def last_used_at(self, grant):
        return grant.api_key.last_used_at

    @admin.action(description="Revoke selected grants")
    def revoke_grants(self, request, queryset):
        actor = actor_for(request)
        done = sum(
            run_service(request, lambda g=grant: grant_revoke(grant=g, actor=actor, reason="revoked in admin"))
            for grant in queryset.filter(revoked_at__isnull=True)
        )
        self.message_user(request, f"Revoked {done} grant(s).")
