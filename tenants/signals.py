"""Signals the tenancy domain sends for other apps to react to.

tenant_lifecycle is sent inside the transaction of the change, so a receiver that writes
(an event outbox, say) commits or rolls back together with it.
Arguments: tenant, event (one of LifecycleEvent), previous (dict of what changed, may be empty).
"""

from django.db import models
from django.dispatch import Signal

tenant_lifecycle = Signal()


class LifecycleEvent(models.TextChoices):
    ONBOARDED = "onboarded", "Onboarded"
    SUSPENDED = "suspended", "Suspended"
    RESUMED = "resumed", "Resumed"
    OFFBOARDING = "offboarding", "Offboarding started"
    OFFBOARDED = "offboarded", "Offboarded"
    PLAN_CHANGED = "plan_changed", "Plan changed"
