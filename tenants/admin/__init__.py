from django.contrib import admin
from django.urls import reverse_lazy

from tenants.admin import api_keys, audit, auth, memberships, organizations, plans, roles, tenants, usage  # noqa: F401
from tenants.admin import service_keys  # noqa: F401

# "View site" leads somewhere that exists: there is no public site, the provisioning API's docs are the next page.
admin.site.site_url = reverse_lazy("api:docs")
