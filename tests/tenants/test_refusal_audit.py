"""Every refusal is audited; floods are counted into one row per source and minute; admin brute force locks out."""

import dataclasses
import secrets
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from tenants.models import AuditEvent
from tenants.services import (
    AuthRefusal, RefusalDoor, api_key_revoke, audit_refusal, tenant_suspend,
)
from tests.factories import ACTOR, make_key, make_member, make_tenant

CHECK = "/api/decide/v1/check"
TENANTS = "/api/v1/tenants/"
LOGIN = "/admin/login/"


def _refusals(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="auth_failure", **filters))


def _unknown_key() -> str:
    return f"cpk_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"


def assert_one_row_per_minute(rows: list[AuditEvent], *, total: int) -> None:
    """A flood leaves one row per minute it spans (a run may cross a minute boundary), counting every refusal."""
    minutes = {row.bucket.split("|", 1)[0] for row in rows}
    assert len(rows) == len(minutes) <= 2, [(row.bucket, row.count) for row in rows]
    assert sum(row.count for row in rows) == total


def counts_by_reason(rows: list[AuditEvent]) -> dict[str, int]:
    """Refusals per reason, summed over the minutes a test may straddle."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.details["reason"]] = counts.get(row.details["reason"], 0) + row.count
    return counts


def _bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


# --- the aggregation service ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_refusals_of_one_source_add_up_in_one_row():
    errors = []

    def hammer():
        try:
            for _ in range(40):
                audit_refusal(AuthRefusal.now(door=RefusalDoor.API, reason="unknown_key", address="203.0.113.9"))
        except Exception as exc:  # surfaced below: a lost increment or a duplicate row must fail the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert_one_row_per_minute(_refusals(details__door="api"), total=240)


@pytest.mark.django_db
def test_ipv6_addresses_of_one_network_share_a_row_and_sources_do_not_mix():
    minute = timezone.now().replace(second=0, microsecond=0)

    def refused(**fields):
        # One fixed minute, so the test cannot straddle a minute boundary.
        audit_refusal(dataclasses.replace(AuthRefusal.now(door=RefusalDoor.DECIDE, **fields), minute=minute))

    for address in ("2001:db8:1:2::10", "2001:db8:1:2:ffff::1", "2001:db8:9:9::1", "::ffff:198.51.100.7"):
        refused(reason="unknown_key", address=address)
    refused(reason="revoked_key", address="198.51.100.7", key_prefix="cpk_0123abcd")
    actors = sorted((row.actor, row.count) for row in _refusals())
    assert actors == [
        ("address:198.51.100.7", 1),
        ("address:2001:db8:1:2::/64", 2),
        ("address:2001:db8:9:9::/64", 1),
        ("key:cpk_0123abcd", 1),
    ]


# --- decision API ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_decision_api_refusals_are_audited_with_their_reason(client):
    membership = make_member(make_tenant(), "user")
    revoked, raw_revoked = make_key(membership)
    api_key_revoke(api_key=revoked, actor=ACTOR)
    suspended_member = make_member(make_tenant(), "user")
    suspended_key, raw_suspended = make_key(suspended_member)
    tenant_suspend(tenant=suspended_member.tenant, actor=ACTOR)

    cases = [
        ({**_bearer("cpk_not-a-key")}, 401, "malformed_key"),
        ({**_bearer(_unknown_key())}, 401, "unknown_key"),
        ({**_bearer(raw_revoked)}, 401, "revoked_key"),
        ({**_bearer(raw_suspended)}, 403, "tenant_suspended"),
        ({}, 401, "missing_credentials"),
    ]
    for headers, status, _ in cases:
        response = client.post(CHECK, {"tool": "kv_get"}, content_type="application/json", **headers)
        assert response.status_code == status, response.content

    rows = {row.details["reason"]: row for row in _refusals(details__door="decide")}
    assert set(rows) == {reason for _, _, reason in cases}
    assert all(row.count == 1 and row.outcome == "denied" and row.target == CHECK for row in rows.values())
    assert rows["malformed_key"].actor == rows["unknown_key"].actor == "address:127.0.0.1"
    assert (rows["revoked_key"].actor, rows["revoked_key"].tenant_id) == (f"key:{revoked.prefix}", membership.tenant_id)
    assert rows["tenant_suspended"].actor == f"key:{suspended_key.prefix}"
    assert rows["tenant_suspended"].tenant_id == suspended_member.tenant_id


@pytest.mark.django_db
def test_a_flood_of_bad_keys_on_the_decision_api_is_one_row_with_its_count(client):
    for _ in range(500):
        response = client.post(CHECK, {"tool": "kv_get"}, content_type="application/json", **_bearer(_unknown_key()))
        assert response.status_code == 401
    rows = _refusals(details__door="decide")
    assert_one_row_per_minute(rows, total=500)
    assert {row.actor for row in rows} == {"address:127.0.0.1"}


@pytest.mark.django_db
def test_a_staff_session_on_the_decision_api_is_not_a_refusal(client):
    staff = get_user_model().objects.create_user("decide-staff", password="pw-Staff-123", is_staff=True)
    client.force_login(staff)
    response = client.get("/api/decide/v1/explain", {"tenant": "nope", "user": "nobody"})
    assert response.status_code == 404
    assert _refusals() == []


# --- provisioning API (DRF) ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_provisioning_api_refusals_are_audited_with_their_reason(client):
    membership = make_member(make_tenant(), "admin")
    revoked, raw_revoked = make_key(membership)
    api_key_revoke(api_key=revoked, actor=ACTOR)

    cases = [
        ({"HTTP_AUTHORIZATION": "Bearer two parts"}, 401, "malformed_key"),
        ({**_bearer("cpk_not-a-key")}, 401, "malformed_key"),
        ({**_bearer(_unknown_key())}, 401, "unknown_key"),
        ({**_bearer(raw_revoked)}, 401, "revoked_key"),
        ({}, 401, "missing_credentials"),
    ]
    for headers, status, _ in cases:
        assert client.get(TENANTS, **headers).status_code == status

    assert counts_by_reason(_refusals(details__door="api")) == {
        "malformed_key": 2, "unknown_key": 1, "revoked_key": 1, "missing_credentials": 1,
    }
    rows = {row.details["reason"]: row for row in _refusals(details__door="api")}
    assert rows["revoked_key"].actor == f"key:{revoked.prefix}"
    assert rows["unknown_key"].actor == "address:127.0.0.1"


# --- admin logins (django-axes) --------------------------------------------------------------------------


def _login(client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=timedelta(seconds=2))
def test_admin_brute_force_locks_out_is_audited_and_a_correct_login_works_after_the_cool_off():
    username = f"staff-{secrets.token_hex(3)}"
    get_user_model().objects.create_user(username, password="Correct-horse-42", is_staff=True)
    client = Client()

    for _ in range(2):
        response = _login(client, username, "wrong")
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    locked = _login(client, username, "wrong")
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert b'href="/admin/login/"' in locked.content  # the lockout page is an admin page with a way back
    # Locked out: even the right password is refused until the cool-off has passed.
    assert _login(client, username, "Correct-horse-42").status_code == 429
    assert "_auth_user_id" not in client.session

    refused = _refusals(details__door="admin_login")
    counts = counts_by_reason(refused)
    assert set(counts) == {"login_failed", "locked_out"}
    # Every refused attempt counts, the one refused for the lockout included.
    assert counts["login_failed"] == 4 and counts["locked_out"] >= 1
    assert {row.actor for row in refused} == {f"user:{username}"}
    assert all(row.actor_user_id is not None for row in refused)
    assert {row.outcome for row in refused if row.details["reason"] == "locked_out"} == {"rate_limited"}

    time.sleep(2.5)  # the configured cool-off
    response = _login(client, username, "Correct-horse-42")
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_lockout_is_per_username_and_address():
    username = f"staff-{secrets.token_hex(3)}"
    get_user_model().objects.create_user(username, password="Correct-horse-42", is_staff=True)
    attacker = Client(REMOTE_ADDR="198.51.100.66")
    for _ in range(3):
        _login(attacker, username, "wrong")
    assert _login(attacker, username, "Correct-horse-42").status_code == 429
    # The real admin, from their own address, is not locked out by someone else's guesses.
    admin = Client(REMOTE_ADDR="192.0.2.10")
    assert _login(admin, username, "Correct-horse-42").status_code == 302


@pytest.mark.django_db
def test_failed_logins_for_unknown_usernames_are_counted_per_address_and_never_store_the_username(client):
    typed = [f"Secret-typed-as-username-{n}" for n in range(4)]
    for username in typed:
        _login(client, username, "whatever")
    rows = _refusals(details__door="admin_login")
    assert counts_by_reason(rows) == {"login_failed": 4}
    assert {row.actor for row in rows} == {"address:127.0.0.1"}
    stored = str([(row.actor, row.target, row.details, row.bucket) for row in AuditEvent.objects.all()])
    assert not any(username in stored for username in typed)


@pytest.mark.django_db
def test_an_aggregated_row_only_ever_grows_its_count():
    refusal = AuthRefusal(door=RefusalDoor.API, reason="unknown_key", minute=timezone.now().replace(second=0, microsecond=0),
                          address="203.0.113.5")
    audit_refusal(refusal)
    (row,) = _refusals()
    # Even raw SQL cannot rewrite an aggregated row, or shrink its count; the database refuses it.
    for statement in (
        f"UPDATE tenants_auditevent SET target = 'other' WHERE id = {row.pk}",
        f"UPDATE tenants_auditevent SET count = 0 WHERE id = {row.pk}",
        f"UPDATE tenants_auditevent SET bucket = NULL, count = 2 WHERE id = {row.pk}",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    audit_refusal(refusal)
    assert [(r.count, r.target) for r in _refusals()] == [(2, "")]


@pytest.mark.django_db
def test_a_long_username_still_gets_one_row_per_minute():
    username = "a" * 150
    user = get_user_model().objects.create_user(username, password="x-Password-1")
    minute = timezone.now().replace(second=0, microsecond=0)
    for at in (minute - timedelta(minutes=1), minute, minute):
        audit_refusal(AuthRefusal(door=RefusalDoor.ADMIN_LOGIN, reason="login_failed", minute=at, username=username,
                                  user_id=user.pk, address="2001:db8:abcd:1234::/64"))
    assert sorted(row.count for row in _refusals(details__door="admin_login")) == [1, 2]
