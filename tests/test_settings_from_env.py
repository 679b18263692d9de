"""Bad environment settings stop start-up with one line that names the variable, says what is wrong with the
value and gives an example, and a non-zero exit: for every variable of the README's configuration table."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# One bad value per variable. A variable added to the README's table without one here fails
# test_every_variable_of_the_readme_has_a_bad_value: give it a validated reader (controlplane/settings/env.py).
BAD_VALUES = {
    "DATABASE_URL": "nonsense",
    "REDIS_URL": "nonsense",
    "CELERY_BROKER_URL": "localhost:6379",
    "DATAPLANE_BACKEND": "gcp",
    "AWS_ENDPOINT_URL": "127.0.0.1:5000",
    "AWS_REGION": "Mars",
    "AWS_CONNECT_TIMEOUT": "slow",
    "AWS_READ_TIMEOUT": "-1",
    "AWS_MAX_ATTEMPTS": "0",
    "AWS_DYNAMODB_TABLE": "my table",
    "AWS_S3_BUCKET": "Bad_Bucket",
    "AWS_EVENT_BUS_NAME": "bus name!",
    "AWS_CONTROL_PLANE_BUS_NAME": "",
    "AWS_SECRETS_PREFIX": "pre fix",
    "DJANGO_SECRET_KEY": "short-secret",
    "API_KEY_HMAC_KEY": "short-secret",
    "DJANGO_DEBUG": "maybe",
    "DJANGO_ALLOWED_HOSTS": "https://cp.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "cp.example.com",
    "DJANGO_SUPERUSER_USERNAME": "bad name!",
    "DJANGO_SUPERUSER_PASSWORD": "pw1234",
    "DJANGO_SUPERUSER_EMAIL": "nobody",
    "MCP_ALLOWED_HOSTS": "http://mcp.example.com/",
    "MCP_ALLOWED_ORIGINS": "mcp.example.com",
    "MCP_PUBLIC_URL": "nonsense",
    "MCP_SESSION_IDLE_SECONDS": "soon",
    "MCP_WATCH_INTERVAL_SECONDS": "0",
    "MCP_HTTP_JSON_RESPONSE": "maybe",
    "MCP_SHUTDOWN_GRACE_SECONDS": "5.5",
    "MCP_DB_CONN_MAX_AGE": "-1",
    "API_STAFF_REQUESTS_PER_MINUTE": "0",
    "API_RATE_LIMIT_STORAGE_URL": "nonsense",
    "APP_PLANE_WEBHOOK_SECRET": "short-secret",
    "ARTIFACT_INLINE_MAX_BYTES": "256KiB",
    "ARTIFACT_URL_EXPIRES_SECONDS": "604801",
    "EVENTS_OUTBOX_MAX_ATTEMPTS": "many",
    "EVENTS_OUTBOX_BACKOFF_BASE": "nan",
    "EVENTS_OUTBOX_BACKOFF_MAX": "0",
    "EVENTS_OUTBOX_LEASE_SECONDS": "inf",
    "POLICY_CACHE_TIMEOUT": "forever",
    "POLICY_VERSION_FILE": "var/policy-version",
    "API_KEY_LAST_USED_RESOLUTION": "²",
    "MCP_CONCURRENCY_LEASE_SECONDS": "0",
    "DATAPLANE_DOWNLOAD_BASE_URL": "https://dl.example.com/files",
    "DJANGO_HTTPS": "maybe",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
    "DJANGO_SECURE_HSTS_SECONDS": "a year",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "sometimes",
    "DJANGO_SECURE_HSTS_PRELOAD": "2",
    "DJANGO_SECURE_SSL_REDIRECT": "please",
    "METRICS_BEARER_TOKEN": "tok-123",
    "LOG_FORMAT": "xml",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318",
    "OTEL_SERVICE_NAME": "control plane",
    "PROMETHEUS_MULTIPROC_DIR": "/nonexistent/metrics",
    "ADMIN_LOGIN_FAILURE_LIMIT": "0",
    "ADMIN_LOGIN_COOLOFF_SECONDS": "15m",
    "EVENTS_OUTBOX_POLL_SECONDS": "0",
    "MCP_SESSION_RECLAIM_GRACE_SECONDS": "a minute",
    "MCP_INITIALIZE_RATE_PER_MINUTE_PER_KEY": "0",
    "MCP_INITIALIZE_RATE_PER_MINUTE_PER_ADDRESS": "-5",
    "MCP_REPLICA_ID": "r1.eu",
    "MCP_SSE_RETRY_MS": "soon",
    "MCP_SSE_HISTORY_MAX_EVENTS": "0",
    "MCP_SSE_HISTORY_MAX_BYTES": "1 MiB",
    "MCP_SSE_HISTORY_SECONDS": "-1",
    "OAUTH_ACCESS_TOKEN_SECONDS": "15m",
    "OAUTH_REFRESH_TOKEN_SECONDS": "0",
    "OAUTH_AUTHORIZATION_CODE_SECONDS": "-60",
    "OAUTH_CONSENT_SECONDS": "ten minutes",
    "OAUTH_REGISTRATIONS_PER_MINUTE": "0",
    "OAUTH_UNUSED_REGISTRATION_SECONDS": "a day",
    "OAUTH_CLIENT_METADATA_TIMEOUT_SECONDS": "0",
    "OAUTH_CLIENT_METADATA_MAX_BYTES": "64KiB",
    "OAUTH_CLIENT_METADATA_CACHE_SECONDS": "-1",
    "OAUTH_CLIENT_METADATA_ALLOW_PRIVATE": "sometimes",
}
SECRETS = {
    "DJANGO_SECRET_KEY", "API_KEY_HMAC_KEY", "DJANGO_SUPERUSER_PASSWORD", "APP_PLANE_WEBHOOK_SECRET", "METRICS_BEARER_TOKEN",
}


def readme_variables() -> list[str]:
    """Every variable named in the first column of the README's configuration table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration (environment variables)", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    names = [name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])]
    assert len(names) > 30, "the README's configuration table was not found"
    return names


def start(variable: str, value: str, tmp_path, command=("manage.py", "check")) -> subprocess.CompletedProcess:
    env = {**os.environ, variable: value, "CONTROLPLANE_VAR_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_every_variable_of_the_readme_has_a_bad_value():
    assert sorted(set(readme_variables()) - set(BAD_VALUES)) == []


@pytest.mark.parametrize("variable", sorted(BAD_VALUES))
def test_a_bad_value_stops_start_up_with_one_line_naming_the_variable(variable, tmp_path):
    result = start(variable, BAD_VALUES[variable], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {variable}: ")
    assert "(example: " in lines[0] and "Traceback" not in result.stderr
    if variable in SECRETS:
        assert BAD_VALUES[variable] not in lines[0] and "characters" in lines[0]


def test_the_messages_say_what_is_wrong(tmp_path):
    assert start("DATABASE_URL", "nonsense", tmp_path).stderr.strip() == (
        "Configuration error: DATABASE_URL: 'nonsense' is not a sqlite:/// or postgres:// database URL "
        "(example: postgres://user@host:5432/db)")
    assert "DATABASE_URL: '' is not" in start("DATABASE_URL", "", tmp_path).stderr
    assert "DJANGO_DEBUG: 'maybe' is not a yes/no value" in start("DJANGO_DEBUG", "maybe", tmp_path).stderr
    assert "is above the maximum of 604800" in start("ARTIFACT_URL_EXPIRES_SECONDS", "604801", tmp_path).stderr


def test_a_password_in_a_bad_url_is_not_shown(tmp_path):
    stderr = start("DATABASE_URL", "postgres://ops:hunter2@db.example.com/", tmp_path).stderr
    assert "hunter2" not in stderr and "postgres://ops:***@db.example.com/" in stderr


@pytest.mark.parametrize("command", [
    ("-m", "uvicorn", "controlplane.asgi:application", "--port", "0"),
    ("-m", "celery", "-A", "controlplane", "worker", "--pool", "solo"),
    ("manage.py", "runmcp"),
])
def test_every_entry_point_stops_with_the_same_line(command, tmp_path):
    result = start("REDIS_URL", "nonsense", tmp_path, command)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Configuration error: REDIS_URL: 'nonsense' is not a URL starting with redis:// or rediss:// or unix:// "
        "(example: redis://127.0.0.1:6379/0)")


def test_good_settings_pass(tmp_path):
    env = {**os.environ, "DATAPLANE_BACKEND": "aws", "AWS_READ_TIMEOUT": "2.5", "CONTROLPLANE_VAR_DIR": str(tmp_path),
           "DJANGO_DEBUG": "off", "REDIS_URL": "redis://127.0.0.1:6379/0", "CELERY_BROKER_URL": "",
           "DJANGO_ALLOWED_HOSTS": ".example.com,localhost", "MCP_ALLOWED_HOSTS": "mcp.example.com:*,127.0.0.1:*",
           "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "API_RATE_LIMIT_STORAGE_URL": "memory://",
           "DJANGO_SUPERUSER_EMAIL": "ops@example.com", "AWS_S3_BUCKET": "my-bucket.v2"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_a_download_host_must_be_an_allowed_host(tmp_path):
    stderr = start("DATAPLANE_DOWNLOAD_BASE_URL", "https://dl.example.com", tmp_path).stderr
    assert stderr.strip() == (
        "Configuration error: DATAPLANE_DOWNLOAD_BASE_URL: 'https://dl.example.com' is not in DJANGO_ALLOWED_HOSTS "
        "(example: add its host to DJANGO_ALLOWED_HOSTS too)"
    )
