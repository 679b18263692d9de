"""Keys compared the way DynamoDB and S3 compare them: case-sensitively, in code point order (which is UTF-8
byte order). Django's `startswith` is LIKE, case-insensitive on SQLite, and PostgreSQL sorts by the database
locale; both would page differently from the AWS adapters and break the listing cursor."""

from django.db import connections
from django.db.models import QuerySet
from django.db.models.functions import Collate

_BINARY_COLLATION = {"postgresql": "C", "sqlite": "BINARY"}
_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix`; None when there is none."""
    stripped = prefix.rstrip(chr(_MAX_CODE_POINT))
    if not stripped:
        return None
    following = ord(stripped[-1]) + 1
    if following in _SURROGATES:
        following = _SURROGATES.stop
    return stripped[:-1] + chr(following)


def page_by_prefix(rows: QuerySet, field: str, prefix: str, after: str | None) -> QuerySet:
    """`rows` whose `field` starts with `prefix` (exactly), after `after`, ordered by code point."""
    collation = _BINARY_COLLATION.get(connections[rows.db].vendor)
    binary = f"{field}_binary"
    rows = rows.alias(**{binary: Collate(field, collation) if collation else field})
    rows = rows.filter(**{f"{binary}__gte": prefix})
    upper = prefix_upper_bound(prefix)
    if upper is not None:
        rows = rows.filter(**{f"{binary}__lt": upper})
    if after is not None:
        rows = rows.filter(**{f"{binary}__gt": after})
    return rows.order_by(binary)
