from rest_framework import serializers

from tenants.api.caller import Caller
from tenants.api.scoping import restrict


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A reference to a row the caller can see; another tenant's id is answered as "does not exist"."""

    def __init__(self, *, tenant_path: str, **kwargs):
        self.tenant_path = tenant_path
        super().__init__(**kwargs)

    def get_queryset(self):
        return restrict(super().get_queryset(), Caller.of(self.context["request"]), self.tenant_path)


class SlugReferenceField(serializers.SlugRelatedField):
    """A reference by slug that refuses NUL characters before they reach the database (PostgreSQL rejects them)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)
