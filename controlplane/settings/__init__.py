"""Settings, read from the environment. One small module per integration.

Loaded under the start-up guard, so whichever entry point loads them (manage.py, uvicorn, celery, wsgi) a bad
variable stops it with one line naming the variable and exit status 2, not a traceback."""

from controlplane.startup import exit_on_bad_settings

with exit_on_bad_settings():
    from controlplane.settings.base import *  # noqa: F401,F403
    from controlplane.settings.admin_login import *  # noqa: F401,F403
    from controlplane.settings.api import *  # noqa: F401,F403
    from controlplane.settings.aws import *  # noqa: F401,F403
    from controlplane.settings.celery import *  # noqa: F401,F403
    from controlplane.settings.mcp import *  # noqa: F401,F403
    from controlplane.settings.oauth import *  # noqa: F401,F403
    from controlplane.settings.ops import *  # noqa: F401,F403
    from controlplane.settings.replicas import *  # noqa: F401,F403
    from controlplane.settings.security import *  # noqa: F401,F403
    from controlplane.settings.superuser import *  # noqa: F401,F403
