from django.core.paginator import Paginator
from django.db import connections
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
