"""The consent page and the admin, in process: what the person sees and grants, what staff can do."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from oauthserver.models import AuthorizationCode, OAuthClient, OAuthGrant
from oauthserver.selectors import consent_choices
from oauthserver.services.clients import (
    clean_redirect_uris,
    client_register,
    client_register_dynamic,
    clients_expire_unused,
)
from oauthserver.services.grants import grant_approve
from oauthserver.services.tokens import authorization_request_create
from tenants.models import AuditEvent
from tenants.services.errors import ServiceError
from tests.factories import ACTOR, add_to_org, make_member, make_org, make_tenant

pytestmark = pytest.mark.django_db

REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture
def oauth_client():
    return client_register(
        client_id="desktop-assistant", name="Desktop assistant", redirect_uris=[REDIRECT], actor=ACTOR
    )


def _pending(client, scopes=("kv.read", "kv.write", "secrets.write")):
    return authorization_request_create(
        client=client,
        redirect_uri=REDIRECT,
        redirect_uri_explicit=True,
        code_challenge="x" * 43,
        state="s",
        scopes=list(scopes) if scopes is not None else None,
        resource="http://testserver/mcp",
    )


def _query(response) -> dict:
    assert response.status_code == 302, response.content[:500]
    return {k: v[0] for k, v in parse_qs(urlparse(response["Location"]).query).items()}


def test_signed_out_person_is_sent_to_sign_in_first(client, oauth_client):
    pending = _pending(oauth_client)
    response = client.get(reverse("oauth:consent", args=[pending.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("oauth:login"))


def test_consent_offers_each_tenant_and_context_and_grants_the_intersection(client, oauth_client):
    alpha, beta = make_tenant("alpha"), make_tenant("beta")
    member = make_member(alpha, "viewer")
    org = make_org(alpha, "research")
    add_to_org(org, member, "user")
    make_member(beta, "user")  # someone else in beta
    client.force_login(member.user)
    pending = _pending(oauth_client)
    url = reverse("oauth:consent", args=[pending.pk])
    page = client.get(url)
    assert page.status_code == 200
    rows = {choice.key: choice for choice in (row["choice"] for row in page.context["rows"])}
    # Only the person's own tenant: alpha personal (viewer) and the research org (user); never beta.
    assert {(c.membership.tenant.slug, c.context_label) for c in rows.values()} == {
        ("alpha", "personal"), ("alpha", "organization Test org")
    }
    org_choice = next(c for c in rows.values() if c.organization is not None)
    assert org_choice.granted == {"kv.read", "kv.write"}  # secrets.write asked for, not granted by the org role
    answer = _query(client.post(url, {"decision": "allow", "choice": org_choice.key}))
    assert answer["state"] == "s" and "code" in answer
    grant = OAuthGrant.objects.get()
    assert grant.scopes == ["kv.read", "kv.write"] and grant.organization == org
    assert grant.api_key.scopes == ["kv.read", "kv.write"] and grant.api_key.default_org == org
    assert AuthorizationCode.objects.filter(grant=grant).count() == 1
    assert AuditEvent.objects.filter(target=f"oauth_grant:{grant.pk}", actor=f"user:{member.user.username}").exists()
    # Answered once: the same request cannot be answered again.
    assert client.post(url, {"decision": "allow", "choice": org_choice.key}).status_code == 404


def test_a_context_whose_role_grants_nothing_asked_for_cannot_be_chosen(client, oauth_client):
    member = make_member(make_tenant(), "viewer")
    client.force_login(member.user)
    pending = _pending(oauth_client, scopes=("secrets.write",))
    url = reverse("oauth:consent", args=[pending.pk])
    key = client.get(url).context["rows"][0]["choice"].key
    response = client.post(url, {"decision": "allow", "choice": key})
    assert response.status_code == 400 and b"none of the capabilities" in response.content
    assert not OAuthGrant.objects.exists()


def test_choosing_another_persons_membership_grants_nothing(client, oauth_client):
    member = make_member(make_tenant(), "user")
    stranger = make_member(make_tenant(), "admin")
    client.force_login(member.user)
    pending = _pending(oauth_client)
    response = client.post(
        reverse("oauth:consent", args=[pending.pk]), {"decision": "allow", "choice": f"{stranger.pk}:personal"}
    )
    assert response.status_code == 400
    assert not OAuthGrant.objects.exists()


def test_no_requested_scope_grants_the_role_as_an_explicit_set(client, oauth_client):
    member = make_member(make_tenant(), "viewer")
    client.force_login(member.user)
    pending = _pending(oauth_client, scopes=None)
    url = reverse("oauth:consent", args=[pending.pk])
    key = client.get(url).context["rows"][0]["choice"].key
    _query(client.post(url, {"decision": "allow", "choice": key}))
    assert OAuthGrant.objects.get().api_key.scopes == ["artifacts.get", "artifacts.list", "kv.read"]


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return user


def _grant(oauth_client, member):
    choice = consent_choices(user=member.user, requested=frozenset({"kv.read"}))[0]
    grant_approve(request=_pending(oauth_client), user=member.user, choice=choice)
    return OAuthGrant.objects.get(membership=member)


def test_staff_register_a_client_in_the_admin(client, staff):
    response = client.post(
        reverse("admin:oauthserver_oauthclient_add"),
        {"client_id": "ide-plugin", "name": "IDE plugin", "redirect_uris": "http://127.0.0.1:7777/cb\nide://cb"},
    )
    assert response.status_code == 302
    registered = OAuthClient.objects.get(client_id="ide-plugin")
    assert registered.kind == "registered" and registered.redirect_uris == ["http://127.0.0.1:7777/cb", "ide://cb"]
    assert AuditEvent.objects.filter(actor="user:root", target="oauth_client:ide-plugin").exists()


def test_block_a_client_revokes_its_grants_and_revoke_a_grant(client, staff, oauth_client):
    first, second = make_member(make_tenant()), make_member(make_tenant())
    grant_one, grant_two = _grant(oauth_client, first), _grant(oauth_client, second)
    client.post(
        reverse("admin:oauthserver_oauthgrant_changelist"),
        {"action": "revoke_grants", "_selected_action": [grant_one.pk]},
    )
    grant_one.refresh_from_db()
    assert grant_one.revoked_at is not None and grant_one.api_key.revoked_at is not None
    assert AuditEvent.objects.filter(actor="user:root", target=f"oauth_grant:{grant_one.pk}").exists()

    client.post(
        reverse("admin:oauthserver_oauthclient_changelist"),
        {"action": "block_clients", "_selected_action": [oauth_client.pk]},
    )
    oauth_client.refresh_from_db()
    grant_two.refresh_from_db()
    assert oauth_client.blocked_at is not None and grant_two.revoked_at is not None


def test_admin_pages_render_with_flat_query_counts(client, staff, oauth_client):
    for _ in range(3):
        _grant(oauth_client, make_member(make_tenant()))
    for name in ("oauthserver_oauthclient", "oauthserver_oauthgrant"):
        url = reverse(f"admin:{name}_changelist")
        with CaptureQueriesContext(connection) as few:
            assert client.get(url).status_code == 200
        for _ in range(5):
            _grant(oauth_client, make_member(make_tenant()))
        with CaptureQueriesContext(connection) as more:
            assert client.get(url).status_code == 200
        assert len(more) == len(few), name
    grant = OAuthGrant.objects.first()
    assert client.get(reverse("admin:oauthserver_oauthgrant_change", args=[grant.pk])).status_code == 200
    assert client.get(reverse("admin:oauthserver_oauthclient_change", args=[oauth_client.pk])).status_code == 200


def test_dynamic_registrations_never_used_expire(settings, oauth_client):
    settings.OAUTH_UNUSED_REGISTRATION_SECONDS = 3600
    old = timezone.now() - timedelta(hours=2)
    client_register_dynamic(client_id="unused", name="", redirect_uris=[REDIRECT], metadata={}, address=None)
    used = client_register_dynamic(client_id="used", name="", redirect_uris=[REDIRECT], metadata={}, address=None)
    client_register_dynamic(client_id="recent", name="", redirect_uris=[REDIRECT], metadata={}, address=None)
    _grant(used, make_member(make_tenant()))
    OAuthClient.objects.filter(client_id__in=["unused", "used"]).update(created_at=old)
    OAuthClient.objects.filter(pk=oauth_client.pk).update(created_at=old)  # staff-registered: kept
    assert clients_expire_unused() == 1
    assert set(OAuthClient.objects.values_list("client_id", flat=True)) == {"used", "recent", oauth_client.client_id}


@pytest.mark.parametrize(
    "uri, usable",
    [
        ("https://app.example/cb", True),
        ("http://127.0.0.1:7777/cb", True),
        ("http://localhost/cb", True),
        ("com.example.app:/oauth", True),
        ("http://app.example/cb", False),
        ("javascript:alert(1)", False),
        ("data:text/html,hi", False),
        ("https://app.example/cb#frag", False),
        ("/relative", False),
    ],
)
def test_redirect_uris_follow_oauth_2_1(uri, usable):
    if usable:
        assert clean_redirect_uris([uri]) == [uri]
    else:
        with pytest.raises(ServiceError):
            clean_redirect_uris([uri])
