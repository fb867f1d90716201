"""Command line of the lake and the distributed refresh (docs/lake.md):

    python -m lake cluster start | stop               (a local Spark cluster: a master, two workers)
    python -m lake export --lake DIR [--url URL] [--since YYYY-MM]   (raw tables → Parquet by month)
    python -m lake refresh --lake DIR [--master URL] [--full | --since YYYY-MM]   (marts on Spark)
    python -m lake compare --lake DIR [--url URL]     (each mart against the warehouse's own)
    python -m lake publish --lake DIR [--url URL]     (the lake's marts into the warehouse)

The master defaults to SPARK_MASTER, else the local cluster's spark://127.0.0.1:7077.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from data_seed.__main__ import month
from lake import cluster
from lake.compare import compare_marts
from lake.export import export_raw
from lake.publish import publish_marts
from lake.spark_refresh import refresh_lake
from queries.engine import resolve_url

LOCAL_MASTER = "spark://127.0.0.1:7077"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m lake", description="The Parquet lake and the mart refresh on Spark.")
    commands = root.add_subparsers(dest="command", required=True)
    cluster = commands.add_parser("cluster", help="start or stop a local Spark cluster (a master and two workers)")
    cluster.add_argument("action", choices=("start", "stop"))
    for name, text in (
        ("export", "write the warehouse's raw tables to the lake as Parquet, by month"),
        ("refresh", "build the marts of the lake's raw tables on Spark"),
        ("compare", "compare every mart of the lake with the warehouse's own"),
        ("publish", "replace the warehouse's marts with the lake's"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--lake", type=Path, required=True, metavar="DIR", help="the lake's folder")
        if name == "refresh":
            command.add_argument("--master", default=os.environ.get("SPARK_MASTER", LOCAL_MASTER), help="Spark master")
            scope = command.add_mutually_exclusive_group()
            scope.add_argument("--full", action="store_true", help="rebuild every month of every mart")
            scope.add_argument("--since", type=month, metavar="YYYY-MM", help="rebuild the months from this one")
        else:
            command.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets, var/warehouse.duckdb)")
        if name == "export":
            command.add_argument("--since", type=month, metavar="YYYY-MM", help="rewrite only months from this one")
    return root


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    started = time.perf_counter()
    try:
        outcome = _run(arguments)
    except (ValueError, RuntimeError, OSError) as error:
        print(f"{arguments.command}: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # Spark's own (Py4J, analysis errors): their first line, not a Java trace
        print(f"{arguments.command} failed: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
        print(f"{arguments.command}: nothing was changed (the lake's manifest is replaced only at the end)")
        return 1
    print(f"{arguments.command}: done in {time.perf_counter() - started:.1f} s")
    return outcome


def _run(arguments) -> int:
    if arguments.command == "cluster":
        if arguments.action == "start":
            started = cluster.start()
            print(f"Spark master {started.master_url} with {cluster.WORKERS} workers; status at {started.ui_url}")
        else:
            print(f"stopped {cluster.stop()} Spark processes")
        return 0
    if arguments.command == "export":
        export_raw(resolve_url(arguments.url), arguments.lake, since=arguments.since)
        return 0
    if arguments.command == "refresh":
        refresh_lake(arguments.lake, master=arguments.master, full=arguments.full, since=arguments.since)
        return 0
    if arguments.command == "compare":
        differences = compare_marts(arguments.lake, resolve_url(arguments.url))
        for difference in differences:
            verdict = "equal" if difference.equal else "DIFFERENT"
            print(
                f"{difference.mart:32} {verdict:9} lake {difference.lake_rows:>12,} rows, "
                f"warehouse {difference.warehouse_rows:>12,}; only in lake {difference.only_in_lake:,}, "
                f"only in warehouse {difference.only_in_warehouse:,}"
            )
        return 0 if all(difference.equal for difference in differences) else 2
    publish_marts(arguments.lake, resolve_url(arguments.url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
