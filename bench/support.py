"""What the benches share: a throwaway database and var dir, Django set up and migrated, quiet logs."""

import contextlib
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOISY_LOGGERS = ("werkzeug", "httpx", "httpx2", "django.request", "celery", "mcp", "botocore")


def setup_django(prefix: str) -> Path:
    """Point Django at a fresh SQLite file (unless DATABASE_URL is set), set it up, migrate; return the work dir."""
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{work}/bench.sqlite3")
    os.environ.setdefault("CONTROLPLANE_VAR_DIR", str(work))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    quiet_logs()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return work


def quiet_logs() -> None:
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # whitenoise: benches collect no static files
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def timed(fn, n: int, warmup: int = 0) -> tuple[float, float]:
    """p50 and p99 of n calls of fn, in microseconds, after `warmup` unmeasured calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


@contextlib.contextmanager
def throwaway_postgres(server_url: str, prefix: str):
    """A PostgreSQL database of this run's own on `server_url` (DATABASE_URL points at it), dropped afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{server_url}/{name}"
    try:
        yield name
    finally:
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
