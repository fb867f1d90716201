"""Where a monthly load writes: a working copy of the DuckDB file, swapped in at the end, or one
PostgreSQL transaction; and what the warehouse holds before the load (its months, its
customers' keys, the last month's row counts)."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import create_engine, func, select

from data_seed.customer_keys import ID, KEY
from data_seed.ddl import DUCKDB_MEMORY_LIMIT
from data_seed.import_warnings import MONTH_PARTITIONS
from data_seed.load import (
    loading_files,
    release_lock,
    remove_stale_loads,
    serial_lock_path,
    take_lock,
)
from data_seed.mart_runner import Runner
from queries.engine import duckdb_path
from queries.tables import customers, metadata, warehouse_meta

DUCKDB_DIALECT = create_engine("duckdb:///:memory:").dialect
POSTGRES_LOAD_LOCK = 740_221_115  # pg_advisory_xact_lock key shared by every monthly load


@dataclass(frozen=True)
class MonthState:
    """What the warehouse holds before the load."""

    through: date | None  # last month of data
    keys: pl.DataFrame  # (customer_key, customer_id)
    previous_rows: dict[str, int]  # rows of the last month, per month-partitioned table (month_rows)


# --- where the month is written: a copy of the DuckDB file, or a PostgreSQL transaction --------


def key_map(runner: Runner) -> pl.DataFrame:
    """(customer_key, customer_id) of every customer: through Arrow on DuckDB (tens of
    millions of pairs), through the cursor on PostgreSQL."""
    statement = select(customers.c.customer_key, customers.c.customer_id)
    schema = {KEY: pl.String, ID: pl.Int64}
    if runner.dialect.name == "duckdb":
        sql = str(statement.compile(dialect=runner.dialect))
        return (
            pl.from_arrow(runner.connection.sql(sql).to_arrow_table())
            .rename({"customer_key": KEY, "customer_id": ID})
            .cast(schema)
        )
    return pl.DataFrame(runner.rows(statement), schema=schema, orient="row")


def month_rows(runner: Runner, month: date) -> dict[str, int]:
    """Rows the warehouse holds for ``month`` in each month-partitioned table: what the next
    month's files are compared with (import_warnings.fewer_rows_than_previous_month), read
    from the data itself, as import_warnings.month_row_counts counts an extract."""
    return {
        name: runner.scalar(select(func.count()).where(metadata.tables[name].c[column] == month))
        for name, column in MONTH_PARTITIONS.items()
    }


def read_state(runner: Runner) -> MonthState:
    text = runner.scalar(select(warehouse_meta.c.value).where(warehouse_meta.c.key == "data_through"))
    through = date.fromisoformat(text).replace(day=1) if text else None
    keys = key_map(runner)
    previous = month_rows(runner, through) if through else {}
    return MonthState(through, keys, previous)


class DuckDBMonth:
    """The month is written into a copy of the file, swapped in when everything worked.

    The copy is a load's file (data_seed/load.py): its lock tells a later load whether the
    process writing it is alive, so a copy left by a kill -9 is removed then."""

    def __init__(self, url: str) -> None:
        self.target = duckdb_path(url)
        self.serial_path = serial_lock_path(self.target)
        self.serial = take_lock(self.serial_path, wait=True)
        self.lock = None
        self.connection = None
        remove_stale_loads(self.target)

    def state(self) -> MonthState:
        import duckdb

        reader = duckdb.connect(str(self.target), read_only=True)
        try:
            return read_state(Runner(reader, DUCKDB_DIALECT))
        finally:
            reader.close()

    def runner(self) -> Runner:
        import duckdb

        self.working, _, _, self.lock_path = loading_files(self.target, uuid.uuid4().hex)
        self.lock = take_lock(self.lock_path, wait=True)
        shutil.copyfile(self.target, self.working)
        self.connection = duckdb.connect(str(self.working))
        self.connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        self.connection.execute("SET enable_progress_bar = false")
        return Runner(self.connection, DUCKDB_DIALECT)

    def commit(self) -> None:
        self.connection.execute("CHECKPOINT")
        self.connection.close()
        self.connection = None
        Path(f"{self.target}.wal").unlink(missing_ok=True)  # an old log replayed onto the new file
        os.replace(self.working, self.target)

    def close(self) -> None:
        try:
            if self.connection is not None:
                self.connection.close()
            if self.lock is not None:
                for path in (self.working, Path(f"{self.working}.wal")):
                    path.unlink(missing_ok=True)
                release_lock(self.lock_path, self.lock)
        finally:
            release_lock(self.serial_path, self.serial)


class PostgresMonth:
    """The month is written in one transaction on the live tables; readers see it at commit.
    An advisory lock makes a second load wait for the first."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.connection = self.engine.raw_connection()
        self._runner = Runner(self.connection, self.engine.dialect)
        self._runner.execute_sql(f"SELECT pg_advisory_xact_lock({POSTGRES_LOAD_LOCK})")

    def state(self) -> MonthState:
        return read_state(self._runner)

    def runner(self) -> Runner:
        return self._runner

    def commit(self) -> None:
        self.connection.commit()

    def close(self) -> None:
        try:
            self.connection.rollback()  # nothing left to roll back after a commit
            self.connection.close()
        finally:
            self.engine.dispose()
