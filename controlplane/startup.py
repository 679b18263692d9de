"""What a bad setting does to whichever process loads the settings (manage.py, uvicorn, celery, wsgi): one line
on stderr and exit status 2. Kept outside controlplane.settings, whose import is what raises."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured

EXIT_BAD_SETTING = 2


class SettingError(ImproperlyConfigured):
    """An environment variable's value cannot be used; str() is the one line shown to the operator."""


@contextmanager
def exit_on_bad_settings() -> Iterator[None]:
    """Around the settings load: a SettingError is one line on stderr and exit status 2."""
    try:
        yield
    except SettingError as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        raise SystemExit(EXIT_BAD_SETTING) from None
