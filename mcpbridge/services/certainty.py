"""A data write and its quota bookkeeping answer what the database holds, even when the connection drops.

With a store that lives in the database (the `local` adapters) the write and its quota change are one
transaction, checked after a lost connection (controlplane.database.certain_write). A remote store's write is
not part of a database transaction: holding the quota row locked across an AWS call would serialise the
tenant's writes, so its quota statements stay separate, as before.
"""

from collections.abc import Callable
from contextlib import nullcontext

from controlplane.database import DATABASE_UNAVAILABLE, certain_statement, certain_write, database_outage
from mcpbridge.services.quotas import quota_release


def stored_write(store, stored: Callable[[], bool]):
    """The block as one checked transaction when `store` keeps its data in the database; otherwise as is."""
    return certain_write(stored) if getattr(store, "in_database", False) else nullcontext()


def stored_statement(store, stored: Callable[[], bool]):
    """stored_write for a block that is a single statement of a store in the database, run in autocommit."""
    return certain_statement(stored) if getattr(store, "in_database", False) else nullcontext()


def release_after_write(store, *, tenant_id, limit: str, amount: int) -> None:
    """Give back quota once the data write is done. In the database's transaction for a store that lives there
    (a lost connection fails the whole write). For a remote store the write already happened, so a lost database
    must not turn it into an error: the gauge stays over by `amount` (erring closed) until the daily usage
    reconciliation (mcpbridge.tasks.reconcile_usage) sets it to what the backend holds."""
    if getattr(store, "in_database", False):
        quota_release(tenant_id=tenant_id, limit=limit, amount=amount)
        return
    try:
        quota_release(tenant_id=tenant_id, limit=limit, amount=amount)
    except DATABASE_UNAVAILABLE as exc:
        database_outage.failed(exc)
