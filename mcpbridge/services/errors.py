"""Errors of the data plane and the MCP bridge's domain. Adapters map them to protocol errors:
InvalidInput -> invalid params, CapabilityDenied/QuotaExceeded -> tenant error,
NotFound -> a tool result the model can read, BackendUnavailable -> backend failure with a safe message."""


class DataPlaneError(Exception):
    code = "error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DataPlaneError):
    code = "invalid"


class NotFound(DataPlaneError):
    code = "not_found"


class CapabilityDenied(DataPlaneError):
    code = "denied"

    def __init__(self, capability: str, context: str = ""):
        where = f" in context {context}" if context else ""
        super().__init__(f"This key may not use {capability}{where}.", capability=capability, context=context)


class QuotaExceeded(DataPlaneError):
    code = "quota_exceeded"

    def __init__(self, limit: str, usage: int, maximum: int, requested: int | None = None):
        more = f" (this request needs {requested} more)" if requested is not None else ""
        super().__init__(
            f"Quota {limit} exceeded: {usage} used of {maximum}{more}.",
            limit=limit,
            usage=usage,
            maximum=maximum,
            **({"requested": requested} if requested is not None else {}),
        )


class BackendUnavailable(DataPlaneError):
    """The storage backend failed; the message is safe to show, the cause stays in the logs."""

    code = "backend_unavailable"
