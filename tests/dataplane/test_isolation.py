"""For generated keys, two tenants and two contexts never see each other's data, and no key leaves its namespace."""

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from mcpbridge.services.artifacts import artifact_get, artifact_list, artifact_put
from mcpbridge.services.errors import InvalidInput, NotFound
from mcpbridge.services.kv import kv_get, kv_list, kv_set
from mcpbridge.services.secrets import secret_get, secret_put
from tenants.services import Actor, tenant_limit_set
from tests.dataplane import stores
from tests.factories import make_org, make_tenant

pytestmark = pytest.mark.django_db

keys = st.text(min_size=1, max_size=60)
secret_names = st.text(alphabet="abcXYZ019/_+=.@-", min_size=1, max_size=40)
_settings = hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def callers(make_principal):
    """Four callers: tenant A personal (two users), tenant A org context, tenant B personal."""
    tenant_a, tenant_b = make_tenant(), make_tenant()
    for tenant in (tenant_a, tenant_b):  # every example adds secrets; the plan's count is not under test here
        tenant_limit_set(tenant=tenant, limit="secrets_count", value=10_000, actor=Actor("test"))
    org = make_org(tenant_a)
    return [
        make_principal(tenant=tenant_a, role="admin"),
        make_principal(tenant=tenant_a, role="admin"),
        make_principal(tenant=tenant_a, role="admin", org=org),
        make_principal(tenant=tenant_b, role="admin"),
    ]


def _namespaced(callers, key):
    return [(p, f"{i}:{key}") for i, p in enumerate(callers)]


@_settings
@given(key=keys)
def test_kv_keys_stay_in_their_namespace(backend, callers, key):
    try:
        for p, value in _namespaced(callers, key):
            kv_set(principal=p, key=key, value=value)
    except InvalidInput:
        return  # rejected keys are covered by the validation tests; nothing may have been stored
    for p, value in _namespaced(callers, key):
        assert kv_get(principal=p, key=key)["value"] == value
        listed = [i["key"] for i in kv_list(principal=p, prefix=key, limit=1000)["items"]]
        assert key in listed
    namespaces = {p.namespace for p in callers}
    assert len(namespaces) == 4
    for namespace, stored_key in stores.all_kv():
        assert namespace in namespaces


@_settings
@given(name=keys)
def test_artifact_names_stay_under_their_prefix(backend, callers, name):
    try:
        for p, value in _namespaced(callers, name):
            artifact_put(principal=p, name=name, content=value, content_type="text/plain")
    except InvalidInput:
        return
    for p, value in _namespaced(callers, name):
        assert artifact_get(principal=p, name=name)["content"] == value
        for item in artifact_list(principal=p, limit=1000)["items"]:
            assert artifact_get(principal=p, name=item["name"])["content"].startswith(f"{callers.index(p)}:")
    prefixes = tuple(p.namespace + "/" for p in callers)
    for key in stores.all_artifact_keys():
        assert key.startswith(prefixes) or key.startswith("_tenants/")


@_settings
@given(name=secret_names)
def test_secret_names_stay_under_the_tenant_path(backend, callers, name):
    try:
        for p, value in _namespaced(callers, name):
            secret_put(principal=p, name=name, value=value)
    except InvalidInput:
        return
    for p, value in _namespaced(callers, name):
        assert secret_get(principal=p, name=name)["value"] == value
    for stored in stores.all_secret_names():
        assert any(stored.startswith(f"controlplane/tenants/{p.namespace}/") for p in callers)


def test_a_key_written_in_one_context_is_not_found_in_the_others(backend, callers):
    kv_set(principal=callers[0], key="only-mine", value="x")
    for other in callers[1:]:
        with pytest.raises(NotFound):
            kv_get(principal=other, key="only-mine")
        assert kv_list(principal=other)["items"] == []
