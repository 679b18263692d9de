"""Database faults at an exact point of a unit of work, on the real test PostgreSQL database: this thread's own
backend is terminated (pg_terminate_backend from a second connection), so the driver's errors are the real ones."""

import psycopg
import pytest
from django.db import connection


def terminate_this_threads_backend() -> None:
    pid = connection.connection.info.backend_pid
    params = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def _raise_the_dead_connections_error() -> None:
    with connection.wrap_database_errors:
        connection.connection.execute("SELECT 1")


class CommitFaults:
    """One fault at the next COMMIT of this thread's connection (timing cannot hit that window reliably)."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.fired = 0

    def at_next_commit(self, *, committed: bool, check_reaches_database: bool = True) -> None:
        """committed: the COMMIT happens and only its answer is lost; otherwise the backend is gone before the
        COMMIT arrives (the client sees the same error either way). check_reaches_database=False: a new
        connection cannot be opened afterwards (until the test undoes the monkeypatch)."""
        real = connection._commit

        def commit():
            if self.fired:
                return real()
            self.fired += 1
            if committed:
                real()
            terminate_this_threads_backend()
            if not check_reaches_database:
                self.monkeypatch.setitem(connection.settings_dict, "PORT", "1")  # nothing listens there
            if committed:
                _raise_the_dead_connections_error()
            return real()

        self.monkeypatch.setattr(connection, "_commit", commit)


@pytest.fixture
def commit_faults(monkeypatch):
    yield CommitFaults(monkeypatch)
    monkeypatch.undo()
    connection.close()
