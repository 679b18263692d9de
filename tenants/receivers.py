"""Every change to an input of policy resolution moves the policy version, whoever made it."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from tenants.models import ApiKey, LimitOverride, Membership, Organization, OrgMembership, Plan, Role, Tenant
from tenants.policy.version import policy_version_bump

POLICY_INPUTS = (ApiKey, LimitOverride, Membership, Organization, OrgMembership, Plan, Role, Tenant, get_user_model())


def _bump(sender, **kwargs):
    policy_version_bump()


for _model in POLICY_INPUTS:
    post_save.connect(_bump, sender=_model, dispatch_uid=f"policy-bump-save-{_model._meta.label}")
    post_delete.connect(_bump, sender=_model, dispatch_uid=f"policy-bump-delete-{_model._meta.label}")
