"""The SQL the loader and the mart refresh both write: quoted names, CREATE TABLE, the
PostgreSQL indexes, DuckDB's memory limit, and the timestamp they stamp their metadata with.

Kept apart from both so the loader can run the refresh (a load builds the marts before
it swaps) without the refresh importing the loader back.
"""

from datetime import datetime

from sqlalchemy import Column, Float, Table
from sqlalchemy.dialects import postgresql

from data_seed.generate_calendar import VIETNAM
from queries.marts import MART_TABLES

DUCKDB_MEMORY_LIMIT = "2GB"

# Indexes for the dashboard's commonest filters and joins (PostgreSQL; DuckDB scans fast enough).
POSTGRES_INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("customers", ("province_code",)),
    ("customers", ("customer_key",)),  # every import looks customers up by the operator's key
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


def now_in_vietnam(timespec: str = "seconds") -> str:
    return datetime.now(VIETNAM).replace(tzinfo=None).isoformat(timespec=timespec)
