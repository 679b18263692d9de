"""A resolved caller: who it is, in which tenant and context, what it may do, within which limits."""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Mapping

from tenants.policy.errors import ContextNotAllowed


@dataclass(frozen=True)
class OrgGrant:
    org_id: str
    org_slug: str
    org_name: str
    role: str
    role_capabilities: frozenset[str]


@dataclass(frozen=True)
class Context:
    kind: Literal["personal", "org"]
    org_id: str | None = None
    org_slug: str | None = None

    @classmethod
    def personal(cls) -> "Context":
        return cls("personal")

    def __str__(self):
        return "personal" if self.kind == "personal" else f"org:{self.org_slug}"


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    tenant_slug: str
    tenant_name: str
    tenant_status: str
    plan_slug: str
    user_id: int
    username: str
    membership_id: str
    api_key_id: str
    key_prefix: str
    key_digest: str
    key_expires_at: datetime | None
    role: str
    role_capabilities: frozenset[str]
    key_scope: frozenset[str] | None
    org_grants: tuple[OrgGrant, ...]
    limits: Mapping[str, int]
    policy_version: int
    context: Context = field(default_factory=Context.personal)
    # Set when the call came with an OAuth access token: the client the person consented to.
    oauth_client: str | None = None

    @property
    def context_role(self) -> str:
        grant = self._grant()
        return grant.role if grant else self.role

    @property
    def capabilities(self) -> frozenset[str]:
        """Effective capabilities in the current context: the context's role ∩ the key's scope."""
        grant = self._grant()
        return self._scoped(grant.role_capabilities if grant else self.role_capabilities)

    @property
    def personal_capabilities(self) -> frozenset[str]:
        """What the key may do in the personal context (what it may hand on), whatever context it acts in."""
        return self._scoped(self.role_capabilities)

    def _scoped(self, granted: frozenset[str]) -> frozenset[str]:
        return granted if self.key_scope is None else granted & self.key_scope

    @property
    def namespace(self) -> str:
        """Storage prefix built from immutable ids only: tenant first, then the context."""
        if self.context.kind == "org":
            return f"t/{self.tenant_id}/o/{self.context.org_id}"
        return f"t/{self.tenant_id}/u/{self.user_id}"

    @property
    def actor_label(self) -> str:
        if self.oauth_client:
            return f"oauth:{self.oauth_client}"[:200]
        return f"key:{self.key_prefix}"

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def find_org(self, org: str) -> OrgGrant | None:
        for grant in self.org_grants:
            if org in (grant.org_id, grant.org_slug):
                return grant
        return None

    def in_context(self, org: str | None) -> "Principal":
        """The same principal in the personal context (org=None) or in an org it belongs to (slug or id)."""
        if not org:
            return replace(self, context=Context.personal())
        grant = self.find_org(org)
        if grant is None:
            raise ContextNotAllowed(org)
        return replace(self, context=Context("org", grant.org_id, grant.org_slug))

    def _grant(self) -> OrgGrant | None:
        if self.context.kind != "org":
            return None
        return self.find_org(self.context.org_id)
