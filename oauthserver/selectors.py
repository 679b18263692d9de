"""Reads of the OAuth domain that the consent page, the provider and the admin share."""

from dataclasses import dataclass

from django.utils import timezone

from oauthserver.models import AuthorizationRequest, OAuthClient
from tenants.models import Membership, Organization, OrgMembership
from tenants.models.tenants import TenantStatus


@dataclass(frozen=True)
class ConsentChoice:
    """One tenant and context the signed-in person may grant the client, with what the grant would hold."""

    key: str
    membership: Membership
    organization: Organization | None
    role: str
    role_capabilities: frozenset[str]
    requested: frozenset[str]

    @property
    def granted(self) -> frozenset[str]:
        return self.requested & self.role_capabilities

    @property
    def tenant_label(self) -> str:
        tenant = self.membership.tenant
        return f"{tenant.name} ({tenant.slug})" if tenant.name else tenant.slug

    @property
    def context_label(self) -> str:
        return f"organization {self.organization.name}" if self.organization else "personal"


def client_usable(*, client_id: str) -> OAuthClient | None:
    """The client with this id unless staff blocked it."""
    return OAuthClient.objects.filter(client_id=client_id, blocked_at__isnull=True).first()


def authorization_request_open(*, request_id) -> AuthorizationRequest | None:
    return (
        AuthorizationRequest.objects.select_related("client")
        .filter(pk=request_id, answered_at__isnull=True, expires_at__gt=timezone.now(), client__blocked_at__isnull=True)
        .first()
    )


def consent_choices(*, user, requested: frozenset[str] | None) -> list[ConsentChoice]:
    """Every (tenant, context) of the user's active tenants. `requested` None: the client asked for no scope,
    so it is offered what the role grants (always an explicit set, never "unrestricted")."""
    choices = []
    memberships = (
        Membership.objects.filter(user=user, tenant__status=TenantStatus.ACTIVE)
        .select_related("tenant", "role")
        .order_by("tenant__slug")
    )
    for membership in memberships:
        role_caps = frozenset(membership.role.capabilities)
        choices.append(
            ConsentChoice(
                key=f"{membership.pk}:personal",
                membership=membership,
                organization=None,
                role=membership.role.slug,
                role_capabilities=role_caps,
                requested=role_caps if requested is None else requested,
            )
        )
        org_memberships = (
            OrgMembership.objects.filter(membership=membership).select_related("organization", "role").order_by(
                "organization__slug"
            )
        )
        for om in org_memberships:
            org_caps = frozenset(om.role.capabilities)
            choices.append(
                ConsentChoice(
                    key=f"{membership.pk}:{om.organization_id}",
                    membership=membership,
                    organization=om.organization,
                    role=om.role.slug,
                    role_capabilities=org_caps,
                    requested=org_caps if requested is None else requested,
                )
            )
    return choices
