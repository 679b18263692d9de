from django.contrib import admin

from tenants.admin.base import ServiceBackedAdmin, actor_for
from tenants.models import Organization, OrgMembership
from tenants.services import (
    org_membership_add,
    org_membership_change_role,
    org_membership_remove,
    organization_create,
    organization_delete,
    organization_update,
)


class OrgMembershipInline(admin.TabularInline):
    model = OrgMembership
    fields = ("membership", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("membership",)
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("membership__user", "membership__tenant", "role")


@admin.register(Organization)
class OrganizationAdmin(ServiceBackedAdmin):
    list_display = ("slug", "name", "tenant", "created_at")
    list_filter = ("tenant__status",)
    search_fields = ("slug", "name", "tenant__slug")
    list_select_related = ("tenant",)
    autocomplete_fields = ("tenant",)
    inlines = (OrgMembershipInline,)

    def get_readonly_fields(self, request, obj=None):
        return ("tenant", "slug") if obj else ()

    def service_create(self, request, obj, form):
        return organization_create(tenant=obj.tenant, slug=obj.slug, name=obj.name, actor=actor_for(request))

    def service_update(self, request, obj, form):
        return organization_update(organization=obj, name=obj.name, actor=actor_for(request))

    def service_delete(self, request, obj):
        organization_delete(organization=obj, actor=actor_for(request))

    def save_inline(self, actor, organization, model, inline_form, operation):
        obj = inline_form.instance
        if operation == "add":
            org_membership_add(organization=organization, membership=obj.membership, role=obj.role, actor=actor)
            return
        stored = OrgMembership.objects.get(pk=obj.pk)
        if operation == "delete":
            org_membership_remove(org_membership=stored, actor=actor)
        elif "role" in inline_form.changed_data:
            org_membership_change_role(org_membership=stored, role=obj.role, actor=actor)
