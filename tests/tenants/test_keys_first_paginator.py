"""The membership list pages by keys first: the same rows in the same order as plain slicing, on every page,
whether the list is short (all keys at once) or long (keys by LIMIT/OFFSET)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenants.admin import paginators
from tenants.models import Membership, Role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))


def _crowd(n):
    tenant = make_tenant("crowd")
    role = Role.objects.get(slug="user")
    users = get_user_model().objects.bulk_create([get_user_model()(username=f"crowd-{i:03d}") for i in range(n)])
    Membership.objects.bulk_create([Membership(tenant=tenant, user=user, role=role) for user in users])
    return tenant


def _page(client, tenant, page):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:tenants_membership_changelist"), {"tenant__id__exact": tenant.pk, "p": page})
    assert response.status_code == 200
    cl = response.context["cl"]
    return [m.pk for m in cl.result_list], cl.list_per_page, len(queries)


@pytest.mark.parametrize("all_keys_up_to", [5_000, 10])
def test_every_page_holds_the_rows_plain_slicing_gives_in_the_same_order(client, staff, monkeypatch, all_keys_up_to):
    monkeypatch.setattr(paginators, "ALL_KEYS_UP_TO", all_keys_up_to)
    tenant = _crowd(130)
    make_member(make_tenant("other"))
    expected = list(Membership.objects.filter(tenant=tenant).order_by("tenant_id", "user_id").values_list("pk", flat=True))
    first, per_page, first_queries = _page(client, tenant, 1)
    assert per_page < 65
    pages = [first] + [_page(client, tenant, p)[0] for p in range(2, -(-130 // per_page) + 1)]
    assert pages == [expected[i : i + per_page] for i in range(0, 130, per_page)]
    assert _page(client, tenant, len(pages))[2] == first_queries


def test_rows_show_user_tenant_and_role_with_a_constant_number_of_queries(client, staff):
    tenant = _crowd(60)
    _, _, few = _page(client, tenant, 1)
    role = Role.objects.get(slug="viewer")
    users = get_user_model().objects.bulk_create([get_user_model()(username=f"crowd-more-{i:03d}") for i in range(60)])
    Membership.objects.bulk_create([Membership(tenant=tenant, user=user, role=role) for user in users])
    _, _, many = _page(client, tenant, 1)
    assert many == few
    page = client.get(reverse("admin:tenants_membership_changelist"), {"tenant__id__exact": tenant.pk, "p": 3})
    assert "crowd-more-059" in page.content.decode() and "viewer" in page.content.decode()
