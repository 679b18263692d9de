"""Bad replica settings stop start-up with a message that names the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "variable,value,message",
    [
        ("MCP_REPLICA_ID", "r1.eu", "MCP_REPLICA_ID='r1.eu' is not valid: use 1-32 letters, digits, '-' or '_'"),
        ("MCP_SSE_HISTORY_MAX_BYTES", "0", "MCP_SSE_HISTORY_MAX_BYTES=0 is not valid: give a positive number."),
        ("MCP_SSE_RETRY_MS", "soon", "MCP_SSE_RETRY_MS='soon' is not a valid int"),
    ],
)
def test_bad_replica_setting_is_named(variable, value, message, tmp_path):
    env = {**os.environ, variable: value, "CONTROLPLANE_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert message in result.stderr
