from tenants.admin import api_keys, audit, memberships, organizations, plans, roles, tenants, usage  # noqa: F401
