from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

ESTIMATE_ABOVE = 100_000
# A filtered or searched list counts its matches up to this many; past it the pager stops there. Counting every
# match of a common value (a sixth of a million audit rows) costs more than the page itself.
COUNT_UP_TO = 10_000


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, an unfiltered list of a big table takes the planner's row estimate instead of COUNT(*);
    any other list counts at most COUNT_UP_TO rows."""

    @cached_property
    def count(self):
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None:
            return super().count
        if not query.where and connections[queryset.db].vendor == "postgresql":
            with connections[queryset.db].cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [queryset.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > ESTIMATE_ABOVE:
                return row[0]
        return min(queryset.order_by()[: COUNT_UP_TO + 1].count(), COUNT_UP_TO)


# A list of at most this many rows takes all its keys in one query and pages them in Python.
ALL_KEYS_UP_TO = 5_000


class KeysFirstPaginator(EstimatedCountPaginator):
    """Takes a page's primary keys first, from the list's filters and order alone, then loads only those rows
    with what the list shows (select_related joins).

    A short list (one tenant's members) takes all its keys without LIMIT: with a LIMIT, PostgreSQL may walk
    another index in the list's order (every membership by user id) hoping to meet the tenant's rows early,
    and a tenant whose users are the newest meets them last. Without one it reads the tenant's rows and sorts
    them, which costs what the tenant's size costs.
    """

    def page(self, number):
        number = self.validate_number(number)
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = self.object_list.values_list("pk", flat=True)
        keys = list(keys)[bottom:top] if self.count <= ALL_KEYS_UP_TO else list(keys[bottom:top])
        rows = self.object_list.in_bulk(keys)
        return self._get_page([rows[key] for key in keys if key in rows], number, self)
