"""Shared setup for the data-plane benches: a throwaway SQLite database, a tenant, and moto's server."""

import os

from support import setup_django

for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}.items():
    os.environ.setdefault(name, value)
setup_django("dataplane-bench-")  # local artifacts go under its throwaway var dir

from django.test.utils import override_settings  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402


def principal(**limits):
    from tenants.policy import resolve_api_key
    from tenants.services import Actor, tenant_limit_set
    from tests.factories import make_key, make_member, make_tenant

    tenant = make_tenant()
    for limit, value in limits.items():
        tenant_limit_set(tenant=tenant, limit=limit, value=value, actor=Actor("bench"))
    _, raw = make_key(make_member(tenant, role="admin"))
    return resolve_api_key(raw)


def moto():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def aws_settings(endpoint: str):
    return override_settings(DATAPLANE_BACKEND="aws", AWS_ENDPOINT_URL=endpoint, AWS_REGION="us-east-1")
