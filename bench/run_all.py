"""Run the benchmarks in one go and keep what they printed, headed by the date and the machine.

    python bench/run_all.py [--only NAME[,NAME...]] [--out bench/results/DATE.txt]

Each benchmark runs in its own process, one after another, with the arguments listed in BENCHES; its output
goes to the terminal and to the results file. The README's results table is written from one such file.
A benchmark that fails is recorded as failed and the run goes on; the exit status says whether any failed.
"""

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")

SCALE_DB = "bench_run_all_admin_scale"  # emptied by admin_scale, so made here and dropped after

# name, arguments, environment. The CPU bench runs both databases (its PostgreSQL run at one session, see its
# docstring about max_connections); the PostgreSQL-only benches make their own throwaway databases on PG's server.
BENCHES = [
    ("policy_resolution", [], {}),
    ("decision_check", [], {}),
    ("dataplane_kv_latency", [], {}),
    ("dataplane_outbox_drain", [], {}),
    ("mcp_bench", [], {}),
    ("mcp_cpu_bench", ["--sessions", "1,32"], {}),
    ("mcp_cpu_bench", ["--pg", PG, "--sessions", "1"], {}),
    ("mcp_asgi_bench", ["--pg", PG], {}),
    ("replicas_throughput", [], {"DATABASE_URL": f"{PG}/postgres"}),
    ("admin_overview", [], {"DATABASE_URL": f"{PG}/postgres"}),
    ("admin_scale", ["--reset"], {"DATABASE_URL": f"{PG}/{SCALE_DB}"}),
    ("audit_export_memory", [], {}),
    # Faults last: they stop Redis servers of their own, terminate PostgreSQL backends of their own databases and
    # take the emulated event bus away.
    ("fault_redis", [], {}),
    ("fault_database", ["--pg", PG], {}),
    ("fault_eventbridge", [], {}),
]


def machine_facts() -> list[str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory_kib = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
    facts = [
        f"date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine: {platform.machine()}, {os.cpu_count()} cores ({cpu}), {memory_kib // 1024 // 1024} GiB, "
        f"{platform.system()} {platform.release()}",
        f"python: {platform.python_version()}",
        f"commit: {_git('rev-parse', '--short', 'HEAD')}",
    ]
    for tool, args in (("psql", ["--version"]), ("redis-server", ["--version"]), ("nginx", ["-v"])):
        path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
        if path:
            done = subprocess.run([path, *args], capture_output=True, text=True)
            facts.append(f"{tool}: {(done.stdout or done.stderr).strip().splitlines()[0]}")
    return facts


def _recreate_database(name: str, create: bool = True) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            admin.execute(f'CREATE DATABASE "{name}"')


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated bench names to run (default: all)")
    parser.add_argument("--out", default=None, help="results file (default: bench/results/<date>.txt)")
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}
    unknown = only - {name for name, _, _ in BENCHES}
    if unknown:
        parser.error(f"unknown bench: {', '.join(sorted(unknown))}")
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / f"{datetime.date.today()}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    failed = []
    with out.open("w") as results:

        def emit(text: str) -> None:
            print(text, flush=True)
            results.write(text + "\n")
            results.flush()

        for fact in machine_facts():
            emit(fact)
        for name, bench_args, env in BENCHES:
            if only and name not in only:
                continue
            command = [sys.executable, f"bench/{name}.py", *bench_args]
            emit(f"\n== {' '.join(command[1:])}")
            started = time.monotonic()
            if name == "admin_scale":
                _recreate_database(SCALE_DB)
            process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            for line in process.stdout:
                emit(line.rstrip("\n"))
            status = process.wait()
            if name == "admin_scale":
                _recreate_database(SCALE_DB, create=False)
            emit(f"-- {name}: exit {status} after {time.monotonic() - started:.0f} s")
            if status:
                failed.append(name)
    print(f"\nresults in {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
