"""The contract both adapters honour: every test runs against `local` and against `aws` (moto's server)."""

import base64
from datetime import datetime, timedelta, timezone

import pytest
import requests
from django.test import Client

from mcpbridge.dataplane import data_plane
from mcpbridge.models import OutboxEvent
from mcpbridge.services.artifacts import artifact_delete, artifact_get, artifact_list, artifact_put
from mcpbridge.services.errors import CapabilityDenied, InvalidInput, NotFound
from mcpbridge.services.events import event_send
from mcpbridge.services.kv import kv_delete, kv_get, kv_list, kv_set
from mcpbridge.services.quotas import quota_status
from mcpbridge.services.secrets import secret_get, secret_put
from tests.dataplane import stores

pytestmark = pytest.mark.django_db


def used(principal, limit):
    return quota_status(principal=principal)[limit]["used"]


def test_kv_round_trip_and_usage(backend, make_principal):
    p = make_principal()
    assert kv_set(principal=p, key="greeting", value="hello") == {"key": "greeting", "size": 5, "expires_at": None}
    assert kv_get(principal=p, key="greeting") == {"key": "greeting", "value": "hello", "expires_at": None}
    kv_set(principal=p, key="greeting", value="héllo")
    assert kv_get(principal=p, key="greeting")["value"] == "héllo"
    assert used(p, "kv_items") == 1
    assert kv_delete(principal=p, key="greeting") == {"key": "greeting", "deleted": True}
    assert kv_delete(principal=p, key="greeting") == {"key": "greeting", "deleted": False}
    assert used(p, "kv_items") == 0
    with pytest.raises(NotFound):
        kv_get(principal=p, key="greeting")


def test_kv_ttl_sets_expiry_and_expired_items_are_invisible(backend, make_principal):
    p = make_principal()
    result = kv_set(principal=p, key="session", value="x", ttl_seconds=3600)
    expires = datetime.fromisoformat(result["expires_at"])
    assert timedelta(seconds=3590) < expires - datetime.now(timezone.utc) <= timedelta(seconds=3600)
    assert kv_get(principal=p, key="session")["expires_at"] == result["expires_at"]
    past = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=5)
    data_plane().kv.put(p.namespace, "stale", "old", 3, past, must_exist=None)
    with pytest.raises(NotFound):
        kv_get(principal=p, key="stale")
    assert [i["key"] for i in kv_list(principal=p)["items"]] == ["session"]


def test_kv_overwriting_an_expired_item_keeps_the_count(backend, make_principal):
    p = make_principal()
    kv_set(principal=p, key="k", value="v")
    past = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=5)
    data_plane().kv.put(p.namespace, "k", "v", 1, past, must_exist=True)
    kv_set(principal=p, key="k", value="again")
    assert used(p, "kv_items") == 1


def test_kv_list_pages_through_a_prefix_in_key_order(backend, make_principal):
    p = make_principal()
    wanted = [f"logs/{i:02d}" for i in range(7)]
    for key in [*wanted, "other/1", "logz", "a"]:
        kv_set(principal=p, key=key, value=key)
    seen, cursor, pages = [], None, 0
    while True:
        page = kv_list(principal=p, prefix="logs/", limit=3, cursor=cursor)
        seen += [i["key"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == wanted and pages == 3
    assert page["items"][0] == {"key": "logs/06", "size": 7, "expires_at": None}
    with pytest.raises(InvalidInput) as err:
        kv_list(principal=p, prefix="other/", cursor=kv_list(principal=p, prefix="logs/", limit=1)["next_cursor"])
    assert err.value.details["argument"] == "cursor"


MIXED_CASE_KEYS = ["Log/1", "LOG/2", "log/1", "log/2", "log/3", "log/Z", "log/a", "log/é", "log0", "loG/1"]


def _all_pages(list_page, prefix):
    seen, cursor = [], None
    while True:
        page = list_page(prefix=prefix, limit=2, cursor=cursor)
        seen.append([item.get("key", item.get("name")) for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_kv_prefixes_match_case_sensitively_and_page_in_code_point_order(backend, make_principal):
    p = make_principal()
    for key in MIXED_CASE_KEYS:
        kv_set(principal=p, key=key, value="v")
    pages = _all_pages(lambda **kw: kv_list(principal=p, **kw), "log/")
    assert pages == [["log/1", "log/2"], ["log/3", "log/Z"], ["log/a", "log/é"]]
    assert _all_pages(lambda **kw: kv_list(principal=p, **kw), "L") == [["LOG/2", "Log/1"]]
    assert kv_list(principal=p, prefix="LOG/")["items"] == [{"key": "LOG/2", "size": 1, "expires_at": None}]


def test_artifact_prefixes_match_case_sensitively_and_page_in_code_point_order(backend, make_principal):
    p = make_principal(role="admin")
    for name in MIXED_CASE_KEYS:
        artifact_put(principal=p, name=name, content="v")
    pages = _all_pages(lambda **kw: artifact_list(principal=p, **kw), "log/")
    assert pages == [["log/1", "log/2"], ["log/3", "log/Z"], ["log/a", "log/é"]]
    assert _all_pages(lambda **kw: artifact_list(principal=p, **kw), "lo") == [
        ["loG/1", "log/1"], ["log/2", "log/3"], ["log/Z", "log/a"], ["log/é", "log0"]]


@pytest.mark.parametrize(
    "key, message",
    [
        ("", "must not be empty"),
        ("/etc/passwd", "must not start with '/'"),
        ("a/../b", "must not contain '..'"),
        ("bell\x07", "control characters"),
        ("x" * 1025, "the limit is 1024"),
        ("é" * 513, "the limit is 1024"),
        (42, "must be a string"),
    ],
)
def test_kv_rejects_keys_that_could_escape_or_break_the_namespace(backend, make_principal, key, message):
    p = make_principal()
    with pytest.raises(InvalidInput) as err:
        kv_set(principal=p, key=key, value="v")
    assert message in err.value.message and err.value.details["argument"] == "key"
    assert stores.all_kv() == []


def test_artifacts_inline_text_and_binary(backend, make_principal):
    p = make_principal(role="admin")
    assert artifact_put(principal=p, name="notes/a.md", content="# hi", content_type="text/markdown")["stored"]
    blob = bytes(range(256))
    artifact_put(principal=p, name="bin/data", content_base64=base64.b64encode(blob).decode())
    assert artifact_get(principal=p, name="notes/a.md") == {
        "name": "notes/a.md", "size": 4, "content_type": "text/markdown", "content": "# hi"
    }
    got = artifact_get(principal=p, name="bin/data")
    assert base64.b64decode(got["content_base64"]) == blob and got["content_type"] == "application/octet-stream"
    assert used(p, "storage_bytes") == 260
    artifact_put(principal=p, name="bin/data", content="small")
    assert used(p, "storage_bytes") == 9
    listing = artifact_list(principal=p, limit=1)
    assert [i["name"] for i in listing["items"]] == ["bin/data"] and listing["next_cursor"]
    rest = artifact_list(principal=p, cursor=listing["next_cursor"])
    assert [(i["name"], i["size"]) for i in rest["items"]] == [("notes/a.md", 4)] and rest["next_cursor"] is None
    assert artifact_delete(principal=p, name="notes/a.md") == {"name": "notes/a.md", "deleted": True}
    assert artifact_delete(principal=p, name="notes/a.md")["deleted"] is False
    assert used(p, "storage_bytes") == 5
    with pytest.raises(NotFound):
        artifact_get(principal=p, name="notes/a.md")


def _http_put(url, body, content_type):
    if url.startswith("http://127.0.0.1:8000/"):  # the local adapter's URL, served by the Django app
        return Client().generic("PUT", url.removeprefix("http://127.0.0.1:8000"), body, content_type=content_type).status_code
    return requests.put(url, data=body, headers={"Content-Type": content_type}, timeout=10).status_code


def _http_get(url):
    if url.startswith("http://127.0.0.1:8000/"):
        response = Client().get(url.removeprefix("http://127.0.0.1:8000"))
        return response.status_code, response.content
    response = requests.get(url, timeout=10)
    return response.status_code, response.content


def test_large_artifacts_go_through_presigned_urls(backend, make_principal, settings):
    settings.ARTIFACT_INLINE_MAX_BYTES = 64
    p = make_principal()
    body = b"0123456789" * 100
    with pytest.raises(InvalidInput) as err:
        artifact_put(principal=p, name="big.bin", content_base64=base64.b64encode(body).decode())
    assert "upload URL" in err.value.message
    offer = artifact_put(principal=p, name="big.bin", size=len(body), content_type="application/x-test")
    assert offer["stored"] is False and offer["upload_method"] == "PUT"
    assert used(p, "storage_bytes") == len(body)  # the declared size is counted up front
    assert _http_put(offer["upload_url"], body, "application/x-test") == 200
    got = artifact_get(principal=p, name="big.bin")
    assert "content" not in got and got["size"] == len(body)
    status, downloaded = _http_get(got["download_url"])
    assert status == 200 and downloaded == body


def test_secrets_round_trip_versions_and_count(backend, make_principal):
    p = make_principal(role="admin")
    first = secret_put(principal=p, name="db/password", value="one")
    second = secret_put(principal=p, name="db/password", value="two")
    assert first["version"] != second["version"]
    assert secret_get(principal=p, name="db/password") == {"name": "db/password", "value": "two", "version": second["version"]}
    assert used(p, "secrets_count") == 1
    with pytest.raises(NotFound):
        secret_get(principal=p, name="db/other")
    with pytest.raises(InvalidInput) as err:
        secret_put(principal=p, name="has space", value="x")
    assert err.value.details["argument"] == "name"
    with pytest.raises(InvalidInput) as err:
        secret_put(principal=p, name="big", value="x" * 65537)
    assert "65536" in err.value.message


def test_event_send_queues_in_the_outbox_with_tenant_and_context(backend, make_principal):
    p = make_principal()
    result = event_send(principal=p, detail_type="order.created", detail={"order": 7})
    assert result["status"] == "queued"
    row = OutboxEvent.objects.get(event_id=result["event_id"])
    assert row.detail["tenantId"] == p.tenant_id and row.detail["namespace"] == p.namespace
    assert row.detail["data"] == {"order": 7} and row.detail["eventId"] == result["event_id"]
    assert used(p, "events_per_month") == 1
    with pytest.raises(InvalidInput):
        event_send(principal=p, detail_type="big", detail={"x": "y" * 300_000})
    with pytest.raises(InvalidInput):
        event_send(principal=p, detail_type="nan", detail={"x": float("nan")})


@pytest.mark.parametrize(
    "call",
    [
        lambda p: kv_set(principal=p, key="k", value="v"),
        lambda p: kv_delete(principal=p, key="k"),
        lambda p: artifact_put(principal=p, name="a", content="x"),
        lambda p: artifact_delete(principal=p, name="a"),
        lambda p: event_send(principal=p, detail_type="t", detail={}),
        lambda p: secret_get(principal=p, name="s"),
        lambda p: secret_put(principal=p, name="s", value="v"),
    ],
)
def test_capabilities_are_checked_by_the_services_themselves(backend, make_principal, call):
    viewer = make_principal(role="viewer")
    with pytest.raises(CapabilityDenied):
        call(viewer)
    assert stores.all_kv() == [] and stores.all_secret_names() == []
    assert not [k for k in stores.all_artifact_keys() if k.startswith("t/")]
    assert not OutboxEvent.objects.filter(bus=OutboxEvent.Bus.TENANT).exists()


def test_key_scope_narrows_what_the_services_allow(backend, make_principal):
    p = make_principal(role="admin", scopes=["kv.read"])
    with pytest.raises(CapabilityDenied) as err:
        kv_set(principal=p, key="k", value="v")
    assert err.value.details["capability"] == "kv.write"


def test_users_cannot_write_secrets_but_admins_can(backend, make_principal, tenant):
    user = make_principal(tenant=tenant, role="user")
    with pytest.raises(CapabilityDenied):
        secret_put(principal=user, name="token", value="v")
