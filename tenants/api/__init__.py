"""The provisioning REST API (Django REST framework): a thin adapter over tenants.services."""
