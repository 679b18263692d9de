"""A client that leaves while the database is unreachable: its session's end cannot be recorded, which costs one
log line per outage (not a traceback per session), and the stale-session sweep ends the row afterwards."""

import logging

import anyio
import pytest
from django.db import connection

from controlplane.database import database_outage
from mcpbridge.models import McpSession
from mcpbridge.server.pipeline import CallerInfo
from mcpbridge.server.runtime import Runtime
from mcpbridge.server.sessions import end_stale_sessions
from tests.mcp.helpers import member_key

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("mcp_db"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="an unreachable server needs PostgreSQL"),
]


def test_a_session_ended_while_the_database_is_unreachable_logs_one_line_and_is_swept_later(monkeypatch, caplog):
    _, _, raw = member_key("user")
    runtime = Runtime(transport="http", credential=lambda ctx: raw)
    principal = runtime.pipeline.principal(CallerInfo(raw), strict_context=False)
    live, _ = runtime.sessions.open(principal=principal, raw_key=raw, protocol_version="2025-11-25")
    database_outage.succeeded()  # a clean slate: an outage logged by an earlier test would mute this one's line
    caplog.clear()
    # Every new connection (the end runs in a worker thread, on its own) now fails: nothing listens there.
    monkeypatch.setitem(connection.settings_dict, "PORT", "1")
    with caplog.at_level(logging.WARNING):
        anyio.run(runtime._connection_closed, live)
    monkeypatch.undo()
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["Database unavailable"], caplog.text
    assert not any(r.exc_info for r in caplog.records)
    assert McpSession.objects.get(pk=live.record_id).ended_at is None
    assert end_stale_sessions(idle_seconds=-1) == 1
    assert McpSession.objects.get(pk=live.record_id).ended_at is not None
