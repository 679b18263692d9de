"""The superuser `bootstrap` creates. bootstrap reads these when it runs (tests and scripts set them then);
reading them here too validates them at start-up like every other variable."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from controlplane.settings.env import Invalid, as_text, read, read_str


def _email(raw: str) -> str:
    try:
        validate_email(raw.strip())
    except ValidationError:
        raise Invalid("is not an email address") from None
    return raw.strip()


def superuser_from_env() -> tuple[str, str | None, str]:
    """(username, password or None for a generated one, email) from the DJANGO_SUPERUSER_* variables."""
    username = read_str("DJANGO_SUPERUSER_USERNAME", "admin", pattern=r"[\w.@+-]+", max_length=150,
                        what="a user name (letters, digits and @ . + - _)", example="ops")
    password = read("DJANGO_SUPERUSER_PASSWORD", as_text(min_length=8, max_length=4096), None, secret=True,
                    example="a-long-passphrase")
    email = read("DJANGO_SUPERUSER_EMAIL", _email, "admin@example.com", example="ops@example.com")
    return username, password, email


superuser_from_env()
__all__: list[str] = []
