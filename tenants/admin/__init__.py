from tenants.admin import (  # noqa: F401
    api_keys, audit, auth, login_audit, memberships, organizations, plans, roles, tenants, usage,
)
