from django import forms
from django.contrib import admin

from tenants.admin.base import CapabilitiesField, ServiceBackedAdmin, actor_for
from tenants.models import Role
from tenants.services import role_create, role_delete, role_update


class RoleForm(forms.ModelForm):
    capabilities = CapabilitiesField()

    class Meta:
        model = Role
        fields = ("slug", "name", "description", "capabilities")


@admin.register(Role)
class RoleAdmin(ServiceBackedAdmin):
    form = RoleForm
    list_display = ("slug", "name", "is_builtin", "capability_list")
    list_filter = ("is_builtin",)
    search_fields = ("slug", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("slug", "is_builtin") if obj else ("is_builtin",)

    @admin.display(description="Capabilities")
    def capability_list(self, obj):
        return ", ".join(obj.capabilities)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_builtin

    def service_create(self, request, obj, form):
        return role_create(
            slug=obj.slug,
            name=obj.name,
            description=obj.description,
            capabilities=form.cleaned_data["capabilities"],
            actor=actor_for(request),
        )

    def service_update(self, request, obj, form):
        return role_update(
            role=obj,
            name=obj.name,
            description=obj.description,
            capabilities=form.cleaned_data["capabilities"],
            actor=actor_for(request),
        )

    def service_delete(self, request, obj):
        role_delete(role=obj, actor=actor_for(request))
