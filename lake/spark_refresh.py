"""The mart refresh on Apache Spark: the marts of the lake's raw tables, written to the lake.

    python -m lake refresh --lake DIR [--master spark://127.0.0.1:7077] [--full | --since 2026-07]

The same refresh as the warehouse's (data_seed/refresh.py decides what to rebuild, the
builders of data_seed/mart_builds.py say how), its statements compiled for Spark SQL and
run on the cluster by lake/spark_runner.py: incremental by month (months from the first new
one less the look-back, as on one machine), each rebuilt month written as a whole Parquet
partition, and the marts' manifest replaced at the end. A run that fails leaves the lake's
marts as they were.

The master is any URL Spark accepts: `spark://host:7077` for a standalone cluster (the local
one of `python -m lake cluster start`, or a real one), `yarn`, `k8s://…`, or `local[N]` to
run in this process. The lake's folder must be readable and writable by every executor
under the same path (on a cluster: a shared file system or an object store URL).
"""

import os
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from data_seed.ddl import now_in_vietnam
from data_seed.refresh import META_REFRESHED, META_THROUGH, META_VERSION, Plan, refresh_marts
from lake.export import NOT_EXPORTED, raw_root
from lake.spark_runner import SparkRunner
from lake.store import commit, read_manifest
from lake.writer_lock import lake_writer
from queries.marts import MART_TABLES, STORED_TABLES
from queries.tables import metadata

MARTS = "marts"
DEFAULT_MASTER = "local[2]"
# Marts are small: Spark's default of 200 shuffle partitions would make 200 tiny tasks per
# aggregation. Raise it for a large cluster (SPARK_SHUFFLE_PARTITIONS).
SHUFFLE_PARTITIONS = "8"


def marts_root(lake: Path) -> Path:
    return Path(lake) / MARTS


def spark_session(master: str, app_name: str = "crm-mart-refresh"):
    """A Spark session on `master`. Memory and cores come from the usual Spark settings
    (SPARK_DRIVER_MEMORY, spark-defaults.conf, --conf through PYSPARK_SUBMIT_ARGS)."""
    _check_reachable(master)
    from pyspark.sql import SparkSession  # heavy and optional: only the lake's commands need it

    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")  # timestamps are wall-clock times, kept as they are
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", SHUFFLE_PARTITIONS))
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.executor.memory", os.environ.get("SPARK_EXECUTOR_MEMORY", "2g"))
    )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # Py4J's errors carry a Java stack trace of many lines
        raise RuntimeError(f"could not start a Spark session on {master}: {str(error).splitlines()[0]}") from error
    session.sparkContext.setLogLevel("ERROR")
    return session


def stop_session(session) -> None:
    """Stop `session` and the driver's JVM with it. Spark's own stop leaves that JVM running
    until Python exits, and then it exits on its own time: a check right after (CI's) still
    finds it."""
    from pyspark import SparkContext

    session.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)  # set by pyspark when it launched the JVM itself
    gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if process is None:
        return
    if process.stdin:
        process.stdin.close()  # the launcher's signal to exit: its stdin closing
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _check_reachable(master: str) -> None:
    """A standalone master that does not answer is said at once (Spark itself retries for a
    minute, then fails with a Java stack trace)."""
    if not master.startswith("spark://"):
        return
    for address in master.removeprefix("spark://").split(","):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=3).close()
            return
        except (OSError, ValueError):
            continue
    raise RuntimeError(f"no Spark master answers at {master} (start one: python -m lake cluster start)")


def refresh_lake(
    lake: Path,
    *,
    master: str = DEFAULT_MASTER,
    full: bool = False,
    since: date | None = None,
    spark=None,
    log: Callable[[str], None] = print,
) -> Plan:
    """Build the marts of `lake`/raw into `lake`/marts on Spark (see the module docstring).
    `spark`: a session to reuse (tests); else one is started on `master` and stopped."""
    raw_folder, marts_folder = raw_root(lake), marts_root(lake)
    raw = read_manifest(raw_folder)
    if not raw.tables:
        raise ValueError(f"{raw_folder} holds no raw tables: run `python -m lake export` first")
    own_session = spark is None
    if own_session:
        spark = spark_session(master)
    try:
        with lake_writer(marts_folder):
            marts = read_manifest(marts_folder)
            raw_tables = [table for table in metadata.sorted_tables if table.name not in NOT_EXPORTED]
            runner = SparkRunner(spark, raw_folder, raw, marts_folder, marts, raw_tables, STORED_TABLES)
            if not all(marts.has(mart.name) for mart in MART_TABLES):
                full = True  # a new lake, or a mart this version added: every month of every mart
            started = time.perf_counter()
            decided = refresh_marts(runner, full=full, since=since, log=log)
            if decided.current:
                return decided
            changed = runner.commit_into(marts)
            marts.meta = {
                META_THROUGH: decided.through.isoformat() if decided.through else "",
                META_VERSION: raw.meta.get("data_version", ""),
                META_REFRESHED: now_in_vietnam(),
                "refresh_seconds": f"{time.perf_counter() - started:.1f}",
                "master": master if own_session else spark.sparkContext.master,
            }
            commit(marts_folder, marts)
            log(f"marts: {len(changed)} tables written to {marts_folder}")
            return decided
    finally:
        if own_session:
            stop_session(spark)
