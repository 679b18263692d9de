"""Read-only records: the audit log and usage counters."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins

from tenants.api import serializers as s
from tenants.api.filters import AuditEventFilter, UsageCounterFilter
from tenants.api.viewsets import ScopedViewSet
from tenants.models import AuditEvent, UsageCounter


@extend_schema(tags=["audit and usage"])
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Append-only audit events. Events without a tenant (plan and role changes) are visible to staff only."""

    queryset = AuditEvent.objects.all()
    serializer_class = s.AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["created_at", "id", "action", "outcome"]
    ordering = ["-created_at", "-id"]


@extend_schema(tags=["audit and usage"])
class UsageCounterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Usage per tenant, metric and day (UTC)."""

    queryset = UsageCounter.objects.all()
    serializer_class = s.UsageCounterSerializer
    filterset_class = UsageCounterFilter
    ordering_fields = ["day", "metric", "value"]
    ordering = ["-day", "metric"]
