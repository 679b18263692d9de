"""An OAuth token resolves to the same principal as an API key of that membership and scope: the same
capabilities and visible tools in every role and context, the same namespace, the same refusals."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from mcpbridge.server.tools import default_registry
from oauthserver.models import OAuthGrant, OAuthToken
from oauthserver.policy import resolve_oauth_token
from oauthserver.services.clients import client_block
from oauthserver.services.grants import grant_revoke
from oauthserver.services.tokens import KEPT_USED_REFRESH_TOKENS, refresh_token_load, refresh_token_rotate
from tenants.capabilities import BUILTIN_ROLES, Capability
from tenants.models import Role
from tenants.policy import ResolutionError, ResolutionFailure, resolve_api_key
from tenants.policy.keys import key_digest
from tenants.policy.version import policy_version_bump
from tenants.services import membership_change_role, membership_remove, tenant_suspend
from tests.factories import ACTOR, add_to_org, make_key, make_member, make_org, make_tenant
from tests.mcp.helpers import ROLE_TOOLS
from tests.oauth.factories import RESOURCE, make_oauth_client, oauth_tokens

pytestmark = pytest.mark.django_db

ROLES = list(BUILTIN_ROLES)
REQUESTS = [None, ["kv.read"], ["kv.read", "kv.write", "secrets.write", "artifacts.delete"]]


@pytest.mark.parametrize("personal_role,org_role", list(itertools.product(ROLES, ROLES)))
@pytest.mark.parametrize("requested", REQUESTS, ids=["role", "kv-read", "mixed"])
def test_token_principal_equals_the_key_principal_of_the_granted_scope(personal_role, org_role, requested):
    tenant = make_tenant()
    org = make_org(tenant, "shared")
    membership = make_member(tenant, personal_role)
    add_to_org(org, membership, org_role)
    registry = default_registry()
    for context_org, role in ((None, personal_role), (org, org_role)):
        role_caps = set(BUILTIN_ROLES[role][1])
        granted = role_caps if requested is None else role_caps & set(requested)
        if not granted:
            continue  # the consent page does not let the person grant nothing
        tokens = oauth_tokens(membership, requested, org=context_org)
        through_token = resolve_oauth_token(tokens.access_token, resource=RESOURCE)
        _, raw = make_key(membership, scopes=sorted(granted), default_org=context_org)
        through_key = resolve_api_key(raw)
        assert through_token.capabilities == through_key.capabilities == granted
        assert registry.visible_names(through_token) == registry.visible_names(through_key)
        assert through_token.namespace == through_key.namespace
        assert str(through_token.context) == str(through_key.context)
        assert through_token.actor_label.startswith("oauth:test-client-")
        if requested is None:
            assert registry.visible_names(through_token) == ROLE_TOOLS[role]


def _refused(raw, reason, resource=RESOURCE):
    with pytest.raises(ResolutionError) as info:
        resolve_oauth_token(raw, resource=resource)
    assert info.value.reason == reason


def test_refusals_match_the_key_path():
    tenant = make_tenant()
    membership = make_member(tenant, "user")
    tokens = oauth_tokens(membership, ["kv.read", "kv.write"])
    assert resolve_oauth_token(tokens.access_token, resource=RESOURCE).can(Capability.KV_WRITE)

    _refused(tokens.access_token, ResolutionFailure.UNKNOWN, resource="https://elsewhere.example/mcp")
    _refused("cpa_00000000_" + "x" * 43, ResolutionFailure.UNKNOWN)
    _refused("not-a-token", ResolutionFailure.MALFORMED)
    # The refresh token is not an access token.
    _refused(tokens.refresh_token, ResolutionFailure.MALFORMED)

    membership_change_role(membership=membership, role=Role.objects.get(slug="viewer"), actor=ACTOR)
    assert not resolve_oauth_token(tokens.access_token, resource=RESOURCE).can(Capability.KV_WRITE)
    tenant_suspend(tenant=tenant, actor=ACTOR)
    _refused(tokens.access_token, ResolutionFailure.TENANT_SUSPENDED)


def test_expired_revoked_and_blocked_tokens_are_refused():
    membership = make_member(make_tenant(), "user")
    client = make_oauth_client()
    expired, revoked, blocked = (oauth_tokens(membership, ["kv.read"], client=c) for c in (None, None, client))
    OAuthToken.objects.filter(digest=key_digest(expired.access_token)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    policy_version_bump()  # resolved tokens are cached per policy version
    _refused(expired.access_token, ResolutionFailure.EXPIRED)
    grant_revoke(grant=OAuthToken.objects.get(digest=key_digest(revoked.access_token)).grant, actor=ACTOR)
    _refused(revoked.access_token, ResolutionFailure.REVOKED)
    client_block(client=client, actor=ACTOR)
    _refused(blocked.access_token, ResolutionFailure.REVOKED)


def test_membership_removal_refuses_the_token():
    membership = make_member(make_tenant(), "user")
    tokens = oauth_tokens(membership, ["kv.read"])
    membership_remove(membership=membership, actor=ACTOR)
    assert not OAuthGrant.objects.exists()
    _refused(tokens.access_token, ResolutionFailure.UNKNOWN)


def test_refreshing_in_a_loop_keeps_a_bounded_number_of_token_rows():
    """Every refresh adds a token pair; the rotated-away refresh tokens are kept to catch reuse, but not one row per
    refresh for 30 days: a client looping on refresh would fill a table every tenant shares."""
    membership = make_member(make_tenant(), "user")
    issued = oauth_tokens(membership)
    grant = OAuthToken.objects.get(digest=key_digest(issued.access_token)).grant
    refresh_tokens = [issued.refresh_token]
    for _ in range(KEPT_USED_REFRESH_TOKENS + 15):
        token = OAuthToken.objects.get(digest=key_digest(issued.refresh_token))
        issued = refresh_token_rotate(token_pk=token.pk, scopes=token.scopes)
        refresh_tokens.append(issued.refresh_token)
    refresh_rows = OAuthToken.objects.filter(grant=grant, kind=OAuthToken.Kind.REFRESH).count()
    assert refresh_rows == KEPT_USED_REFRESH_TOKENS + 1  # the kept used ones and the live one
    # The oldest one is forgotten: refused, and it no longer revokes the grant.
    assert refresh_token_load(client=grant.client, raw_token=refresh_tokens[0]) is None
    grant.refresh_from_db()
    assert grant.revoked_at is None
    # One rotated away recently, presented again, still revokes the grant.
    assert refresh_token_load(client=grant.client, raw_token=refresh_tokens[-2]) is None
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_cached_token_resolution_reads_the_policy_version_once(django_assert_num_queries):
    membership = make_member(make_tenant(), "user")
    tokens = oauth_tokens(membership, None)
    resolve_oauth_token(tokens.access_token, resource=RESOURCE)
    with django_assert_num_queries(1):  # the policy version, for the token and its key alike
        resolve_oauth_token(tokens.access_token, resource=RESOURCE)
