"""A data write and its quota bookkeeping answer what the database holds, even when the connection drops.

With a store that lives in the database (the `local` adapters) the write and its quota change are one
transaction, checked after a lost connection (controlplane.database.certain_write). A remote store's write is
not part of a database transaction: holding the quota row locked across an AWS call would serialise the
tenant's writes, so its quota statements stay separate, as before.
"""

from collections.abc import Callable
from contextlib import nullcontext

from controlplane.database import certain_write


def stored_write(store, stored: Callable[[], bool]):
    """The block as one checked transaction when `store` keeps its data in the database; otherwise as is."""
    return certain_write(stored) if getattr(store, "in_database", False) else nullcontext()
