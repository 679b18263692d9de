"""Browser-facing hardening: a Content-Security-Policy on every page (django-csp), frame and sniffing rules always,
and secure cookies, HSTS and the HTTPS redirect when DJANGO_HTTPS says TLS is in front.

The embedded default (`make run`, plain http on 127.0.0.1) keeps working: nothing here needs TLS unless
DJANGO_HTTPS is on.
"""

import re

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from controlplane.settings.env import env

# Strict for every page Django serves; the API docs views add only what Swagger UI / Redoc need
# (controlplane/csp.py). Tenant downloads set their own sandboxing policy, which this one never replaces.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# On when the site is reached over TLS (directly or through a proxy that terminates it).
HTTPS = env.bool("DJANGO_HTTPS", default=False)
# The header a TLS-terminating proxy sets to "https" (e.g. X-Forwarded-Proto); only when the proxy always sets it.
_proxy_header = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="").strip()
if _proxy_header:
    if not re.fullmatch(r"[A-Za-z0-9-]+", _proxy_header):
        raise ImproperlyConfigured(
            f"DJANGO_SECURE_PROXY_SSL_HEADER={_proxy_header!r} is not valid: give a header name such as X-Forwarded-Proto."
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")

if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Load balancers and Prometheus probe over plain http inside the network; a redirect would fail them.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
