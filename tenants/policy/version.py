"""The policy version: one counter every change to an input of policy resolution moves. Resolved principals are
cached per version, so "has anything changed?" is asked on every call; a shared file answers it without a
database read where every process shares one machine (tenants.policy.version_file, POLICY_VERSION_FILE)."""

from pathlib import Path

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F

from controlplane.database import DATABASE_UNAVAILABLE
from tenants.models.policy_state import PolicyState
from tenants.policy.version_file import VersionFile

# Read on every key resolution (every MCP call, every decision), so it is plain SQL composed once instead of a
# queryset: compiling the queryset cost ten times the query itself on SQLite (about 0.3 ms a call). Built lazily per database alias: names are only final once the app registry is ready.
_VERSION_SQL: dict[str, str] = {}
# (setting, database name) -> the shared file, or None when there is none: resolved on first use, because the
# test runner renames the database after settings are loaded.
_files: dict[tuple[str, str], VersionFile | None] = {}


def policy_version() -> int:
    """The current version: from the shared file while this process trusts it, else from the database."""
    db = PolicyState.objects.db
    connection = connections[db]
    shared = version_file(db)
    if shared is not None and not connection.in_atomic_block:
        # Inside a transaction only the database can show this transaction's own, uncommitted changes.
        published = shared.trusted()
        if published is not None:
            return published
    version = stored_policy_version()
    if shared is not None and not connection.in_atomic_block:
        shared.observed(version, _committed_version)
    return version


def known_policy_version() -> int | None:
    """The current version when it is known without any database work (the file, trusted), else None. For the
    event loop: it never touches a database connection (even looking one up costs there)."""
    shared = version_file(PolicyState.objects.db)
    return shared.trusted() if shared is not None else None


def stored_policy_version() -> int:
    db = PolicyState.objects.db
    connection = connections[db]
    sql = _VERSION_SQL.get(db)
    if sql is None:
        quote, meta = connection.ops.quote_name, PolicyState._meta
        sql = _VERSION_SQL[db] = (
            f"SELECT {quote(meta.get_field('version').column)} FROM {quote(meta.db_table)} "
            f"WHERE {quote(meta.pk.column)} = 1"
        )
    if (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
    ):
        # The first query of a unit of work on a kept connection (a governed call starts with this read): it
        # stands in for the health check's own "SELECT 1", one round trip instead of two on every call. A
        # connection the database dropped fails it and is replaced, once, as the health check would have done.
        connection.health_check_done = True
        try:
            return _read(connection, sql)
        except DATABASE_UNAVAILABLE:
            connection.close()
    return _read(connection, sql)


def _read(connection, sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    if row is None:
        PolicyState.objects.get_or_create(pk=1)
        return 0
    return row[0]


def _publish(shared: VersionFile) -> None:
    try:
        published = shared.publish(_committed_version)
    except DATABASE_UNAVAILABLE:
        # Committed, but the version could not be read back: the change must not fail for it. Other processes
        # see it once their trust in the file lapses (TRUST_SECONDS); this one stops trusting the file now.
        published = False
    if not published:
        shared.forget_trust()


def _committed_version() -> int:
    # Publishing runs after the commit (or outside any transaction), so this reads committed state.
    return stored_policy_version()


async def apolicy_version() -> int:
    version = await PolicyState.objects.filter(pk=1).values_list("version", flat=True).afirst()
    return version or 0


def policy_version_bump() -> None:
    if not PolicyState.objects.filter(pk=1).update(version=F("version") + 1):
        PolicyState.objects.get_or_create(pk=1, defaults={"version": 1})
    shared = version_file(PolicyState.objects.db)
    if shared is not None:
        # Before the change is answered (on_commit runs in the committing thread, right after COMMIT), so the
        # next call in any process on this machine sees it. A bump rolled back publishes nothing.
        transaction.on_commit(lambda: _publish(shared), using=PolicyState.objects.db)


def version_file(db: str = "default") -> VersionFile | None:
    database = settings.DATABASES[db]
    key = (settings.POLICY_VERSION_FILE, database["ENGINE"], str(database["NAME"]))
    try:
        return _files[key]
    except KeyError:
        pass
    path = _file_path(*key)
    shared = _files[key] = VersionFile(path) if path is not None else None
    return shared


def _file_path(setting: str, engine: str, name: str) -> Path | None:
    if setting == "off":
        return None
    if setting != "auto":
        return Path(setting)
    # SQLite: beside the database file, so whatever shares the database shares the file. Other databases can be
    # shared across machines, where a local file would miss another machine's changes: only when configured.
    if not engine.endswith("sqlite3") or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).with_name(Path(name).name + "-policy-version")


def forget_version_files() -> None:
    """Close the shared files (tests switch databases and settings)."""
    for shared in _files.values():
        if shared is not None:
            shared.close()
    _files.clear()
