import os

import pytest

from tenants.policy import resolve_api_key
from tests.factories import add_to_org, make_key, make_member, make_org, make_tenant

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


@pytest.fixture(autouse=True)
def _local_root(settings, tmp_path):
    settings.DATAPLANE_LOCAL_ROOT = str(tmp_path / "artifacts")


def principal_for(membership, *, org=None, **key_kwargs):
    _, raw = make_key(membership, **key_kwargs)
    return resolve_api_key(raw, org=org)


@pytest.fixture
def make_principal(db):
    """Build a principal: a new tenant (or the one given), a member with a role, optionally in an org context."""

    def build(tenant=None, role="user", org=None, org_role=None, **key_kwargs):
        tenant = tenant or make_tenant()
        membership = make_member(tenant, role=role)
        if org is not None:
            add_to_org(org, membership, role=org_role or role)
            return principal_for(membership, org=org.slug, **key_kwargs)
        return principal_for(membership, **key_kwargs)

    return build


@pytest.fixture
def tenant(db):
    return make_tenant()


@pytest.fixture
def org(tenant):
    return make_org(tenant)
