from mcpbridge.admin import sessions  # noqa: F401
from mcpbridge.admin import outbox, quotas  # noqa: F401
from mcpbridge.admin import tenant_page  # noqa: F401
