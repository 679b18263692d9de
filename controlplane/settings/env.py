"""The one environment reader every settings module shares."""

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("CONTROLPLANE_VAR_DIR", default=str(BASE_DIR / "var")))

class Env(environ.Env):
    """django-environ, with a bad value reported by the variable's name instead of a bare ValueError."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:
            kind = getattr(cast, "__name__", "the expected type")
            raise ImproperlyConfigured(f"{var}={self.ENVIRON.get(var)!r} is not a valid {kind}: {exc}") from exc


env = Env()


def choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.str(name, default=default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not valid: use one of {', '.join(choices)}."
        )
    return value


def origin_url(name: str) -> str:
    """An optional scheme://host[:port] (no path, query or fragment); empty when unset."""
    value = env.str(name, default="").strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number in range)
        valid = parts.scheme in ("http", "https") and parts.hostname and not (parts.path or parts.query or parts.fragment)
    except ValueError:
        valid = False
    if not valid:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not valid: give an origin such as https://downloads.example.com (no path)."
        )
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
