"""Peak memory of the audit CSV export as the table grows: it should stay flat (rows are streamed in chunks).

Run: .venv/bin/python bench/audit_export_memory.py  [BENCH_ROWS=5000,50000,1000000] [DATABASE_URL=... for PostgreSQL]
Prints, per table size, the Python heap peak (tracemalloc) while writing every row, and rows per second.
"""

import os
import time
import tracemalloc

from support import setup_django

setup_django("bench-audit-export-")

from tenants.admin.audit_export import audit_csv_lines  # noqa: E402
from tenants.models import AuditEvent  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_ROWS", "5000,50000,500000").split(",")]


def grow_to(rows: int) -> None:
    missing = rows - AuditEvent.objects.count()
    while missing > 0:
        batch = min(missing, 20_000)
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(actor="key:cpk_0123abcd", action="tool_call", target="tool:kv_set", outcome="ok",
                           latency_ms=1.5, details={"tool": "kv_set", "context": "personal"})
                for _ in range(batch)
            ],
            batch_size=5000,
        )
        missing -= batch


def main():
    print(f"{'rows':>10} {'peak heap (KiB)':>16} {'rows/s':>10}")
    for rows in SIZES:
        grow_to(rows)
        tracemalloc.start()
        started = time.perf_counter()
        written = sum(1 for _ in audit_csv_lines(AuditEvent.objects.all())) - 1
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert written == rows, (written, rows)
        print(f"{rows:>10} {peak / 1024:>16.0f} {rows / elapsed:>10.0f}")


if __name__ == "__main__":
    main()
