from tenants.admin import api_keys, audit, auth, memberships, organizations, plans, roles, tenants, usage  # noqa: F401
from tenants.admin import service_keys  # noqa: F401
