import uuid

from django import forms
from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.forms.formsets import DELETION_FIELD_NAME

from tenants.admin.base import ServiceBackedAdmin, actor_for, run_service
from tenants.admin.direct_widgets import DirectCheckboxInput, DirectHiddenInput, DirectSelect, ShownText
from tenants.models import LimitOverride, Membership, Organization, Tenant
from tenants.services import (
    membership_add,
    membership_change_role,
    membership_remove,
    organization_create,
    organization_delete,
    organization_update,
    tenant_change_plan,
    tenant_create,
    tenant_limit_clear,
    tenant_limit_set,
    tenant_offboard,
    tenant_resume,
    tenant_suspend,
    tenant_update,
)


class OrganizationInline(admin.TabularInline):
    model = Organization
    fields = ("slug", "name", "created_at")
    readonly_fields = ("created_at",)
    extra = 0
    show_change_link = True


class MembershipInlineForm(forms.ModelForm):
    """A membership's user is fixed once it exists (no service moves a membership to another user); the row
    shows it disabled, so an edit cannot be offered and then silently dropped. Remove the row and add one."""

    class Meta:
        model = Membership
        fields = ("user", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["user"].disabled = True
            self.fields["user"].help_text = "To give this role to someone else, delete the row and add a member."


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "role")


FIRST_MEMBERS = 20


class FirstMembersFormSet(forms.BaseInlineFormSet):
    """Only the first FIRST_MEMBERS memberships become rows: a tenant with thousands of members opens as fast as
    one with ten. The rest are on the membership list, filtered to this tenant."""

    def get_queryset(self):
        if not hasattr(self, "_first_members"):
            # The first rows' ids are picked from the memberships table alone, then only those rows are joined:
            # with the joins before the LIMIT, PostgreSQL hashed every user of the platform for a big tenant.
            members = super().get_queryset().order_by("user_id")
            first = members.values("pk")[:FIRST_MEMBERS]
            self._first_members = members.filter(pk__in=Subquery(first)).select_related("tenant")
        return self._first_members

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if self.is_bound or i >= self.initial_form_count():
            return form
        # Every row would otherwise query its user's autocomplete label and the list of roles on its own, and
        # render five widgets through templates (most of the page's time): rows write their HTML directly, the
        # fixed user as text, the role as a plain select (its add/change links stay on the new-member row).
        fields = form.fields
        fields["user"].widget = ShownText(form.instance.user.get_username())
        fields["role"].widget = DirectSelect(choices=self._role_choices(fields["role"]))
        for name in (self.fk.name, form._meta.model._meta.pk.name):
            fields[name].widget = DirectHiddenInput()
        if DELETION_FIELD_NAME in fields:
            fields[DELETION_FIELD_NAME].widget = DirectCheckboxInput()
        return form

    def _role_choices(self, field):
        if not hasattr(self, "_roles"):
            self._roles = [choice for choice in field.choices]  # list() would COUNT the roles first for its size
        return self._roles


class BoundedMembershipInline(MembershipInline):
    formset = FirstMembersFormSet
    template = "admin/tenants/tenant/first_members_inline.html"
    first_members = FIRST_MEMBERS


class LimitOverrideInline(admin.TabularInline):
    model = LimitOverride
    fields = ("limit", "value")
    extra = 0


@admin.register(Tenant)
class TenantAdmin(ServiceBackedAdmin):
    list_display = ("slug", "name", "status", "plan", "member_count", "created_at")
    list_filter = ("status", "plan", "created_at")
    # Contains on slug and name (a scan of the tenant table, small next to keys and audit); an id only as a whole
    # UUID: contains on the id cast every tenant's id to text.
    search_fields = ("slug", "name")
    search_help_text = "Slug or name contains the term; a whole tenant id matches that tenant."
    list_select_related = ("plan",)
    readonly_fields = ("id", "status", "status_changed_at", "provisioning_output", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "slug", "name", "plan", "status", "status_changed_at")}),
        ("Signup and provisioning", {"fields": ("registration_data", "provisioning_output"), "classes": ("collapse",)}),
        ("Times", {"fields": ("created_at", "updated_at")}),
    )
    inlines = (OrganizationInline, BoundedMembershipInline, LimitOverrideInline)
    actions = ("suspend_tenants", "resume_tenants", "offboard_tenants")
    # No date_hierarchy: its MIN/MAX and SELECT DISTINCT over the matches ran on every view; the created_at
    # filter in the sidebar narrows by time for free.
    ordering = ("slug",)

    def get_queryset(self, request):
        # A per-row subquery is counted only for the page's rows; a joined COUNT grouped every tenant first.
        members = Membership.objects.filter(tenant=OuterRef("pk")).order_by().values("tenant").annotate(n=Count("pk"))
        tenants = super().get_queryset(request).select_related("plan")  # the tenant page reads the plan's limits
        return tenants.annotate(member_count=Coalesce(Subquery(members.values("n")), 0))

    def get_search_results(self, request, queryset, search_term):
        try:
            return queryset.filter(pk=uuid.UUID(search_term.strip())), False
        except ValueError:
            return super().get_search_results(request, queryset, search_term)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "slug"] if obj else fields

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    def service_create(self, request, obj, form):
        return tenant_create(
            slug=obj.slug, name=obj.name, plan=obj.plan, registration_data=obj.registration_data, actor=actor_for(request)
        )

    def service_update(self, request, obj, form):
        actor = actor_for(request)
        stored = Tenant.objects.get(pk=obj.pk)
        if "plan" in form.changed_data:
            tenant_change_plan(tenant=stored, plan=obj.plan, actor=actor)
        return tenant_update(tenant=stored, name=obj.name, registration_data=obj.registration_data, actor=actor)

    def has_delete_permission(self, request, obj=None):
        # Tenants are offboarded, never deleted: their audit trail must stay.
        return False

    def save_inline(self, actor, tenant, model, inline_form, operation):
        obj = inline_form.instance
        stored = model.objects.get(pk=obj.pk) if operation != "add" else None
        if model is Organization:
            if operation == "delete":
                organization_delete(organization=stored, actor=actor)
            elif operation == "add":
                organization_create(tenant=tenant, slug=obj.slug, name=obj.name, actor=actor)
            else:
                organization_update(organization=stored, name=obj.name, actor=actor)
        elif model is Membership:
            if operation == "delete":
                membership_remove(membership=stored, actor=actor)
            elif operation == "add":
                membership_add(tenant=tenant, user=obj.user, role=obj.role, actor=actor)
            elif "role" in inline_form.changed_data:
                membership_change_role(membership=stored, role=obj.role, actor=actor)
        elif model is LimitOverride:
            if operation in ("delete", "change"):
                tenant_limit_clear(tenant=tenant, limit=stored.limit, actor=actor)
            if operation in ("add", "change"):
                tenant_limit_set(tenant=tenant, limit=obj.limit, value=obj.value, actor=actor)

    def _apply(self, request, queryset, service, verb):
        actor = actor_for(request)
        done = sum(
            run_service(request, lambda t=tenant: service(tenant=t, actor=actor), history=tenant)
            for tenant in queryset.order_by("slug")
        )
        if done:
            self.message_user(request, f"{verb} {done} tenant(s).")

    @admin.action(description="Suspend selected tenants (access ends at once)")
    def suspend_tenants(self, request, queryset):
        self._apply(request, queryset, tenant_suspend, "Suspended")

    @admin.action(description="Resume selected tenants")
    def resume_tenants(self, request, queryset):
        self._apply(request, queryset, tenant_resume, "Resumed")

    @admin.action(description="Offboard selected tenants (purges their data)")
    def offboard_tenants(self, request, queryset):
        self._apply(request, queryset, tenant_offboard, "Started offboarding of")
