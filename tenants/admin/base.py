"""What every tenancy admin shares: writes go through the services, as the acting user."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.utils import timezone

from tenants.admin.paginators import EstimatedCountPaginator
from tenants.audit_summaries import event_summary
from tenants.capabilities import Capability
from tenants.models.audit import AuditAction
from tenants.services import Actor, ServiceError, audit_capture


def actor_for(request) -> Actor:
    return Actor.for_user(request.user, channel=AuditAction.ADMIN_CHANGE)


class CapabilitiesField(forms.TypedMultipleChoiceField):
    """Checkboxes over the fixed capability vocabulary, stored as a JSON list."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", Capability.choices)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value or []


def scope_label(scopes: list[str] | None) -> str:
    if scopes is None:
        return "unrestricted (the role's capabilities)"
    return ", ".join(scopes) if scopes else "no capabilities"


def compact_time(value) -> str:
    """A time as a list column shows it: narrow enough for a 1366 px screen (full precision on the change page)."""
    if value is None:
        return "-"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def history_message(events) -> str:
    """The object History line for what the services audited: the same words as the audit list."""
    return "; ".join(event_summary(event) for event in events)


def run_service(request, call, success: str | None = None, *, history=None) -> bool:
    """Call a service from an admin action; show its refusal as a message instead of an error page.
    With `history` (a model instance), what the service audited also goes to that object's History."""
    with audit_capture() as events:
        try:
            call()
        except ServiceError as exc:
            messages.error(request, exc.message)
            return False
    if history is not None and events:
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=[history],
            action_flag=CHANGE,
            change_message=history_message(events),
            single_object=True,
        )
    if success:
        messages.success(request, success)
    return True


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records the system writes (audit, usage, sessions, outbox): admins look, filter and act, never edit."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceBackedAdmin(admin.ModelAdmin):
    """ModelAdmin whose saves and deletes call services (subclasses implement create/update/delete)."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    def save_model(self, request, obj, form, change):
        with audit_capture() as events:
            self._save_model(request, obj, form, change)
        request._audited = [*getattr(request, "_audited", []), *events]

    def save_related(self, request, form, formsets, change):
        with audit_capture() as events:
            super().save_related(request, form, formsets, change)
        request._audited = [*getattr(request, "_audited", []), *events]

    def log_addition(self, request, obj, message):
        return super().log_addition(request, obj, history_message(getattr(request, "_audited", [])) or message)

    def log_change(self, request, obj, message):
        # History says what the services did ("changed role of alice to viewer"), not which form fields moved.
        return super().log_change(request, obj, history_message(getattr(request, "_audited", [])) or message)

    def _save_model(self, request, obj, form, change):
        saved = self.service_update(request, obj, form) if change else self.service_create(request, obj, form)
        if saved is not None and saved is not obj:
            # The service saved its own instance; make the form's instance match it for inlines and logging.
            obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.service_delete(request, obj)

    def save_formset(self, request, form, formset, change):
        """Route each inline row to save_inline(add|change|delete) so inline writes use services too."""
        actor = actor_for(request)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not getattr(inline_form, "cleaned_data", None):
                continue
            obj = inline_form.instance
            if inline_form.cleaned_data.get("DELETE") and obj.pk and not obj._state.adding:
                self.save_inline(actor, form.instance, formset.model, inline_form, "delete")
                formset.deleted_objects.append(obj)
            elif obj._state.adding:
                self.save_inline(actor, form.instance, formset.model, inline_form, "add")
                formset.new_objects.append(obj)
            elif inline_form.has_changed():
                self.save_inline(actor, form.instance, formset.model, inline_form, "change")
                formset.changed_objects.append((obj, inline_form.changed_data))

    def save_inline(self, actor, parent, model, inline_form, operation: str) -> None:
        raise NotImplementedError

    def service_create(self, request, obj, form):
        raise NotImplementedError

    def service_update(self, request, obj, form):
        raise NotImplementedError

    def service_delete(self, request, obj):
        raise NotImplementedError
