"""The shared policy version file: resolutions at an unchanged version read no database, and every way the
file can be wrong (behind, half written, unwritable, replaced) costs database reads, never a stale answer
past the moment the change was committed (or, for a file nobody could update, past TRUST_SECONDS)."""

import os
from pathlib import Path

import pytest
from django.db import connection, transaction

from tenants.models.policy_state import PolicyState
from tenants.policy import ResolutionError, ResolutionFailure, resolve_api_key
from tenants.policy import version_file as version_file_module
from tenants.policy.version import known_policy_version, policy_version, stored_policy_version, version_file
from tenants.policy.version_file import VersionFile
from tenants.services import Actor, api_key_revoke
from tests.factories import make_key, make_member, make_tenant, revoke_in_another_process



@pytest.fixture
def long_trust(monkeypatch):
    """Trust the file for a minute: what is seen then comes from the file, not from trust running out."""
    monkeypatch.setattr(version_file_module, "TRUST_SECONDS", 60)


@pytest.fixture
def member_key():
    membership = make_member(make_tenant(), "user")
    key, raw = make_key(membership)
    return key, raw


def _shared() -> VersionFile:
    shared = version_file()
    assert shared is not None, "SQLite's default is a file beside the database"
    return shared


@pytest.fixture
def file_setting(settings, tmp_path):
    """SQLite has the file by default; PostgreSQL only when configured (all processes on one machine)."""
    if connection.vendor != "sqlite":
        settings.POLICY_VERSION_FILE = str(tmp_path / "policy-version")
    return settings


@pytest.mark.django_db(transaction=True)
def test_a_resolution_at_an_unchanged_version_reads_no_database(file_setting, member_key, long_trust,
                                                                 django_assert_num_queries):
    _, raw = member_key
    resolve_api_key(raw)
    with django_assert_num_queries(0):
        resolve_api_key(raw)
    assert known_policy_version() == stored_policy_version()


@pytest.mark.django_db(transaction=True)
def test_a_revocation_committed_in_another_process_is_seen_by_the_next_resolution(file_setting, member_key,
                                                                                   long_trust):
    key, raw = member_key
    resolve_api_key(raw)
    resolve_api_key(raw)  # from memory, at the version the file shows
    revoke_in_another_process(key)
    with pytest.raises(ResolutionError) as info:
        resolve_api_key(raw)
    assert info.value.reason == ResolutionFailure.REVOKED


@pytest.mark.django_db(transaction=True)
def test_a_change_inside_a_transaction_is_seen_inside_it(file_setting, member_key, long_trust):
    key, raw = member_key
    resolve_api_key(raw)
    resolve_api_key(raw)  # the file is trusted now
    with transaction.atomic():
        resolve_api_key(raw)
        api_key_revoke(api_key=key, actor=Actor("test"))  # not committed: the file cannot know yet
        with pytest.raises(ResolutionError):
            resolve_api_key(raw)


@pytest.mark.django_db(transaction=True)
def test_a_file_left_behind_is_trusted_only_until_the_next_check_and_then_repaired(file_setting, member_key,
                                                                                    monkeypatch):
    key, raw = member_key
    resolve_api_key(raw)
    # A change whose publisher died between its commit and its publish: the database moved, the file did not.
    PolicyState.objects.filter(pk=1).update(version=stored_policy_version() + 1)
    key.revoked_at = key.created_at
    type(key).objects.filter(pk=key.pk).update(revoked_at=key.created_at)
    _shared().forget_trust()  # what TRUST_SECONDS passing does
    with pytest.raises(ResolutionError):
        resolve_api_key(raw)
    assert _shared().read() == stored_policy_version()


@pytest.mark.django_db(transaction=True)
def test_a_half_written_file_counts_as_unknown(file_setting, member_key, long_trust):
    _, raw = member_key
    resolve_api_key(raw)
    shared = _shared()
    version = stored_policy_version()
    with open(shared.path, "r+b") as half_written:
        half_written.write((version + 1).to_bytes(8, "little"))  # the new value, its check not yet written
    assert shared.read() is None
    assert known_policy_version() is None
    assert policy_version() == version  # from the database, which also repairs the file
    assert shared.read() == version


@pytest.mark.django_db(transaction=True)
def test_an_unusable_file_falls_back_to_the_database(settings, member_key, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.POLICY_VERSION_FILE = str(blocker / "policy-version")
    key, raw = member_key
    resolve_api_key(raw)
    assert known_policy_version() is None
    api_key_revoke(api_key=key, actor=Actor("test"))
    with pytest.raises(ResolutionError):
        resolve_api_key(raw)


@pytest.mark.django_db(transaction=True)
def test_a_replaced_file_is_followed(file_setting, member_key, long_trust):
    key, raw = member_key
    resolve_api_key(raw)
    shared = _shared()
    shared.path.unlink()  # a new file under the same name: what other processes publish to from now on
    shared.forget_trust()
    assert policy_version() == stored_policy_version()
    assert os.stat(shared.path).st_ino == os.fstat(shared._fd).st_ino
    revoke_in_another_process(key)
    with pytest.raises(ResolutionError):
        resolve_api_key(raw)


def test_the_default_is_beside_sqlite_and_none_for_other_databases():
    from tenants.policy.version import _file_path

    sqlite, postgresql = "django.db.backends.sqlite3", "django.db.backends.postgresql"
    assert _file_path("auto", sqlite, "/srv/var/db.sqlite3") == Path("/srv/var/db.sqlite3-policy-version")
    assert _file_path("auto", sqlite, ":memory:") is None
    assert _file_path("auto", postgresql, "controlplane") is None
    assert _file_path("/run/cp/version", postgresql, "controlplane") == Path("/run/cp/version")
    assert _file_path("off", sqlite, "/srv/var/db.sqlite3") is None
