"""All-or-nothing loading of a whole warehouse, on DuckDB (Arrow) or PostgreSQL (COPY).

    with atomic_load(url, source="generate seed=7") as load:
        load.write("customers", frame)        # any number of chunks per table
        load.set_meta(data_through=date(2026, 10, 1))

Every table of queries.tables.metadata is created fresh. Only when the block ends
normally does the new data replace the old, in one step; if anything raises inside the
block (or while finishing), the previous warehouse is left exactly as it was, the
dashboard keeps reading it, and the exception propagates.

- DuckDB: a new file beside the target (``<name>.loading-<uuid>``), filled through Arrow,
  checkpointed and closed, then ``os.replace``d onto the target: readers that hold the old
  file keep reading their inode. While it runs, the load holds an exclusive ``flock`` on
  ``<name>.loading-<uuid>.lock``; the next load removes the files of every load whose lock
  nobody holds (a process killed mid-way leaves them, tens of MB each). Tables carry NOT
  NULL but no key constraints (DuckDB's key indexes would cost ~9× the load time and double
  the file; the data contracts check keys instead). Float columns are DOUBLE (DuckDB's FLOAT is 4-byte).
- PostgreSQL: one transaction. Tables are created in a private staging schema, filled
  with ``COPY … FROM STDIN`` (CSV written by Polars into memory), then given their primary
  keys, foreign keys and a few indexes, analysed, and only then swapped in: the old tables
  are dropped and the new ones moved into the target schema, then commit. Readers wait
  only for the swap. A failure rolls everything back (the staging schema disappears too).
  Objects outside the warehouse that depend on its tables (views, foreign keys) make the
  swap fail instead of being dropped silently.
"""

import fcntl
import io
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    Table,
    create_engine,
)

from data_seed.ddl import (
    DUCKDB_MEMORY_LIMIT,
    MART_POSTGRES_INDEXES,
    POSTGRES_INDEXES,
    create_table_ddl,
    now_in_vietnam,
    quoted,
)
from data_seed.load_log import LoadRecord, forget_attempts, pending_attempts
from data_seed.mart_runner import Runner
from data_seed.refresh import refresh_marts
from queries.engine import duckdb_path, is_duckdb, normalise_url
from queries.marts import STORED_TABLES
from queries.tables import load_log, metadata, warehouse_meta

TABLES: tuple[Table, ...] = tuple(metadata.sorted_tables)  # referenced tables first
# Raw tables and the marts built from them (data_seed/refresh.py): created, filled and
# swapped in together, so a warehouse never has marts from other data.
WAREHOUSE_TABLES: tuple[Table, ...] = TABLES + STORED_TABLES
COPY_ROWS = 1_000_000  # rows per COPY (bounds the in-memory CSV buffer)


def polars_type(column: Column) -> pl.DataType:
    """The Polars type of a warehouse column (subclasses of Integer before Integer)."""
    kind = column.type
    for sql_type, polars in (
        (BigInteger, pl.Int64),
        (SmallInteger, pl.Int16),
        (Integer, pl.Int32),
        (Boolean, pl.Boolean),
        (DateTime, pl.Datetime("us")),
        (Date, pl.Date),
        (Float, pl.Float64),
    ):
        if isinstance(kind, sql_type):
            return polars
    return pl.String


def conform(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with exactly the table's columns, in table order and types; else ValueError."""
    expected = [column.name for column in table.columns]
    if sorted(frame.columns) != sorted(expected):
        missing = sorted(set(expected) - set(frame.columns))
        extra = sorted(set(frame.columns) - set(expected))
        raise ValueError(f"{table.name}: columns do not match the table (missing {missing}, unexpected {extra})")
    return frame.select(pl.col(column.name).cast(polars_type(column)) for column in table.columns)


class Load:
    """What the ``with`` block receives: write chunks, set metadata. Shared by both back ends."""

    def __init__(self, source: str, record: LoadRecord | None = None) -> None:
        self.source = source
        self.record = record or LoadRecord("generate", source)
        self.warnings: list[str] = []  # kept in the load log with the load
        self.rows: dict[str, int] = {table.name: 0 for table in TABLES}
        self.meta: dict[str, str] = {}

    def write(self, table_name: str, frame: pl.DataFrame) -> None:
        if table_name not in metadata.tables or table_name in (warehouse_meta.name, load_log.name):
            raise ValueError(f"unknown table {table_name!r}")
        frame = conform(metadata.tables[table_name], frame)
        if frame.height:
            self._append(table_name, frame)
            self.rows[table_name] += frame.height

    def set_meta(self, data_through: date | None = None, **values: object) -> None:
        """data_through = last complete month of data; any other key/value is stored as text."""
        if data_through is not None:
            self.meta["data_through"] = data_through.isoformat()
        self.meta.update({key: str(value) for key, value in values.items()})

    def meta_frame(self) -> pl.DataFrame:
        meta = dict(self.meta)
        if "data_through" not in meta:
            meta["data_through"] = self._latest_revenue_month()
        meta.update(loaded_at=now_in_vietnam(), source=self.source, data_version=uuid.uuid4().hex)
        meta = {key: value for key, value in meta.items() if value is not None}
        return pl.DataFrame(
            {"key": list(meta), "value": list(meta.values())}, schema={"key": pl.String, "value": pl.String}
        )

    def log_frame(self, previous: pl.DataFrame) -> pl.DataFrame:
        """The load log of the new warehouse: the old one's rows, attempts that wrote
        nothing since, and this load."""
        message = "\n".join(self.warnings) or None
        return pl.concat([previous, self.record.frame("loaded", message)])

    # Back ends fill these in.
    def _append(self, table_name: str, frame: pl.DataFrame) -> None:
        raise NotImplementedError

    def _latest_revenue_month(self) -> str | None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _abort(self) -> None:
        raise NotImplementedError


# --- DuckDB: telling a live load's files from a dead one's -----------------------------------
# A load holds an exclusive flock on its lock file from before its DuckDB file exists until
# after that file is renamed or deleted. The kernel drops the lock when the process dies,
# however it dies, so "nobody holds the lock" means "the load is over". flock (not DuckDB's
# own lock) because DuckDB shares one database instance per file inside a process: opening
# a live file from the same process would succeed and we would delete it under the load.


def loading_files(target: Path, token: str) -> tuple[Path, Path, Path, Path]:
    """The load's database file, its write-ahead log, DuckDB's spill directory, its lock."""
    base = target.with_name(f"{target.name}.loading-{token}")
    return base, Path(f"{base}.wal"), Path(f"{base}.tmp"), Path(f"{base}.lock")


def take_lock(path: Path, wait: bool) -> int | None:
    """An open descriptor holding an exclusive flock on ``path`` (created if missing), or
    None when ``wait`` is False and someone else holds it."""
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(descriptor)
            return None
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        # Another process may have removed the file between our open and our lock: a lock on
        # an unlinked file protects nothing, so start again on the file that is there now.
        if current == os.fstat(descriptor).st_ino:
            return descriptor
        os.close(descriptor)
        if not wait:
            return None  # whoever removed it was cleaning that load up already


def release_lock(path: Path, descriptor: int) -> None:
    path.unlink(missing_ok=True)  # while still holding it, so no one locks a file about to vanish
    os.close(descriptor)


def serial_lock_path(target: Path) -> Path:
    """Held by a monthly load from reading the file until it has swapped its changed copy in,
    and by a whole load for its swap: a whole load swapped in meanwhile would be overwritten
    by the monthly load's copy of the old file. (A whole load does not hold it while it
    writes: it reads nothing of the old file, and loads may nest or overlap; the last wins.)"""
    return target.with_name(f"{target.name}.load.lock")


def remove_stale_loads(target: Path) -> list[str]:
    """Delete what dead loads left beside ``target``; a live load's files stay. Names removed."""
    pattern = re.compile(re.escape(target.name) + r"\.loading-([0-9a-f]{32})(\.wal|\.tmp|\.lock)?")
    tokens = sorted({found[1] for path in target.parent.iterdir() if (found := pattern.fullmatch(path.name))})
    removed = []
    for token in tokens:
        database, wal, spill, lock = loading_files(target, token)
        descriptor = take_lock(lock, wait=False)
        if descriptor is None:
            continue  # a load is running in another process (or thread) and owns these files
        try:
            for path in (database, wal):
                if path.exists():
                    path.unlink()
                    removed.append(path.name)
            if spill.is_dir():
                shutil.rmtree(spill, ignore_errors=True)
                removed.append(spill.name)
        finally:
            release_lock(lock, descriptor)
    return removed


class DuckDBLoad(Load):
    def __init__(self, url: str, source: str, record: LoadRecord | None = None) -> None:
        import duckdb

        super().__init__(source, record)
        self.url = url
        self.target = duckdb_path(url)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.serial_path = serial_lock_path(self.target)
        self.serial = None  # taken for the swap only (see serial_lock_path)
        remove_stale_loads(self.target)
        self.temporary, _, _, self.lock_path = loading_files(self.target, uuid.uuid4().hex)
        # Locked before the database file exists: a cleaner never sees this load's file unlocked.
        self.lock = take_lock(self.lock_path, wait=True)
        self.connection = None
        try:
            self.connection = duckdb.connect(str(self.temporary))
            self.connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
            self.connection.execute("SET enable_progress_bar = false")
            for table in WAREHOUSE_TABLES:
                self.connection.execute(create_table_ddl(table, "duckdb"))
        except BaseException:
            self._abort()  # atomic_load has not got the load yet, so it cannot clean up
            raise

    def _append(self, table_name: str, frame: pl.DataFrame) -> None:
        incoming = frame.to_arrow()
        self.connection.register("incoming", incoming)
        try:
            self.connection.execute(f"INSERT INTO {quoted(table_name)} SELECT * FROM incoming").fetchall()
        finally:
            self.connection.unregister("incoming")

    def _latest_revenue_month(self) -> str | None:
        latest = self.connection.execute("SELECT max(revenue_month) FROM revenue_monthly").fetchall()[0][0]
        return latest.isoformat() if latest else None

    def _commit(self) -> None:
        meta = self.meta_frame()
        self._append(warehouse_meta.name, meta)
        self.rows[warehouse_meta.name] = meta.height
        self._refresh_marts()
        # Last, so the load's end time covers the marts.
        log = self.log_frame(pl.concat([self._previous_log(), pending_attempts(self.url)]))
        self._append(load_log.name, log)
        self.rows[load_log.name] = log.height
        self.connection.execute("CHECKPOINT")
        self.connection.close()
        # Not while a monthly load is changing a copy of the file: it would swap that copy in after us.
        self.serial = take_lock(self.serial_path, wait=True)
        # A write-ahead log left by the old file would be replayed onto the new one.
        Path(f"{self.target}.wal").unlink(missing_ok=True)
        os.replace(self.temporary, self.target)
        forget_attempts(self.url)
        self._unlock()

    def _previous_log(self) -> pl.DataFrame:
        """load_log of the warehouse being replaced (none if it has none or cannot be read)."""
        empty = self.record.frame("loaded").clear()
        if not self.target.exists():
            return empty
        try:
            self.connection.execute(f"ATTACH '{self.target}' AS previous_warehouse (READ_ONLY)")
        except Exception:  # damaged or not DuckDB: a new log starts
            return empty
        try:
            found = self.connection.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_catalog = 'previous_warehouse' AND table_name = 'load_log'"
            ).fetchall()[0][0]
            if not found:
                return empty
            columns = ", ".join(quoted(name) for name in empty.columns)
            rows = pl.from_arrow(
                self.connection.sql(f"SELECT {columns} FROM previous_warehouse.load_log").to_arrow_table()
            )
            return rows.cast(empty.schema)
        finally:
            self.connection.execute("DETACH previous_warehouse")

    def _refresh_marts(self) -> None:
        refresh_marts(Runner(self.connection, create_engine("duckdb:///:memory:").dialect), full=True)

    def _abort(self) -> None:
        try:
            if self.connection is not None:
                self.connection.close()
        finally:
            for path in (self.temporary, Path(f"{self.temporary}.wal")):
                path.unlink(missing_ok=True)
            self._unlock()

    def _unlock(self) -> None:
        if self.lock is not None:
            release_lock(self.lock_path, self.lock)
            self.lock = None
        if self.serial is not None:
            release_lock(self.serial_path, self.serial)
            self.serial = None


def copy_into_postgres(connection, qualified_name: str, frame: pl.DataFrame) -> None:
    """``COPY … FROM STDIN`` of ``frame`` into a PostgreSQL table, a million rows at a time."""
    columns = ", ".join(quoted(name) for name in frame.columns)
    statement = f"COPY {qualified_name} ({columns}) FROM STDIN WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        for offset in range(0, frame.height, COPY_ROWS):
            buffer = io.BytesIO()
            frame.slice(offset, COPY_ROWS).write_csv(
                buffer, include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.6f", null_value=""
            )
            buffer.seek(0)
            cursor.copy_expert(statement, buffer)


class PostgresLoad(Load):
    def __init__(self, url: str, source: str, record: LoadRecord | None = None) -> None:
        super().__init__(source, record)
        self.engine = create_engine(url)
        self.connection = self.engine.raw_connection()
        self.staging = f"loading_{uuid.uuid4().hex[:12]}"
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            self.schema = cursor.fetchone()[0]
            cursor.execute(f"CREATE SCHEMA {quoted(self.staging)}")
            for table in WAREHOUSE_TABLES:
                cursor.execute(create_table_ddl(table, "postgresql", self.staging))

    def _name(self, table_name: str, schema: str | None = None) -> str:
        return f"{quoted(schema or self.staging)}.{quoted(table_name)}"

    def _append(self, table_name: str, frame: pl.DataFrame) -> None:
        copy_into_postgres(self.connection, self._name(table_name), frame)

    def _latest_revenue_month(self) -> str | None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT max(revenue_month) FROM {self._name('revenue_monthly')}")
            latest = cursor.fetchone()[0]
        return latest.isoformat() if latest else None

    def _commit(self) -> None:
        meta = self.meta_frame()
        self._append(warehouse_meta.name, meta)
        self.rows[warehouse_meta.name] = meta.height
        self._refresh_marts()
        # Last, so the load's end time covers the marts.
        self.rows[load_log.name] = self._carry_over_log() + 1
        self._append(load_log.name, self.log_frame(self.record.frame("loaded").clear()))
        with self.connection.cursor() as cursor:
            for table in TABLES:
                keys = ", ".join(quoted(column.name) for column in table.primary_key.columns)
                cursor.execute(f"ALTER TABLE {self._name(table.name)} ADD PRIMARY KEY ({keys})")
            for table in TABLES:
                for key in table.foreign_keys:
                    cursor.execute(
                        f"ALTER TABLE {self._name(table.name)} ADD FOREIGN KEY ({quoted(key.parent.name)}) "
                        f"REFERENCES {self._name(key.column.table.name)} ({quoted(key.column.name)})"
                    )
            for table_name, columns in POSTGRES_INDEXES + MART_POSTGRES_INDEXES:
                index = quoted(f"ix_{table_name}_{'_'.join(columns)}")
                listed = ", ".join(quoted(column) for column in columns)
                cursor.execute(f"CREATE INDEX {index} ON {self._name(table_name)} ({listed})")
            for table in WAREHOUSE_TABLES:
                cursor.execute(f"ANALYZE {self._name(table.name)}")
            # The swap: the only moment readers of the old tables wait.
            old = ", ".join(self._name(table.name, self.schema) for table in WAREHOUSE_TABLES)
            cursor.execute(f"DROP TABLE IF EXISTS {old}")
            for table in WAREHOUSE_TABLES:
                cursor.execute(f"ALTER TABLE {self._name(table.name)} SET SCHEMA {quoted(self.schema)}")
            cursor.execute(f"DROP SCHEMA {quoted(self.staging)}")
        self.connection.commit()
        self._close()

    def _carry_over_log(self) -> int:
        """The old warehouse's load log into the new one; the rows carried."""
        columns = ", ".join(quoted(column.name) for column in load_log.columns)
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", (f"{quoted(self.schema)}.{quoted(load_log.name)}",))
            if cursor.fetchone()[0] is None:
                return 0
            cursor.execute(
                f"INSERT INTO {self._name(load_log.name)} ({columns}) "
                f"SELECT {columns} FROM {self._name(load_log.name, self.schema)}"
            )
            return cursor.rowcount

    def _refresh_marts(self) -> None:
        """Build the marts from the staged raw tables, inside the load's transaction."""
        with self.connection.cursor() as cursor:
            cursor.execute("SHOW search_path")
            previous = cursor.fetchone()[0]
            cursor.execute(f"SET LOCAL search_path TO {quoted(self.staging)}")
        refresh_marts(Runner(self.connection, self.engine.dialect), full=True)
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('search_path', %s, true)", (previous,))

    def _abort(self) -> None:
        try:
            self.connection.rollback()
        finally:
            self._close()

    def _close(self) -> None:
        self.connection.close()
        self.engine.dispose()


@contextmanager
def atomic_load(url: str, source: str, record: LoadRecord | None = None) -> Iterator[Load]:
    """Replace the whole warehouse at ``url`` with what the block writes, or leave it untouched.
    ``record`` describes the load for the load log (default: a generate run named ``source``)."""
    url = normalise_url(url)
    load = DuckDBLoad(url, source, record) if is_duckdb(url) else PostgresLoad(url, source, record)
    try:
        yield load
        load._commit()
    except BaseException:
        try:
            load._abort()
        except Exception:  # noqa: S110 - cleaning up must not hide the error that made us clean up
            pass
        raise
