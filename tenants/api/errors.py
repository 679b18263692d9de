"""One error shape for both APIs: {"code", "message", "details"}. Never a traceback or internal text."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from controlplane.database import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, database_outage
from tenants.api.authentication import MISSING_CREDENTIALS, record_auth_failure
from tenants.services import RefusalDoor
from tenants.services.errors import ConflictError, ForbiddenError, ServiceError

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"code": code, "message": message, "details": details or {}}


def request_too_large_body() -> dict:
    """The answer to a body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django raises RequestDataTooBig on reading it)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_body("request_too_large", f"The request body is larger than the {limit} bytes allowed; "
                                           "send a smaller body.", {"max_bytes": limit})


def flatten_field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail -> {"field.sub": ["message", ...]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_field_errors(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(flatten_field_errors(item, f"{prefix}[{index}]" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def validation_message(fields: dict[str, list[str]]) -> str:
    if not fields:
        return "The request is not valid."
    name, messages = next(iter(fields.items()))
    if name in ("non_field_errors", "__all__"):
        return messages[0]
    return f"{name}: {messages[0]}"


def service_error_response(exc: ServiceError) -> Response:
    if isinstance(exc, ConflictError):
        status_code = status.HTTP_409_CONFLICT
    elif isinstance(exc, ForbiddenError):
        status_code = status.HTTP_403_FORBIDDEN
    elif exc.code == "not_found":
        status_code = status.HTTP_404_NOT_FOUND
    else:
        status_code = status.HTTP_400_BAD_REQUEST
    details = {"fields": {exc.field: [exc.message]}} if exc.field else {}
    return Response(error_body(exc.code, exc.message, details), status=status_code)


def database_unavailable_response() -> Response:
    response = Response(error_body("unavailable", UNAVAILABLE_MESSAGE, {"retry_after": RETRY_AFTER_SECONDS}),
                        status=status.HTTP_503_SERVICE_UNAVAILABLE)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every failure of the provisioning API leaves in the one shape."""
    if isinstance(exc, DATABASE_UNAVAILABLE):
        database_outage.failed(exc)
    if isinstance(exc, ServiceError):
        return service_error_response(exc)
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return database_unavailable_response()
    if isinstance(exc, DataError):
        # Values the database cannot store or compare (out of range, NUL bytes): the input's fault.
        logger.info("Database refused a value: %s", exc)
        return Response(error_body("invalid", "A value in the request is out of range or contains characters "
                                              "that cannot be stored."), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        return Response(request_too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found: no such object, or it belongs to another tenant.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.NotAuthenticated) and context.get("request") is not None:
        record_auth_failure(context["request"], RefusalDoor.API, MISSING_CREDENTIALS)
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view")
        return Response(
            error_body("server_error", "Something went wrong on our side; the request was not completed."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_field_errors(exc.detail)
        response.data = error_body("invalid", validation_message(fields), {"fields": fields})
    elif isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        response.data = error_body(
            "rate_limited", f"Too many requests; retry in {wait} s.", {"retry_after": wait}
        )
        response["Retry-After"] = str(wait)
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
        response.data = error_body(str(code), str(detail))
    return response
