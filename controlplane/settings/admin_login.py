"""Admin brute force (django-axes): repeated failed logins lock the (username, address) pair out for a cool-off."""

from datetime import timedelta

from controlplane.settings.base import REDIS_URL
from controlplane.settings.env import read_int

AXES_FAILURE_LIMIT = read_int("ADMIN_LOGIN_FAILURE_LIMIT", 5, minimum=1, example="5")
AXES_COOLOFF_TIME = timedelta(seconds=read_int("ADMIN_LOGIN_COOLOFF_SECONDS", 900, minimum=1, example="900"))
# Per username and address together: an attacker elsewhere cannot lock a real admin out of their own login.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# With Redis, failures live in the cache and expire with the cool-off (shared by every web process); the
# embedded default (a process-local cache) keeps them in axes' table, whose rows past the cool-off are purged.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler" if REDIS_URL else "axes.handlers.database.AxesDatabaseHandler"
# Successful logins are not logged by axes (the audit log is the record of refusals).
AXES_DISABLE_ACCESS_LOG = True
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out neither count nor extend the cool-off.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "admin/login_locked_out.html"
# Only the client address Django sees (REMOTE_ADDR: set the ASGI server's proxy headers behind a proxy).
AXES_CLIENT_IP_CALLABLE = "tenants.admin.login_audit.client_address"
# Not verbose: a username field often holds a mistyped password, which must not reach the log.
AXES_VERBOSE = False
