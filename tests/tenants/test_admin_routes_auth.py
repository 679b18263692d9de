"""Every admin route is for staff: anonymous and non-staff requests go to the login page (a tenant API key is no
way in), staff without the model permission get 403 on the pages that need it, and the CSV export and explain
access pages answer 200 only to staff allowed to view audit events or memberships."""

import re
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, reverse

from controlplane import urls as root_urls
from tests.factories import make_key, make_member, make_tenant

pytestmark = pytest.mark.django_db
PUBLIC = {"login", "logout"}  # logout answers only POST; login is where everyone else is sent
SAMPLE = {"Int": "1", "UUID": str(uuid.uuid4())}


def _admin_paths(patterns=None, prefix="/admin/"):
    for entry in patterns if patterns is not None else admin.site.get_urls():
        if isinstance(entry, URLResolver):
            yield from _admin_paths(entry.url_patterns, prefix + _fill(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name not in PUBLIC:
            yield entry.name or "catch-all", prefix + _fill(entry.pattern)


def _fill(pattern) -> str:
    """A concrete path for a route pattern: each <converter:name> replaced by a sample value of its kind."""
    text = str(pattern)
    for name, converter in getattr(pattern, "converters", {}).items():
        sample = SAMPLE.get(type(converter).__name__.removesuffix("Converter"), "x")
        text = re.sub(rf"<(\w+:)?{name}>", sample, text)
    # Regex routes: the app index takes an app label, the catch-all anything.
    text = re.sub(r"\(\?P<app_label>[^)]*\)", "tenants", text)
    text = re.sub(r"\(\?P<\w+>[^)]*\)", "x", text)
    return text.lstrip("^").rstrip("$").replace("\\Z", "")


def _admin_pages_outside_the_site():
    """Admin pages mounted in the root URLconf next to admin.site (the overview): the same rules apply."""
    for entry in root_urls.urlpatterns:
        if isinstance(entry, URLPattern) and str(entry.pattern).startswith("admin/"):
            yield entry.name, "/" + _fill(entry.pattern)


ROUTES = sorted(set(_admin_paths()) | set(_admin_pages_outside_the_site()))
NEW_ROUTES = [
    reverse("admin:tenants_explain_access") + "?key=cpk_x&tool=kv_get",
    reverse("admin:tenants_auditevent_export"),
    reverse("admin:tenants_auditevent_changelist"),
]


def test_the_new_routes_are_among_those_checked():
    paths = {path for _, path in ROUTES}
    assert {
        reverse("admin:tenants_explain_access"),
        reverse("admin:tenants_auditevent_export"),
        reverse("admin-overview"),
        reverse("admin:tenants_tenant_chart", args=[SAMPLE["UUID"], "x"]),
    } <= paths


@pytest.mark.parametrize(("name", "path"), ROUTES)
def test_anonymous_and_non_staff_are_sent_to_login(client, name, path):
    key_owner = make_member(make_tenant())
    _, raw = make_key(key_owner)
    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 302 and "/admin/login/" in response["Location"], (name, path)
    client.force_login(get_user_model().objects.create_user("clerk", password="pw"))
    response = client.get(path)
    assert response.status_code == 302 and "/admin/login/" in response["Location"], (name, path)


@pytest.mark.parametrize("path", NEW_ROUTES)
def test_staff_without_the_view_permission_is_refused(client, path):
    client.force_login(get_user_model().objects.create_user("helper", password="pw", is_staff=True))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize(("path", "permission"), list(zip(NEW_ROUTES, ["view_membership", "view_auditevent", "view_auditevent"])))
def test_staff_with_the_view_permission_gets_the_page(client, path, permission):
    user = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename=permission))
    client.force_login(user)
    assert client.get(path).status_code == 200
