"""No escalation through keys: whatever a caller asks for, every key it issues, widens or rotates holds only
capabilities the caller holds itself, in every context, through the services and through REST alike."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings, strategies as st

from tenants.capabilities import ALL_CAPABILITIES, Capability
from tenants.models import ApiKey, Membership, Role
from tenants.policy import resolve_api_key
from tenants.services import (
    Actor,
    ServiceError,
    api_key_issue,
    api_key_rotate,
    api_key_update,
    membership_change_role,
)
from tests.factories import ACTOR, add_to_org, make_key, make_member, make_org, make_tenant

pytestmark = pytest.mark.django_db

CAPS = sorted(ALL_CAPABILITIES)
scopes = st.one_of(st.none(), st.sets(st.sampled_from(CAPS)).map(sorted))
manager_scopes = st.one_of(st.none(), st.sets(st.sampled_from(CAPS)).map(lambda s: sorted(s | {"tenant.manage"})))
TARGETS = ("self", "admin", "user", "viewer", "org-admin")
hypothesis_settings = settings(
    max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world():
    tenant = make_tenant()
    org = make_org(tenant, "shared")
    caller = make_member(tenant, "admin", username="caller")
    members = {
        "self": caller,
        "admin": make_member(tenant, "admin"),
        "user": make_member(tenant, "user"),
        "viewer": make_member(tenant, "viewer"),
        "org-admin": make_member(tenant, "viewer"),
    }
    add_to_org(org, members["org-admin"], "admin")  # a narrow personal role, all of an org's
    return members


def held_by(raw: str) -> frozenset[str]:
    return resolve_api_key(raw).in_context(None).capabilities


def reach_of(raw: str) -> frozenset[str]:
    """Everything a key can do, in its personal context and in every org it may switch to."""
    principal = resolve_api_key(raw)
    contexts = [None, *(grant.org_slug for grant in principal.org_grants)]
    return frozenset().union(*(principal.in_context(org).capabilities for org in contexts))


def may_grant(held: frozenset[str], requested: list[str] | None) -> bool:
    return held == ALL_CAPABILITIES if requested is None else set(requested) <= held


@hypothesis_settings
@given(caller_scope=scopes, requested=scopes, target=st.sampled_from(TARGETS))
def test_service_never_issues_beyond_the_caller(world, caller_scope, requested, target):
    _, caller_raw = make_key(world["self"], scopes=caller_scope)
    held = held_by(caller_raw)
    actor = Actor.for_principal(resolve_api_key(caller_raw))
    try:
        _, raw = api_key_issue(membership=world[target], name="minted", actor=actor, scopes=requested)
    except ServiceError as exc:
        assert exc.code == "forbidden" and not may_grant(held, requested)
        assert "lacks" in exc.message
        return
    assert may_grant(held, requested), "issued although the caller lacks part of it"
    assert reach_of(raw) <= held


@hypothesis_settings
@given(caller_scope=scopes, requested=scopes, target=st.sampled_from(TARGETS))
def test_service_never_widens_or_rotates_beyond_the_caller(world, caller_scope, requested, target):
    _, caller_raw = make_key(world["self"], scopes=caller_scope)
    held = held_by(caller_raw)
    actor = Actor.for_principal(resolve_api_key(caller_raw))
    victim, victim_raw = make_key(world[target], scopes=[])

    try:
        api_key_update(api_key=victim, actor=actor, scopes=requested)
    except ServiceError as exc:
        assert exc.code == "forbidden" and not may_grant(held, requested)
        assert ApiKey.objects.get(pk=victim.pk).scopes == []
    else:
        assert may_grant(held, requested)
        assert reach_of(victim_raw) <= held

    other, _ = make_key(world[target], scopes=requested)  # issued by staff, possibly wider than the caller
    try:
        _, rotated_raw = api_key_rotate(api_key=other, actor=actor)
    except ServiceError as exc:
        assert exc.code == "forbidden" and not may_grant(held, requested)
        assert ApiKey.objects.get(pk=other.pk).revoked_at is None
    else:
        assert reach_of(rotated_raw) <= held


def _send(client, method, path, body=None):
    return getattr(client, method)(path, data=json.dumps(body or {}), content_type="application/json")


@hypothesis_settings
@given(caller_scope=manager_scopes, requested=scopes, target=st.sampled_from(TARGETS), omit=st.booleans())
def test_rest_never_issues_or_widens_beyond_the_caller(world, caller_scope, requested, target, omit):
    _, caller_raw = make_key(world["self"], scopes=caller_scope)
    held = held_by(caller_raw)
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {caller_raw}"
    body = {"membership": str(world[target].id), "name": "minted"}
    if not (omit and requested is None):  # omitted scopes mean null
        body["scopes"] = requested
    before = ApiKey.objects.count()

    created = _send(client, "post", "/api/v1/api-keys/", body)
    if may_grant(held, requested):
        assert created.status_code == 201, created.content
        assert reach_of(created.json()["key"]) <= held
    else:
        assert created.status_code == 403, created.content
        assert created.json()["code"] == "forbidden" and "lacks" in created.json()["message"]
        assert ApiKey.objects.count() == before

    victim, victim_raw = make_key(world[target], scopes=[])
    patched = _send(client, "patch", f"/api/v1/api-keys/{victim.id}/", {"scopes": requested})
    assert patched.status_code == (200 if may_grant(held, requested) else 403), patched.content
    assert reach_of(victim_raw) <= held

    wide, _ = make_key(world[target], scopes=requested)
    rotated = _send(client, "post", f"/api/v1/api-keys/{wide.id}/rotate/")
    if rotated.status_code == 201:
        assert reach_of(rotated.json()["key"]) <= held
    else:
        assert rotated.status_code == 403 and not may_grant(held, requested)


def test_a_tenant_manage_only_key_cannot_mint_a_key_into_a_members_personal_data(world):
    _, caller_raw = make_key(world["self"], scopes=[Capability.TENANT_MANAGE])
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {caller_raw}"
    for body in ({}, {"scopes": None}, {"scopes": ["kv.read", "secrets.read"]}):
        response = _send(client, "post", "/api/v1/api-keys/",
                         {"membership": str(world["user"].id), "name": "steal", **body})
        assert response.status_code == 403
        assert "kv.read" in response.json()["message"]
    own = _send(client, "post", "/api/v1/api-keys/", {"membership": str(world["self"].id), "name": "x", "scopes": None})
    assert own.status_code == 403 and not ApiKey.objects.filter(name__in=["steal", "x"]).exists()


def test_a_limited_key_cannot_raise_a_role_above_itself(world):
    _, caller_raw = make_key(world["self"], scopes=[Capability.TENANT_MANAGE, Capability.KV_READ])
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {caller_raw}"
    response = _send(client, "patch", f"/api/v1/memberships/{world['viewer'].id}/", {"role": "admin"})
    assert response.status_code == 403 and "role 'admin'" in response.json()["message"]
    assert Membership.objects.get(pk=world["viewer"].pk).role.slug == "viewer"
    grant = _send(client, "post", "/api/v1/org-memberships/",
                  {"organization": str(world["org-admin"].org_memberships.get().organization_id),
                   "membership": str(world["user"].id), "role": "admin"})
    assert grant.status_code == 403


def test_staff_and_commands_are_not_limited(world):
    _, raw = api_key_issue(membership=world["user"], name="ops", actor=ACTOR, scopes=None)
    assert reach_of(raw) == resolve_api_key(raw).role_capabilities
    membership_change_role(membership=world["viewer"], role=Role.objects.get(slug="admin"), actor=ACTOR)
    assert Membership.objects.get(pk=world["viewer"].pk).role.slug == "admin"
