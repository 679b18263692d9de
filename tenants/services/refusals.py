"""Refusals of callers nobody has authenticated yet (bad or dead API keys, failed admin logins), aggregated so
that no one can fill the audit table: one row per door, source, reason and minute, whose count grows with
every repeat.

The source is what an attacker cannot mint at will: the prefix of a key that exists, an existing user, or
else the client's network address (IPv6 folded to its /64, which one host usually owns whole). Made-up key
prefixes and usernames are never a source and never stored: a username field often holds a mistyped password.
"""

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.models import AuditEvent
from tenants.models.audit import AuditAction, AuditOutcome


class RefusalDoor:
    """Where a refusal happened (kept in the row's details and its bucket)."""

    MCP_HTTP = "mcp_http"
    MCP_STDIO = "mcp_stdio"
    API = "api"
    DECIDE = "decide"
    ADMIN_LOGIN = "admin_login"


@dataclass(frozen=True)
class AuthRefusal:
    door: str
    reason: str
    minute: datetime
    address: str = ""
    key_prefix: str | None = None
    username: str | None = None
    user_id: int | None = None
    tenant_id: str | None = None
    target: str = ""
    outcome: str = AuditOutcome.DENIED

    @classmethod
    def now(cls, **fields) -> "AuthRefusal":
        """A refusal in the current minute; `address` is normalized to the network it stands for."""
        minute = timezone.now().replace(second=0, microsecond=0)
        return cls(minute=minute, **{**fields, "address": client_network(fields.get("address") or "")})

    @property
    def actor(self) -> str:
        if self.key_prefix:
            return f"key:{self.key_prefix}"
        if self.username:
            return f"user:{self.username}"
        return f"address:{self.address or 'unknown'}"

    @property
    def bucket(self) -> str:
        """minute|door|reason|digest of the source: fixed length, however long a username or address is."""
        source = self.actor if self.actor.startswith("address:") else f"{self.actor}@{self.address or 'unknown'}"
        digest = hashlib.sha256(source.encode()).hexdigest()
        return f"{self.minute:%Y-%m-%dT%H:%M}|{self.door}|{self.reason}|{digest}"


def client_network(address: str) -> str:
    """The address a refusal is counted under: IPv4 as is, IPv6 as its /64; anything else as given (stdio)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address[:64]
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def audit_refusal(refusal: AuthRefusal) -> None:
    audit_refusals({refusal: 1})


def audit_login_refusal(*, username: str | None, address: str, reason: str, outcome: str = AuditOutcome.DENIED) -> None:
    """A refused login: counted under the user when that user exists, else under the client address alone."""
    user_id = None
    if username:
        user_id = get_user_model()._default_manager.filter(username=username).values_list("pk", flat=True).first()
    audit_refusal(
        AuthRefusal.now(
            door=RefusalDoor.ADMIN_LOGIN,
            reason=reason,
            address=address,
            username=username if user_id is not None else None,
            user_id=user_id,
            target="admin:login",
            outcome=outcome,
        )
    )


def audit_refusals(counts: Mapping[AuthRefusal, int]) -> None:
    """Count each refusal into its minute's row. A repeat costs one UPDATE (count = count + n); only the first
    of a minute inserts, and two first writers racing meet at the bucket's unique index, the loser adding
    its count to the winner's row."""
    for refusal, amount in counts.items():
        if amount > 0:
            _count_into_bucket(refusal, amount)


def _count_into_bucket(refusal: AuthRefusal, amount: int) -> None:
    rows = AuditEvent.objects.filter(bucket=refusal.bucket)
    if rows.add_to_count(amount):
        return
    try:
        with transaction.atomic():
            _event(refusal, amount).save()
        return
    except IntegrityError:
        pass
    rows.add_to_count(amount)


def _event(refusal: AuthRefusal, amount: int) -> AuditEvent:
    details = {"door": refusal.door, "reason": refusal.reason, "address": refusal.address, "aggregated": "per minute"}
    return AuditEvent(
        actor=refusal.actor[:200],
        actor_user_id=refusal.user_id,
        tenant_id=refusal.tenant_id,
        action=AuditAction.AUTH_FAILURE,
        target=refusal.target[:300],
        outcome=refusal.outcome,
        details=details,
        count=amount,
        bucket=refusal.bucket,
    )
