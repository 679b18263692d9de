import os
import re
import socket
import subprocess
import sys
import time

import pytest

from tests.e2e.browser import ROOT, chromium_or_fail, free_port


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, checked before anything is started for it."""
    return chromium_or_fail()


@pytest.fixture
def served_extra_env():
    """Environment a test module adds to the served checkout (override this fixture in the module)."""
    return {}


@pytest.fixture
def served_env(tmp_path, served_extra_env):
    """The environment of a fresh checkout in tmp_path, and the port it will be served on."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "CONTROLPLANE_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "",
        "DATAPLANE_BACKEND": "local",
        "DATAPLANE_LOCAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **served_extra_env,
    }
    env.pop("DJANGO_SUPERUSER_PASSWORD", None)
    env.pop("DJANGO_SUPERUSER_USERNAME", None)
    return env, port


@pytest.fixture
def served_fresh_checkout(tmp_path, served_env):
    """`make run` in miniature: bootstrap, collectstatic, uvicorn; yields (base URL, admin password, bootstrap output, dir)."""
    env, port = served_env
    setup = subprocess.run(
        [sys.executable, "manage.py", "bootstrap"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert setup.returncode == 0, setup.stderr
    password = re.search(r"Password:\s+(\S+)", setup.stdout).group(1)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    log = open(tmp_path / "server.log", "w")  # a pipe nobody reads would stall a chatty server
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "controlplane.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    yield base, password, setup.stdout, tmp_path
    server.terminate()
    server.wait(timeout=10)
    log.close()
