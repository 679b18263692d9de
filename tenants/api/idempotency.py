"""`Idempotency-Key` on creates: a retried create answers with the first result, never a duplicate."""

import hashlib
import json

from django.db import IntegrityError
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from controlplane.database import certain_write
from tenants.api.caller import Caller
from tenants.api.errors import error_body
from tenants.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class _Failed(Exception):
    """Carries an error response out of the atomic block so the record is rolled back with the create."""

    def __init__(self, response):
        self.response = response


def _fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        return Response(
            error_body(
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request; use a new key.",
                {"fields": {HEADER: ["already used for a different request"]}},
            ),
            status=status.HTTP_409_CONFLICT,
        )
    return Response(record.response_body, status=record.status_code, headers={REPLAYED_HEADER: "true"})


def idempotent_create(request, handler, *, redact: tuple[str, ...] = ()) -> Response:
    """Run `handler()` (which returns the create's response) at most once per caller and Idempotency-Key.

    Only successful answers are kept; fields in `redact` (a raw API key) are stored as null, because
    secrets are never stored: a replay says the key was shown once already.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not 1 <= len(key) <= 255 or not key.isprintable():
        return Response(
            error_body("invalid", f"{HEADER} must be 1 to 255 printable characters.",
                       {"fields": {HEADER: ["must be 1 to 255 printable characters"]}}),
            status=status.HTTP_400_BAD_REQUEST,
        )
    owner = Caller.of(request).identity
    fingerprint = _fingerprint(request)
    record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
    if record is not None:
        return _replay(record, fingerprint)
    # The record commits with the create, so after a COMMIT whose answer was lost it tells whether the create
    # happened: if so, this request answers with its result, not with a 503.
    committed = IdempotencyRecord.objects.filter(owner=owner, key=key, fingerprint=fingerprint, status_code__gt=0)
    try:
        with certain_write(committed.exists):
            record = IdempotencyRecord.objects.create(
                owner=owner, key=key, method=request.method, path=request.path[:300], fingerprint=fingerprint
            )
            response = handler()
            if response.status_code >= 400:
                raise _Failed(response)
            stored = json.loads(JSONRenderer().render(response.data) or b"{}")
            if isinstance(stored, dict):
                stored.update({field: None for field in redact if field in stored})
            record.status_code = response.status_code
            record.response_body = stored
            record.save(update_fields=["status_code", "response_body"])
    except _Failed as failed:
        return failed.response
    except IntegrityError:
        # A concurrent request with the same key committed first; answer as it did.
        record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if record is None:
            raise
        return _replay(record, fingerprint)
    return response
