import os

import pytest

from mcpbridge.dataplane.aws.bootstrap import bootstrap_all
from tenants.policy import resolve_api_key
from tests.dataplane.aws import MotoServer
from tests.factories import add_to_org, make_key, make_member, make_org, make_tenant

# A Redis database of this test run's own (claimed by tests/isolation.py); the Celery test flushes it.
TEST_REDIS_URL = os.environ.get("TEST_CELERY_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture(autouse=True)
def _local_root(settings, tmp_path):
    settings.DATAPLANE_LOCAL_ROOT = str(tmp_path / "artifacts")
    # Test users are made by the hundred; the default hasher would dominate the suite's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture(scope="session")
def moto_server():
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def aws_backend(settings, moto_server):
    """The aws adapter against a freshly reset moto server, resources created by the bootstrap."""
    moto_server.reset()
    settings.DATAPLANE_BACKEND = "aws"
    settings.AWS_ENDPOINT_URL = moto_server.url
    settings.AWS_REGION = "us-east-1"
    settings.AWS_MAX_ATTEMPTS = 2
    bootstrap_all()
    return moto_server


@pytest.fixture(params=["local", "aws"])
def backend(request, settings):
    """Runs a test once per adapter: the contract both must honour."""
    if request.param == "aws":
        return request.getfixturevalue("aws_backend")
    settings.DATAPLANE_BACKEND = "local"
    return None
