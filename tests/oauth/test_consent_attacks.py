"""The consent page as an attacker would use it: a cross-site form that answers for a signed-in person (CSRF),
a sign-in link that sends the person elsewhere afterwards, a client name made of markup, and a person answering
a request twice."""

import pytest
from django.test import Client
from django.urls import reverse

from oauthserver.models import OAuthGrant
from oauthserver.services.clients import client_register
from oauthserver.services.tokens import authorization_request_create
from tests.factories import ACTOR, make_member, make_tenant

pytestmark = pytest.mark.django_db

REDIRECT = "http://127.0.0.1:9/callback"


def _pending(name="Desktop assistant"):
    client = client_register(client_id=f"c-{name[:20]}", name=name, redirect_uris=[REDIRECT], actor=ACTOR)
    return authorization_request_create(
        client=client, redirect_uri=REDIRECT, redirect_uri_explicit=True, code_challenge="x" * 43, state="s",
        scopes=["kv.read"], resource="http://testserver/mcp",
    )


def test_a_cross_site_form_cannot_answer_the_consent_page():
    member = make_member(make_tenant(), "user")
    pending = _pending()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member.user)
    choice = f"{member.pk}:personal"
    response = browser.post(reverse("oauth:consent", args=[pending.pk]), {"decision": "allow", "choice": choice})
    assert response.status_code == 403
    assert not OAuthGrant.objects.exists()


def test_sign_in_never_sends_the_person_to_another_site():
    member = make_member(make_tenant(), "user")
    member.user.set_password("pw")
    member.user.save()
    response = Client().post(
        reverse("oauth:login") + "?next=https://evil.example/steal",
        {"username": member.user.get_username(), "password": "pw", "next": "https://evil.example/steal"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_a_client_name_made_of_markup_is_shown_as_text():
    member = make_member(make_tenant(), "user")
    pending = _pending(name='<img src=x onerror=alert(1)><script>alert(2)</script>')
    browser = Client()
    browser.force_login(member.user)
    page = browser.get(reverse("oauth:consent", args=[pending.pk])).content.decode()
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_request_is_answered_once():
    member = make_member(make_tenant(), "user")
    pending = _pending()
    browser = Client()
    browser.force_login(member.user)
    url = reverse("oauth:consent", args=[pending.pk])
    choice = f"{member.pk}:personal"
    assert browser.post(url, {"decision": "allow", "choice": choice}).status_code == 302
    second = browser.post(url, {"decision": "allow", "choice": choice})
    assert second.status_code == 404
    assert OAuthGrant.objects.count() == 1
