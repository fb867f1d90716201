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
  file keep reading their inode. Tables carry NOT NULL but no key constraints (DuckDB's
  key indexes would cost ~9× the load time and double the file; the data contracts check
  keys instead). Float columns are DOUBLE (DuckDB's FLOAT is 4-byte).
- PostgreSQL: one transaction. Tables are created in a private staging schema, filled
  with ``COPY … FROM STDIN`` (CSV written by Polars into memory), then given their primary
  keys, foreign keys and a few indexes, analysed, and only then swapped in: the old tables
  are dropped and the new ones moved into the target schema, then commit. Readers wait
  only for the swap. A failure rolls everything back (the staging schema disappears too).
  Objects outside the warehouse that depend on its tables (views, foreign keys) make the
  swap fail instead of being dropped silently.
"""

import io
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
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
from sqlalchemy.dialects import postgresql

from data_seed.generate_calendar import VIETNAM
from queries.engine import duckdb_path, is_duckdb, normalise_url
from queries.marts import MART_TABLES, STORED_TABLES
from queries.tables import metadata, warehouse_meta

TABLES: tuple[Table, ...] = tuple(metadata.sorted_tables)  # referenced tables first
# Raw tables and the marts built from them (data_seed/refresh.py): created, filled and
# swapped in together, so a warehouse never has marts from other data.
WAREHOUSE_TABLES: tuple[Table, ...] = TABLES + STORED_TABLES
COPY_ROWS = 1_000_000  # rows per COPY (bounds the in-memory CSV buffer)
DUCKDB_MEMORY_LIMIT = "2GB"

# Indexes for the dashboard's commonest filters and joins (PostgreSQL; DuckDB scans fast enough).
POSTGRES_INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("customers", ("province_code",)),
    ("customers", ("activated_on",)),
    ("customers", ("churned_on",)),
    ("revenue_monthly", ("revenue_month",)),
    ("bills", ("customer_id",)),
    ("bills", ("due_on",)),
    ("bills", ("bill_month",)),
    ("complaints", ("opened_at",)),
    ("complaints", ("customer_id",)),
    ("complaints", ("staff_id",)),
    ("churn_events", ("churned_on",)),
    ("port_out_requests", ("requested_on",)),
    ("surveys", ("surveyed_on",)),
    ("training", ("staff_id",)),
    ("campaign_targets", ("customer_id",)),
)
# Marts get an index on their key, month first (range scans by period), not a primary key
# (built from the raw tables, they need no uniqueness check); the row-level marts are also
# read by timestamp.
MART_POSTGRES_INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    *((mart.name, tuple(column.name for column in mart.primary_key.columns)) for mart in MART_TABLES),
    ("mart_complaints", ("opened_at",)),
    ("mart_complaints", ("resolved_at",)),
    ("mart_surveys", ("surveyed_on",)),
)


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


def quoted(name: str) -> str:
    """An identifier from queries.tables (never user input), quoted for both dialects."""
    return '"' + name.replace('"', '""') + '"'


def column_ddl(column: Column, dialect: str) -> str:
    if dialect == "duckdb" and isinstance(column.type, Float):
        sql_type = "DOUBLE"
    else:
        sql_type = column.type.compile(dialect=postgresql.dialect())
    return f"{quoted(column.name)} {sql_type}{'' if column.nullable else ' NOT NULL'}"


def create_table_ddl(table: Table, dialect: str, schema: str | None = None) -> str:
    name = f"{quoted(schema)}.{quoted(table.name)}" if schema else quoted(table.name)
    columns = ", ".join(column_ddl(column, dialect) for column in table.columns)
    return f"CREATE TABLE {name} ({columns})"


def conform(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with exactly the table's columns, in table order and types; else ValueError."""
    expected = [column.name for column in table.columns]
    if sorted(frame.columns) != sorted(expected):
        missing = sorted(set(expected) - set(frame.columns))
        extra = sorted(set(frame.columns) - set(expected))
        raise ValueError(f"{table.name}: columns do not match the table (missing {missing}, unexpected {extra})")
    return frame.select(pl.col(column.name).cast(polars_type(column)) for column in table.columns)


def now_in_vietnam() -> str:
    return datetime.now(VIETNAM).replace(tzinfo=None).isoformat(timespec="seconds")


class Load:
    """What the ``with`` block receives: write chunks, set metadata. Shared by both back ends."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.rows: dict[str, int] = {table.name: 0 for table in TABLES}
        self.meta: dict[str, str] = {}

    def write(self, table_name: str, frame: pl.DataFrame) -> None:
        if table_name not in metadata.tables or table_name == warehouse_meta.name:
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

    # Back ends fill these in.
    def _append(self, table_name: str, frame: pl.DataFrame) -> None:
        raise NotImplementedError

    def _latest_revenue_month(self) -> str | None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _abort(self) -> None:
        raise NotImplementedError


class DuckDBLoad(Load):
    def __init__(self, url: str, source: str) -> None:
        import duckdb

        super().__init__(source)
        self.target = duckdb_path(url)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.temporary = self.target.with_name(f"{self.target.name}.loading-{uuid.uuid4().hex}")
        self.connection = duckdb.connect(str(self.temporary))
        self.connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        self.connection.execute("SET enable_progress_bar = false")
        for table in WAREHOUSE_TABLES:
            self.connection.execute(create_table_ddl(table, "duckdb"))

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
        self.connection.execute("CHECKPOINT")
        self.connection.close()
        # A write-ahead log left by the old file would be replayed onto the new one.
        Path(f"{self.target}.wal").unlink(missing_ok=True)
        os.replace(self.temporary, self.target)

    def _refresh_marts(self) -> None:
        from sqlalchemy import create_engine as engine_for_dialect

        from data_seed.refresh import Runner, refresh_marts

        refresh_marts(Runner(self.connection, engine_for_dialect("duckdb:///:memory:").dialect), full=True)

    def _abort(self) -> None:
        try:
            self.connection.close()
        finally:
            for path in (self.temporary, Path(f"{self.temporary}.wal")):
                path.unlink(missing_ok=True)


class PostgresLoad(Load):
    def __init__(self, url: str, source: str) -> None:
        super().__init__(source)
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
        columns = ", ".join(quoted(name) for name in frame.columns)
        statement = f"COPY {self._name(table_name)} ({columns}) FROM STDIN WITH (FORMAT csv)"
        with self.connection.cursor() as cursor:
            for offset in range(0, frame.height, COPY_ROWS):
                buffer = io.BytesIO()
                frame.slice(offset, COPY_ROWS).write_csv(
                    buffer, include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.6f", null_value=""
                )
                buffer.seek(0)
                cursor.copy_expert(statement, buffer)

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

    def _refresh_marts(self) -> None:
        """Build the marts from the staged raw tables, inside the load's transaction."""
        from data_seed.refresh import Runner, refresh_marts

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
def atomic_load(url: str, source: str) -> Iterator[Load]:
    """Replace the whole warehouse at ``url`` with what the block writes, or leave it untouched."""
    url = normalise_url(url)
    load = DuckDBLoad(url, source) if is_duckdb(url) else PostgresLoad(url, source)
    try:
        yield load
        load._commit()
    except BaseException:
        try:
            load._abort()
        except Exception:  # noqa: S110 - cleaning up must not hide the error that made us clean up
            pass
        raise
