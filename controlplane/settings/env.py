"""The environment readers every settings module shares: one validated reader per variable.

A bad value stops start-up with one line that names the variable, says what is wrong with the value and
gives an example (`SettingError`); settings/__init__.py loads every module under
`controlplane.startup.exit_on_bad_settings`, which prints that line and exits with status 2 (no traceback). New settings use these readers:

    MY_TIMEOUT = read_float("MY_TIMEOUT", 2.0, minimum=0, example="2.5")
    MY_URL = read_url("MY_URL", "", schemes=("http", "https"), example="https://files.example.com")

and add a bad value for their variable to tests/test_settings_from_env.py when they add it to the README.
"""

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import environ

from controlplane.startup import SettingError

BASE_DIR = Path(__file__).resolve().parent.parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Invalid(ValueError):
    """Raised by a parser: the message completes "NAME: 'value' ..." (e.g. "is not a whole number")."""


def _masked(value: str) -> str:
    """The value as shown in an error, with any password in a URL replaced (URLs may carry credentials)."""
    return re.sub(r"(?<=://)([^:/@\s]*):[^@/\s]*@", r"\1:***@", value)


def read(name: str, parse: Callable[[str], object], default, *, example: str, secret: bool = False):
    """`default` when `name` is unset, else `parse(value)`; an `Invalid` becomes a `SettingError` naming `name`."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return parse(raw)
    except Invalid as exc:
        shown = f"the value ({len(raw)} characters)" if secret else repr(_masked(raw))
        raise SettingError(f"{name}: {shown} {exc} (example: {example})") from None


# Parsers: each takes the raw string and returns the value or raises Invalid.

def as_int(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise Invalid("is not a whole number") from None
        if minimum is not None and value < minimum:
            raise Invalid(f"is below the minimum of {minimum}")
        if maximum is not None and value > maximum:
            raise Invalid(f"is above the maximum of {maximum}")
        return value
    return parse


def as_float(minimum: float | None = None, *, above: bool = False) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise Invalid("is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise Invalid("is not a finite number")
        if minimum is not None and (value <= minimum if above else value < minimum):
            raise Invalid(f"must be {'above' if above else 'at least'} {minimum:g}")
        return value
    return parse


def as_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise Invalid("is not a yes/no value: use true or false (also 1/0, yes/no, on/off)")


def as_choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise Invalid(f"is not one of {', '.join(choices)}")
        return value
    return parse


def as_text(pattern: str | None = None, what: str = "", *, min_length: int = 1, max_length: int = 1024) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip()
        if len(value) < min_length:
            raise Invalid("is empty" if not value else f"is too short: use at least {min_length} characters")
        if len(value) > max_length:
            raise Invalid(f"is too long: at most {max_length} characters")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise Invalid(f"is not {what}")
        return value
    return parse


def as_url(schemes: tuple[str, ...], *, needs_host: bool = True, allow_empty: bool = False,
           what: str = "") -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip()
        if not value and allow_empty:
            return ""
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises ValueError on a bad port)
        except ValueError:
            raise Invalid("is not a URL") from None
        if parts.scheme not in schemes:
            raise Invalid(f"is not {what}" if what else f"is not a URL starting with {' or '.join(s + '://' for s in schemes)}")
        if needs_host and not parts.hostname:
            raise Invalid("has no host name")
        return value
    return parse


def as_list(item: Callable[[str], str]) -> Callable[[str], list[str]]:
    def parse(raw: str) -> list[str]:
        values = [part.strip() for part in raw.split(",") if part.strip()]
        for value in values:
            try:
                item(value)
            except Invalid as exc:
                raise Invalid(f"has an entry {value!r} that {exc}") from None
        return values
    return parse


# Readers for the common kinds (the default is returned as given when the variable is unset).

def read_int(name: str, default: int, *, minimum: int | None = 0, maximum: int | None = None, example: str) -> int:
    return read(name, as_int(minimum, maximum), default, example=example)


def read_float(name: str, default: float, *, minimum: float | None = 0, above: bool = False, example: str) -> float:
    return read(name, as_float(minimum, above=above), default, example=example)


def read_bool(name: str, default: bool) -> bool:
    return read(name, as_bool, default, example="true")


def read_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    return read(name, as_choice(choices), default, example=choices[-1])


def read_str(name: str, default: str, *, pattern: str | None = None, what: str = "", example: str,
             min_length: int = 1, max_length: int = 1024, secret: bool = False) -> str:
    parse = as_text(pattern, what, min_length=min_length, max_length=max_length)
    return read(name, parse, default, example=example, secret=secret)


def read_url(name: str, default: str, *, schemes: tuple[str, ...], example: str, allow_empty: bool = True,
             needs_host: bool = True, what: str = "") -> str:
    parse = as_url(schemes, needs_host=needs_host, allow_empty=allow_empty, what=what)
    return read(name, parse, default, example=example)


def read_list(name: str, default: list[str], *, item: Callable[[str], str], example: str) -> list[str]:
    return read(name, as_list(item), default, example=example)


_DATABASE_SCHEMES = {"sqlite": "django.db.backends.sqlite3", "postgres": "django.db.backends.postgresql",
                     "postgresql": "django.db.backends.postgresql", "pgsql": "django.db.backends.postgresql"}


def as_database_url(raw: str) -> dict:
    value = raw.strip()
    scheme = urlsplit(value).scheme if "://" in value else ""
    if scheme not in _DATABASE_SCHEMES:
        raise Invalid("is not a sqlite:/// or postgres:// database URL")
    config = environ.Env.db_url_config(value)
    if config.get("ENGINE") != _DATABASE_SCHEMES[scheme] or not config.get("NAME"):
        raise Invalid("has no database name")
    return config


def read_database_url(name: str, default: str) -> dict:
    return read(name, as_database_url, as_database_url(default), example="postgres://user@host:5432/db")


def as_origin(raw: str) -> str:
    value = raw.strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number in range)
        valid = parts.scheme in ("http", "https") and parts.hostname and not (parts.path or parts.query or parts.fragment)
    except ValueError:
        valid = False
    if not valid:
        raise Invalid("is not an origin (scheme://host[:port], no path)")
    return value


def origin_url(name: str, *, example: str) -> str:
    """An optional scheme://host[:port] (no path, query or fragment); empty when unset."""
    return read(name, as_origin, "", example=example)


def as_directory(raw: str) -> str:
    if not raw.strip():
        return ""
    path = Path(raw.strip())
    if not path.is_dir() or not os.access(path, os.W_OK):
        raise Invalid("is not an existing writable directory")
    return str(path)


def persistent_secret(name: str, filename: str) -> str:
    """Use the variable if set (at least 32 characters); otherwise a random value kept under var/."""
    value = read_str(name, "", min_length=32, max_length=4096, secret=True,
                     example="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')")
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


class Env(environ.Env):
    """django-environ for reads not yet on the readers above: a bad value is still a one-line SettingError."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError):
            kind = getattr(cast, "__name__", "the expected type")
            raise SettingError(f"{var}: {_masked(str(self.ENVIRON.get(var)))!r} is not a valid {kind}") from None


env = Env()


def choice(name: str, choices: tuple[str, ...], default: str) -> str:
    return read_choice(name, choices, default)


VAR_DIR = Path(read_str("CONTROLPLANE_VAR_DIR", str(BASE_DIR / "var"), example="/srv/controlplane/var"))
