from django.contrib import admin
from django.urls import reverse_lazy

from tenants.admin import (  # noqa: F401
    api_keys, audit, auth, login_audit, memberships, organizations, plans, roles, tenants, usage,
)
from tenants.admin import service_keys  # noqa: F401

# "View site" leads somewhere that exists: there is no public site, the provisioning API's docs are the next page.
admin.site.site_url = reverse_lazy("api:docs")
