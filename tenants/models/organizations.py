import uuid

from django.db import models


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="organizations")
    slug = models.SlugField(max_length=63)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="unique_org_slug_per_tenant")]
        ordering = ["tenant", "slug"]

    def __str__(self):
        return f"{self.tenant.slug}/{self.slug}" if self.tenant_id else self.slug


class OrgMembership(models.Model):
    """A tenant member's place in one of the tenant's organizations; the org role applies in its context."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    membership = models.ForeignKey("tenants.Membership", on_delete=models.CASCADE, related_name="org_memberships")
    role = models.ForeignKey("tenants.Role", on_delete=models.PROTECT, related_name="org_memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "membership"], name="unique_org_membership")
        ]
        ordering = ["organization", "membership"]

    def __str__(self):
        return f"{self.membership.user} in {self.organization.slug} ({self.role})"
