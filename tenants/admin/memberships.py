from django.contrib import admin
from django.urls import path

from tenants.admin.base import ReadOnlyAdmin, ServiceBackedAdmin, actor_for, scope_label
from tenants.admin.explain import explain_access_view
from tenants.admin.paginators import KeysFirstPaginator
from tenants.admin.search import IndexedSearchMixin, tenant_slug, user_username
from tenants.models import ApiKey, Membership, OrgMembership
from tenants.services import membership_add, membership_change_role, membership_remove


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ("prefix", "name", "scope", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    @admin.display(description="Scope")
    def scope(self, obj):
        return scope_label(obj.scopes)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(IndexedSearchMixin, ServiceBackedAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role", "tenant__status")
    search_on = (user_username(), tenant_slug())
    # Model ordering ("tenant", "user") follows Tenant's own ordering: a join and a sort of every membership.
    # The unique (tenant, user) index gives this order for free, still grouped by tenant.
    ordering = ("tenant_id", "user_id")
    paginator = KeysFirstPaginator
    list_select_related = ("user", "tenant", "role")
    autocomplete_fields = ("tenant", "user")
    inlines = (ApiKeyInline,)

    def get_readonly_fields(self, request, obj=None):
        return ("tenant", "user") if obj else ()

    def get_urls(self):
        explain = self.admin_site.admin_view(lambda request: explain_access_view(request, self))
        return [path("explain-access/", explain, name="tenants_explain_access"), *super().get_urls()]

    def service_create(self, request, obj, form):
        return membership_add(tenant=obj.tenant, user=obj.user, role=obj.role, actor=actor_for(request))

    def service_update(self, request, obj, form):
        if "role" in form.changed_data:
            return membership_change_role(membership=obj, role=obj.role, actor=actor_for(request))
        return obj

    def service_delete(self, request, obj):
        membership_remove(membership=obj, actor=actor_for(request))

    def save_inline(self, actor, membership, model, inline_form, operation):
        pass  # the key inline is read-only


@admin.register(OrgMembership)
class OrgMembershipAdmin(ReadOnlyAdmin):
    """Overview; org memberships are edited on the organization page."""

    list_display = ("membership", "organization", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("membership__user__username", "organization__slug", "organization__tenant__slug")
    list_select_related = ("membership__user", "membership__tenant", "membership__role", "organization__tenant", "role")
