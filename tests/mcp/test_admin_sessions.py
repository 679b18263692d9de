import pytest
from django.urls import reverse

from mcpbridge.models import McpSession
from tenants.models import AuditEvent
from tests.factories import make_key, make_member, make_tenant, make_user


@pytest.mark.django_db
def test_admin_lists_sessions_and_revoke_action_ends_them(client):
    membership = make_member(make_tenant(), "user")
    key, _ = make_key(membership)
    session = McpSession.objects.create(
        tenant=membership.tenant, membership=membership, api_key=key, transport="stdio", client_name="pytest"
    )
    client.force_login(make_user(is_staff=True, is_superuser=True))

    listing = client.get(reverse("admin:mcpbridge_mcpsession_changelist"), {"state": "open"})
    assert listing.status_code == 200
    assert key.prefix in listing.content.decode()

    response = client.post(
        reverse("admin:mcpbridge_mcpsession_changelist"),
        {"action": "revoke", "_selected_action": [str(session.pk)]},
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.ended_at is not None and session.end_reason == McpSession.EndReason.REVOKED
    assert AuditEvent.objects.filter(target=f"mcp_session:{session.pk}").exists()
