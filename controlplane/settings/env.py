"""The one environment reader every settings module shares."""

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("CONTROLPLANE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()


def choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.str(name, default=default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not valid: use one of {', '.join(choices)}."
        )
    return value


def positive_int(name: str, default: int) -> int:
    try:
        value = env.int(name, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {env.str(name)!r}.") from exc
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than zero, got {value}.")
    return value


def persistent_secret(name: str, filename: str) -> str:
    """Use the variable if set; otherwise a random value kept under var/ so it survives restarts."""
    value = env.str(name, default="")
    if value:
        return value
    path = VAR_DIR / filename
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value
