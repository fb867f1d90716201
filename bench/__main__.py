"""`python -m bench`: seed or reuse the warehouses, measure every page, print and save.

    python -m bench                                  # DuckDB 1 M and 10 M, PostgreSQL 1 M, demo 200 k
    python -m bench --warehouses duckdb:1000000      # one warehouse
    python -m bench --raw                            # the same, measures read the raw tables (no marts)
    python -m bench --pages overview --variants default province --repeats 3 --no-browser

Warehouses: var/bench/duckdb-<N>.duckdb and the PostgreSQL databases crm_bench_<N>,
generated on first use (36 months, seed 7, ending 2026-10) and reused afterwards.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report
from bench.config import DEFAULT_SIZES, DEMO_SIZE, PROJECT_ROOT, REPEATS
from bench.warehouses import Warehouse, ensure


def parse_warehouses(texts: list[str] | None) -> list[tuple[str, int]]:
    if not texts:
        chosen = [("duckdb", DEMO_SIZE)]
        chosen += [(backend, size) for backend, sizes in DEFAULT_SIZES.items() for size in sizes]
        return chosen
    parsed = []
    for text in texts:
        backend, _, size = text.partition(":")
        if backend not in ("duckdb", "postgresql") or not size.isdigit():
            raise SystemExit(f"--warehouses wants backend:customers, e.g. duckdb:1000000 (got {text!r})")
        parsed.append((backend, int(size)))
    return parsed


def measure(warehouse: Warehouse, arguments: argparse.Namespace) -> dict:
    """Run the worker in its own process (its peak memory is the dashboard's) and read its JSON."""
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as directory:
        out = Path(directory) / "result.json"
        command = [sys.executable, "-m", "bench.worker", warehouse.url, str(out), "--repeats", str(arguments.repeats)]
        if arguments.pages:
            command += ["--pages", *arguments.pages]
        if arguments.variants:
            command += ["--variants", *arguments.variants]
        if arguments.raw:
            command.append("--raw")
        # AppTest warns about bare mode on every run. The page time bound (dashboard/frame/warehouse.py)
        # is lifted: the benchmark times queries, and --raw ones ran past 30 s before the marts.
        quiet = {**os.environ, "STREAMLIT_LOGGER_LEVEL": "error", "CRM_QUERY_TIMEOUT_SECONDS": "3600"}
        subprocess.run(command, cwd=PROJECT_ROOT, check=True, env=quiet)
        result = json.loads(out.read_text(encoding="utf-8"))
    return {"backend": warehouse.backend, "customers": warehouse.customers, **result}


def browser(warehouse: Warehouse, arguments: argparse.Namespace) -> dict:
    # Loaded only for a browser run: Playwright and the dashboard are heavy for the parent process.
    from bench.browser import time_pages
    from bench.recording import demo_users_dir

    if arguments.raw:
        raise SystemExit("--raw cannot reach the dashboard server's process; use --no-browser")
    return time_pages(warehouse.url, str(demo_users_dir()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--warehouses", nargs="*", help="backend:customers, e.g. duckdb:1000000 postgresql:1000000")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"timed repeats (default {REPEATS})")
    parser.add_argument("--pages", nargs="*", help="url paths (default: every page)")
    parser.add_argument("--variants", nargs="*", help="default province segment two_years (default: all)")
    parser.add_argument("--raw", action="store_true", help="answer measures from the raw tables (before the marts)")
    parser.add_argument(
        "--browser",
        default="largest",
        choices=("largest", "all", "none"),
        help="real-browser timing: on the largest DuckDB warehouse (default), every warehouse, or none",
    )
    parser.add_argument("--no-browser", dest="browser", action="store_const", const="none")
    parser.add_argument(
        "--browser-only", action="store_true", help="only the real-browser timing (no query timing, no AppTest renders)"
    )
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    chosen = parse_warehouses(arguments.warehouses)
    largest_duckdb = max((size for backend, size in chosen if backend == "duckdb"), default=None)
    results = {"machine": report.machine(), "command": " ".join(["python -m bench", *(argv or sys.argv[1:])])}
    results["warehouses"] = []
    for backend, size in chosen:
        warehouse = ensure(backend, size, refresh=not arguments.raw)
        print(f"\n== {warehouse.label}{' (raw tables)' if arguments.raw else ''}", flush=True)
        if arguments.browser_only:
            measured = {"backend": warehouse.backend, "customers": warehouse.customers, "pages": []}
        else:
            measured = measure(warehouse, arguments)
        wanted = arguments.browser == "all" or (
            arguments.browser == "largest" and backend == "duckdb" and size == largest_duckdb
        )
        if wanted:
            measured["browser"] = browser(warehouse, arguments)
        results["warehouses"].append(measured)
    results["seconds"] = time.perf_counter() - started
    print(report.table(results))
    print(f"\nwritten to {report.write(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
