"""Command line: ``python -m data_seed generate …`` and ``python -m data_seed import DIR``.

    python -m data_seed generate --customers 200000 [--months 36] [--seed 7] [--url URL] [--end-month 2026-10]
                                 [--export DIR]
    python -m data_seed import DIR [--url URL] [--force] [--mapping FILE]   (a whole extract: replaces the warehouse)
    python -m data_seed import DIR --month YYYY-MM [--reload] [--mapping FILE] [--url URL]   (one month)
    python -m data_seed export DIR [--url URL]                     (the warehouse as monthly extracts)
    python -m data_seed refresh [--url URL] [--full | --since YYYY-MM]

The warehouse URL defaults to WAREHOUSE_URL, then .streamlit/secrets.toml, then the
embedded DuckDB file var/warehouse.duckdb (queries.engine.resolve_url).
"""

import argparse
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from data_seed import seed_warehouse
from data_seed.export import export_months
from data_seed.generate_calendar import last_complete_month
from data_seed.importer import import_directory
from data_seed.monthly import load_month
from data_seed.refresh import refresh_url
from queries.engine import resolve_url


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}") from error


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m data_seed", description="Fill the CRM warehouse.")
    commands = root.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="generate synthetic CRM data and load it (all or nothing)")
    generate.add_argument("--customers", type=positive_int, required=True, help="number of customer accounts")
    generate.add_argument("--months", type=positive_int, default=36, help="months of history (default 36)")
    generate.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    generate.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets, var/warehouse.duckdb)")
    generate.add_argument(
        "--end-month", type=month, help="last month of data, YYYY-MM (default: last complete month in Vietnam)"
    )
    generate.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="instead of loading the warehouse, write the data as one folder of import files per month into DIR",
    )
    load = commands.add_parser("import", help="validate CSV/Parquet files in DIR and load them (all or nothing)")
    load.add_argument("directory", type=Path, help="directory with one file per table")
    load.add_argument(
        "--month",
        type=month,
        help="DIR is one month's extract (YYYY-MM): replace that month's rows, update customers by key, keep the rest",
    )
    load.add_argument(
        "--reload", action="store_true", help="with --month: allow a month earlier than the last one loaded"
    )
    load.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets, var/warehouse.duckdb)")
    load.add_argument(
        "--force",
        action="store_true",
        help="load even if a table would lose more than half of the rows it has now (e.g. a deliberately smaller "
        "extract, or emptying the warehouse)",
    )
    load.add_argument(
        "--mapping",
        type=Path,
        help="TOML file saying how the extract differs from the import format: file names, encoding, column names, "
        "value words, date and number formats (docs/import.md)",
    )
    export = commands.add_parser("export", help="write the warehouse as one folder of import files per month")
    export.add_argument("directory", type=Path, help="directory to write the month folders (YYYY-MM) into")
    export.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets, var/warehouse.duckdb)")
    export.add_argument("--only", type=month, metavar="YYYY-MM", help="write this month's folder only")
    refresh = commands.add_parser(
        "refresh", help="rebuild the marts from the raw tables (loads and imports do it already)"
    )
    refresh.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets, var/warehouse.duckdb)")
    mode = refresh.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="rebuild every mart from scratch")
    mode.add_argument("--since", type=month, help="rebuild the months from YYYY-MM on")
    return root


def run_generate(arguments: argparse.Namespace) -> int:
    if arguments.export:
        with tempfile.TemporaryDirectory() as scratch:
            arguments.url = f"duckdb:///{Path(scratch) / 'generated.duckdb'}"
            arguments.export, directory = None, arguments.export
            run_generate(arguments)
            folders = export_months(arguments.url, directory, progress=print)
        print(f"Wrote {len(folders)} month folders into {directory}.")
        return 0
    url = resolve_url(arguments.url)
    end_month = arguments.end_month or last_complete_month()
    started = time.perf_counter()
    print(
        f"Generating {arguments.customers:,} customers, {arguments.months} months to {end_month:%m/%Y}, "
        f"seed {arguments.seed} → {url}",
        flush=True,
    )

    def progress(message: str) -> None:
        print(f"  [{time.perf_counter() - started:6.1f} s] {message}", flush=True)

    counts = seed_warehouse(url, arguments.customers, arguments.months, arguments.seed, end_month, progress=progress)
    width = max(len(name) for name in counts)
    for name, rows in sorted(counts.items()):
        print(f"  {name:<{width}}  {rows:>14,}")
    print(f"Loaded {sum(counts.values()):,} rows in {time.perf_counter() - started:.1f} s.")
    return 0


def run_import(arguments: argparse.Namespace) -> int:
    if arguments.month:
        return load_month(
            arguments.directory,
            resolve_url(arguments.url),
            arguments.month,
            reload=arguments.reload,
            mapping=arguments.mapping,
        )
    if arguments.reload:
        print("--reload goes with --month", file=sys.stderr)
        return 2
    return import_directory(
        arguments.directory, resolve_url(arguments.url), force=arguments.force, mapping=arguments.mapping
    )


def run_export(arguments: argparse.Namespace) -> int:
    try:
        folders = export_months(resolve_url(arguments.url), arguments.directory, only=arguments.only, progress=print)
    except ValueError as error:
        print(f"Nothing exported: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {len(folders)} month folder(s) into {arguments.directory}.")
    return 0


def run_refresh(arguments: argparse.Namespace) -> int:
    url = resolve_url(arguments.url)
    started = time.perf_counter()
    decided = refresh_url(url, full=arguments.full, since=arguments.since, log=lambda line: print(line, flush=True))
    if not decided.current and decided.through is not None:
        print(f"Marts refreshed through {decided.through:%m/%Y} in {time.perf_counter() - started:.1f} s.")
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    if arguments.command == "generate":
        return run_generate(arguments)
    if arguments.command == "refresh":
        return run_refresh(arguments)
    if arguments.command == "export":
        return run_export(arguments)
    return run_import(arguments)


if __name__ == "__main__":
    sys.exit(main())
