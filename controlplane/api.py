"""The project's single NinjaAPI: the decision API, under /api/decide/ (docs at /api/decide/docs)."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from controlplane.database import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, database_outage
from tenants.api.errors import error_body, request_too_large_body
from tenants.decisions.errors import ApiError
from tenants.decisions.router import router as decisions_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Control plane decision API",
    version="1.0.0",
    description="Runtime answers for other services: may this key call this tool here, and why.",
    urls_namespace="decide",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/v1/", decisions_router)


def _error(request, status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None):
    response = api.create_response(request, error_body(code, message, details), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return _error(request, exc.status, exc.code, exc.message, exc.details, exc.headers)


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "payload", "path")]
        fields.setdefault(".".join(loc) or "body", []).append(error.get("msg", "invalid"))
    name, messages = next(iter(fields.items()), ("body", ["invalid"]))
    return _error(request, 400, "invalid", f"{name}: {messages[0]}", {"fields": fields})


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(request, 401, "not_authenticated", "Send an API key as 'Authorization: Bearer <key>', or log in as staff.",
                  headers={"WWW-Authenticate": 'Bearer realm="decide"'})


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "error", str(exc.message) if exc.status_code < 500 else "Server error.")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(DataError)
def _data_error(request, exc):
    return _error(request, 400, "invalid", "A value in the request is out of range or contains characters that cannot be stored.")


@api.exception_handler(RequestDataTooBig)
def _too_large(request, exc):
    return api.create_response(request, request_too_large_body(), status=413)


def _database_unavailable(request, exc):
    database_outage.failed(exc)
    return _error(request, 503, "unavailable", UNAVAILABLE_MESSAGE, {"retry_after": RETRY_AFTER_SECONDS},
                  headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


for _exception in DATABASE_UNAVAILABLE:
    api.add_exception_handler(_exception, _database_unavailable)


@api.exception_handler(Exception)
def _server_error(request, exc):
    logger.exception("Unhandled error in the decision API")
    return _error(request, 500, "server_error", "Something went wrong on our side; the request was not completed.")
