"""Settings, read from the environment. One small module per integration."""

from controlplane.settings.base import *  # noqa: F401,F403
from controlplane.settings.api import *  # noqa: F401,F403
from controlplane.settings.aws import *  # noqa: F401,F403
from controlplane.settings.celery import *  # noqa: F401,F403
from controlplane.settings.mcp import *  # noqa: F401,F403
from controlplane.settings.oauth import *  # noqa: F401,F403
from controlplane.settings.ops import *  # noqa: F401,F403
