"""Bad environment settings stop start-up with a message that names the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "variable,value,message",
    [
        ("MCP_SESSION_IDLE_SECONDS", "soon", "MCP_SESSION_IDLE_SECONDS='soon' is not a valid int"),
        ("AWS_READ_TIMEOUT", "slow", "AWS_READ_TIMEOUT='slow' is not a valid float"),
        ("DATAPLANE_BACKEND", "gcp", "DATAPLANE_BACKEND='gcp' is not valid: use one of local, aws."),
        ("DATAPLANE_DOWNLOAD_BASE_URL", "downloads.example.com", "DATAPLANE_DOWNLOAD_BASE_URL='downloads.example.com' is not valid"),
        ("DATAPLANE_DOWNLOAD_BASE_URL", "https://dl.example.com/files", "DATAPLANE_DOWNLOAD_BASE_URL='https://dl.example.com/files' is not valid"),
        ("DATAPLANE_DOWNLOAD_BASE_URL", "https://dl.example.com", "add its host to DJANGO_ALLOWED_HOSTS too"),
    ],
)
def test_bad_setting_is_named(variable, value, message, tmp_path):
    env = {**os.environ, variable: value, "CONTROLPLANE_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_good_settings_pass(tmp_path):
    env = {**os.environ, "DATAPLANE_BACKEND": "aws", "AWS_READ_TIMEOUT": "2.5", "CONTROLPLANE_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
