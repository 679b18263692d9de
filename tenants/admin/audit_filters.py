"""The audit list's filters that take typed input: tenant, actor and a time range (from, until).

Each is a text box in the filter sidebar whose form carries the other active filters along; a value that
cannot be read is reported as a message and ignored rather than answered with an error page."""

from datetime import datetime, time

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


class InputFilter(admin.SimpleListFilter):
    template = "admin/tenants/input_filter.html"
    placeholder = ""

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.request = request

    def lookups(self, request, model_admin):
        # SimpleListFilter shows itself only when lookups() returns something; the choices are typed, not listed.
        return ((None, ""),)

    def has_output(self):
        return True

    def choices(self, changelist):
        carried = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name != self.parameter_name
            for value in values
        ]
        yield {"carried": carried, "value": self.value() or "", "placeholder": self.placeholder}


class TenantFilter(InputFilter):
    title = "tenant (slug)"
    parameter_name = "tenant_slug"
    placeholder = "acme"

    def queryset(self, request, queryset):
        return queryset.filter(tenant__slug=self.value().strip()) if self.value() else queryset


class ActorFilter(InputFilter):
    title = "actor"
    parameter_name = "actor_is"
    placeholder = "alice, user:alice, key:cpk_…"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if ":" in value:
            return queryset.filter(actor=value)
        # A bare name matches whichever kind of actor carries it (an exact match each, so the index-free
        # column is still compared by equality, not scanned for substrings).
        return queryset.filter(actor__in=[value, f"user:{value}", f"key:{value}", f"service-key:{value}"])


def _moment(text: str, *, end_of_day: bool) -> datetime | None:
    stamp = parse_datetime(text)
    if stamp is None:
        day = parse_date(text)
        if day is None:
            return None
        stamp = datetime.combine(day, time.max if end_of_day else time.min)
    return timezone.make_aware(stamp) if timezone.is_naive(stamp) else stamp


class _TimeFilter(InputFilter):
    end_of_day = False
    lookup = ""
    placeholder = "2026-01-31T14:00"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        try:
            moment = _moment(value, end_of_day=self.end_of_day)
        except ValueError:
            moment = None
        if moment is None:
            messages.warning(
                self.request, f"Ignored {self.title} {value!r}: write a date (2026-01-31) or a date and time (2026-01-31T14:00)."
            )
            return queryset
        return queryset.filter(**{self.lookup: moment})


class SinceFilter(_TimeFilter):
    title = "time from"
    parameter_name = "since"
    lookup = "created_at__gte"


class UntilFilter(_TimeFilter):
    title = "time until"
    parameter_name = "until"
    lookup = "created_at__lte"
    end_of_day = True
