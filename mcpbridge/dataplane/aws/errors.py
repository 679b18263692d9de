from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from mcpbridge.dataplane.ports import BackendError


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


@contextmanager
def translated(operation: str, *, passthrough: tuple[str, ...] = ()):
    """Boto errors become BackendError (cause kept for the log); codes in `passthrough` propagate."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in passthrough:
            raise
        raise BackendError(f"{operation}: {error_code(exc)}") from exc
    except BotoCoreError as exc:
        raise BackendError(f"{operation}: {exc.__class__.__name__}") from exc
