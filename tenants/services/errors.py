class ServiceError(Exception):
    """A domain rule refused the operation. `code` is stable for APIs; the message is for people."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ConflictError(ServiceError):
    code = "conflict"


class InvalidTransition(ConflictError):
    code = "invalid_transition"


class ForbiddenError(ServiceError):
    """The actor is known but may not do this (e.g. hand on a capability it does not hold)."""

    code = "forbidden"
