"""Users are visible to a tenant only through its memberships: a tenant key creates users in its own namespace,
never attaches or learns about anyone else's; linking an existing user is a staff action."""

import json

import pytest
from django.contrib.auth import get_user_model

from tenants.models import Membership
from tenants.policy import resolve_api_key
from tenants.services import Actor, ServiceError, membership_add
from tests.api.conftest import client_for
from tests.factories import make_key, make_member

pytestmark = pytest.mark.django_db
User = get_user_model()


def send(client, method, path, body=None):
    return getattr(client, method)(path, data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def outsiders(world):
    """A member of tenant A with an email, and the platform superuser."""
    a_admin = User.objects.get(username="a-admin")
    a_admin.email = "alice@a.example"
    a_admin.save()
    root = User.objects.create_superuser("root", "root@platform.example", "pw")
    return a_admin, root


def shape(response):
    """The answer with what legitimately differs between two new users (their id, name) taken out."""
    body = response.json()
    return response.status_code, {**body, "id": None, "created_at": None,
                                  "user": {**body["user"], "id": None, "username": None}}


def test_a_tenant_key_creates_new_users_whether_the_name_exists_elsewhere_or_not(world, outsiders):
    a_admin, root = outsiders
    client = client_for(world, "tenant_admin")
    answers = {
        name: send(client, "post", "/api/v1/memberships/",
                   {"username": name, "email": "new@b.example", "role": "viewer"})
        for name in ("a-admin", "root", "never-seen-anywhere")
    }
    for name, response in answers.items():
        assert response.status_code == 201, response.content
        user = response.json()["user"]
        assert user["username"] == f"{name}@tenant-b"
        assert user["id"] not in (a_admin.pk, root.pk)
        assert "alice@a.example" not in response.content.decode()
        assert "root@platform.example" not in response.content.decode()
    assert all(shape(r) == shape(answers["never-seen-anywhere"]) for r in answers.values())
    assert list(a_admin.tenant_memberships.values_list("tenant__slug", flat=True)) == ["tenant-a"]
    assert not root.tenant_memberships.exists()


def test_an_email_used_in_another_tenant_does_not_attach_its_user(world, outsiders):
    a_admin, _ = outsiders
    response = send(client_for(world, "tenant_admin"), "post", "/api/v1/memberships/",
                    {"username": "alice", "email": "alice@a.example", "role": "user"})
    assert response.status_code == 201
    membership = Membership.objects.get(pk=response.json()["id"])
    assert membership.user_id != a_admin.pk
    _, raw = make_key(membership)
    assert resolve_api_key(raw).user_id == membership.user_id != a_admin.pk


def test_linking_an_existing_user_is_refused_to_keys_with_one_answer_for_all_names(world, outsiders):
    client = client_for(world, "tenant_admin")
    answers = [
        send(client, "post", "/api/v1/memberships/", {"existing_user": name, "role": "viewer"})
        for name in ("a-admin", "root", "b-user", "no-such-user-anywhere")
    ]
    assert {r.status_code for r in answers} == {403}
    assert len({r.content for r in answers}) == 1, "the answer must not depend on whether the user exists"
    assert "staff action" in answers[0].json()["message"]
    assert not Membership.objects.filter(tenant=world.b, user__username__in=["a-admin", "root"]).exists()


def test_staff_may_link_an_existing_user_of_another_tenant(world, outsiders):
    a_admin, _ = outsiders
    staff = client_for(world, "staff")
    linked = send(staff, "post", "/api/v1/memberships/",
                  {"tenant": str(world.b.id), "existing_user": "a-admin", "role": "viewer"})
    assert linked.status_code == 201, linked.content
    assert linked.json()["user"]["id"] == a_admin.pk
    missing = send(staff, "post", "/api/v1/memberships/",
                   {"tenant": str(world.b.id), "existing_user": "ghost", "role": "viewer"})
    assert missing.status_code == 400 and "existing_user" in missing.json()["details"]["fields"]


def test_names_cannot_be_squatted_across_tenants(world):
    a_key = client_for(world, "wrong_tenant")
    b_key = client_for(world, "tenant_admin")
    first = send(a_key, "post", "/api/v1/memberships/", {"username": "carol", "role": "viewer"})
    second = send(b_key, "post", "/api/v1/memberships/", {"username": "carol", "role": "viewer"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["user"]["username"] == "carol@tenant-a"
    assert second.json()["user"]["username"] == "carol@tenant-b"
    squat = send(a_key, "post", "/api/v1/memberships/", {"username": "carol@tenant-b", "role": "viewer"})
    assert squat.json()["user"]["username"] == "carol@tenant-b@tenant-a", "a name is always in the caller's tenant"


def test_a_name_held_elsewhere_from_before_namespaces_is_refused_without_naming_the_holder(world):
    legacy = make_member(world.a, "viewer", username="dave@tenant-b")
    response = send(client_for(world, "tenant_admin"), "post", "/api/v1/memberships/",
                    {"username": "dave", "role": "viewer"})
    assert response.status_code == 409
    assert "not available" in response.json()["message"]
    assert "tenant-a" not in response.content.decode() and str(legacy.user_id) not in response.content.decode()


def test_a_removed_member_can_be_added_again_and_a_present_one_is_a_conflict(world):
    client = client_for(world, "tenant_admin")
    first = send(client, "post", "/api/v1/memberships/", {"username": "erin", "role": "viewer"})
    assert send(client, "post", "/api/v1/memberships/", {"username": "erin", "role": "viewer"}).status_code == 409
    assert send(client, "delete", f"/api/v1/memberships/{first.json()['id']}/").status_code == 204
    again = send(client, "post", "/api/v1/memberships/", {"username": "erin", "role": "user"})
    assert again.status_code == 201 and again.json()["user"]["id"] == first.json()["user"]["id"]


def test_the_service_refuses_a_key_attaching_someone_elses_user(world, outsiders):
    a_admin, root = outsiders
    actor = Actor.for_principal(resolve_api_key(world.b_admin_raw))
    for user in (a_admin, root):
        with pytest.raises(ServiceError, match="staff action") as refused:
            membership_add(tenant=world.b, user=user, role=world.custom_role, actor=actor)
        assert refused.value.code == "forbidden"


def test_explain_finds_a_tenant_user_by_its_short_name(world):
    send(client_for(world, "tenant_admin"), "post", "/api/v1/memberships/", {"username": "fay", "role": "viewer"})
    response = client_for(world, "tenant_admin").get(f"/api/decide/v1/explain?tenant={world.b.slug}&user=fay")
    assert response.status_code == 200 and response.json()["user"]["username"] == "fay@tenant-b"
