"""The tenant page's member rows write their widgets directly: same elements as Django's template-rendered
widgets, and no widget template rendered per row."""

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.test.html import parse_html
from django.urls import reverse
from pytest_django.asserts import assertContains

from tenants.admin.direct_widgets import DirectCheckboxInput, DirectHiddenInput, DirectSelect, ShownText
from tenants.models import Membership, Role
from tests.factories import make_member, make_tenant

CHOICES = [("", "---------"), (1, "admin"), (2, "user <&> \"co\"")]


@pytest.mark.parametrize(
    ("direct", "stock", "value", "attrs"),
    [
        (DirectHiddenInput(), forms.HiddenInput(), "5b2c\"<x>", {"id": "id_row-0-id"}),
        (DirectHiddenInput(), forms.HiddenInput(), None, {"id": "id_row-0-id"}),
        (DirectCheckboxInput(), forms.CheckboxInput(), False, {"id": "id_row-0-DELETE"}),
        (DirectCheckboxInput(), forms.CheckboxInput(), True, {"id": "id_row-0-DELETE", "disabled": True}),
        (DirectSelect(choices=CHOICES), forms.Select(choices=CHOICES), 2, {"id": "id_row-0-role"}),
        (DirectSelect(choices=CHOICES), forms.Select(choices=CHOICES), None, {"id": "id_row-0-role", "disabled": True}),
        (DirectSelect(choices=CHOICES), forms.Select(choices=CHOICES), "", {"aria-describedby": "help"}),
    ],
)
def test_a_direct_widget_renders_the_element_the_stock_widget_renders(direct, stock, value, attrs):
    assert parse_html(direct.render("row-0-x", value, attrs)) == parse_html(stock.render("row-0-x", value, attrs))


def test_shown_text_is_escaped_and_keeps_the_id_the_label_and_help_text_point_at():
    html = ShownText("<b>eve</b>").render("row-0-user", 7, {"id": "id_row-0-user", "disabled": True})
    assert parse_html(html) == parse_html('<span id="id_row-0-user">&lt;b&gt;eve&lt;/b&gt;</span>')


def _widget_templates(client, tenant):
    response = client.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
    assert response.status_code == 200
    return response, sum(t.name.startswith("django/forms/widgets/") for t in response.templates)


@pytest.mark.django_db
def test_member_rows_render_no_widget_template_and_still_show_user_and_role(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    tenant = make_tenant("crowd")
    make_member(tenant, role="viewer", username="alice")
    _, one = _widget_templates(client, tenant)
    role = Role.objects.get(slug="user")
    users = get_user_model().objects.bulk_create([get_user_model()(username=f"crowd-{i}") for i in range(25)])
    Membership.objects.bulk_create([Membership(tenant=tenant, user=user, role=role) for user in users])
    response, many = _widget_templates(client, tenant)
    assert many == one
    alice = Membership.objects.get(user__username="alice")
    row = next(f for f in response.context["inline_admin_formsets"][1].formset.forms if f.instance.pk == alice.pk)
    prefix = row.prefix
    user = f'<span id="id_{prefix}-user" aria-describedby="id_{prefix}-user_helptext">alice</span>'
    assertContains(response, user, count=1, html=True)
    viewer = Role.objects.get(slug="viewer").pk
    assertContains(response, f'<option value="{viewer}" selected>viewer</option>', count=1, html=True)
    assertContains(response, f'<input id="id_{prefix}-DELETE" name="{prefix}-DELETE" type="checkbox">', count=1, html=True)
