class ApiError(Exception):
    """An answer in the one error shape: status, code, message, details (and headers, e.g. Retry-After)."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
