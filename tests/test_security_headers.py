"""Browser-facing hardening (issue 8.1): a CSP on every page, frame/sniffing rules always, and secure cookies,
HSTS and the HTTPS redirect exactly when DJANGO_HTTPS says TLS is in front."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[1]


def _policy(response) -> dict[str, list[str]]:
    directives = (part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip())
    return {name: values for name, *values in directives}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/api/decide/docs", "/api/v1/docs/", "/api/v1/redoc/"])
def test_every_page_has_a_csp_that_runs_only_own_scripts(path):
    response = Client().get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_only_the_docs_pages_allow_inline_styles_and_load_nothing_from_outside():
    assert _policy(Client().get("/admin/login/"))["style-src"] == ["'self'"]
    assert "'unsafe-inline'" in _policy(Client().get("/api/v1/docs/"))["style-src"]
    redoc = Client().get("/api/v1/redoc/")
    assert _policy(redoc)["worker-src"] == ["blob:"]
    assert b"fonts.googleapis.com" not in redoc.content
    swagger = Client().get("/api/v1/docs/")
    assert b"<script>" not in swagger.content  # its start-up script is a file (SpectacularSwaggerSplitView)


_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
         "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_HTTPONLY", "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF"]
plain = Client().get("/api/decide/docs")
behind_tls = Client().get("/api/decide/docs", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "settings": {name: getattr(settings, name, None) for name in names},
    "plain": [plain.status_code, plain.get("Location")],
    "tls": [behind_tls.status_code, behind_tls.get("Strict-Transport-Security")],
}))
"""


def _probe(tmp_path, **extra) -> dict:
    env = {**os.environ, "CONTROLPLANE_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "controlplane.settings", **extra}
    for name in ("DJANGO_HTTPS", "DJANGO_SECURE_PROXY_SSL_HEADER", "DJANGO_DEBUG"):
        if name not in extra:
            env.pop(name, None)
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_stays_on_plain_http(tmp_path):
    seen = _probe(tmp_path)
    assert seen["settings"] == {
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_PROXY_SSL_HEADER": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
    }
    assert seen["plain"] == [200, None]


def test_behind_tls_cookies_are_secure_http_redirects_and_hsts_is_sent(tmp_path):
    seen = _probe(tmp_path, DJANGO_HTTPS="1", DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert seen["settings"]["SESSION_COOKIE_SECURE"] is True and seen["settings"]["CSRF_COOKIE_SECURE"] is True
    assert seen["settings"]["SECURE_SSL_REDIRECT"] is True
    assert seen["settings"]["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert seen["plain"] == [301, "https://testserver/api/decide/docs"]
    assert seen["tls"] == [200, "max-age=31536000"]


def test_deploy_check_has_no_transport_warnings_behind_tls(tmp_path):
    env = {
        **os.environ,
        "CONTROLPLANE_VAR_DIR": str(tmp_path),
        "DJANGO_HTTPS": "1",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "DJANGO_DEBUG": "0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    # W004 HSTS, W008 SSL redirect, W012 session cookie, W016 CSRF cookie, W019 X-Frame-Options, W006 nosniff
    for warning in ("W004", "W006", "W008", "W012", "W016", "W019", "W020"):
        assert f"security.{warning}" not in output, output


def test_bad_proxy_header_is_named(tmp_path):
    env = {**os.environ, "CONTROLPLANE_VAR_DIR": str(tmp_path), "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DJANGO_SECURE_PROXY_SSL_HEADER: 'X-Forwarded-Proto: https' is not a header name" in result.stderr
