"""Browser-facing hardening: a Content-Security-Policy on every page (django-csp), frame and sniffing rules always,
and secure cookies, HSTS and the HTTPS redirect when DJANGO_HTTPS says TLS is in front.

The embedded default (`make run`, plain http on 127.0.0.1) keeps working: nothing here needs TLS unless
DJANGO_HTTPS is on.
"""

from csp.constants import NONE, SELF

from controlplane.settings.env import read_bool, read_int, read_str

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
HTTPS = read_bool("DJANGO_HTTPS", False)
# The header a TLS-terminating proxy sets to "https" (e.g. X-Forwarded-Proto); only when the proxy always sets it.
_proxy_header = read_str(
    "DJANGO_SECURE_PROXY_SSL_HEADER", "", pattern=r"[A-Za-z0-9-]*", what="a header name", example="X-Forwarded-Proto",
    min_length=0,
)
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")

# Read whether or not HTTPS is on, so a bad value is caught before the day it is switched on.
_ssl_redirect = read_bool("DJANGO_SECURE_SSL_REDIRECT", True)
_hsts_seconds = read_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600, example="31536000")
_hsts_subdomains = read_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
_hsts_preload = read_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _ssl_redirect
    # Load balancers and Prometheus probe over plain http inside the network; a redirect would fail them.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = _hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _hsts_subdomains
    SECURE_HSTS_PRELOAD = _hsts_preload
