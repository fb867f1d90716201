"""Build the marts (queries/marts/) from the raw tables: after every load and import,
and on demand with `python -m data_seed refresh [--url URL] [--full | --since YYYY-MM]`.

Where it runs:
- inside every load (data_seed.load.atomic_load calls `refresh_marts` before the swap),
  so a fresh warehouse always has marts and a failed refresh leaves the old warehouse
  in place, like any failed load;
- from the command line, on a warehouse whose raw tables were changed outside the loader
  (an appended month, say). DuckDB: on a copy of the file, swapped in atomically at the
  end, so open dashboards keep reading the old file until then. PostgreSQL: in one
  transaction. Either way the data_version changes, so the dashboard's cached results
  are dropped.

Incremental by month: the marts remember the last month they cover and the data version
they were built from (table mart_refresh: marts_through, marts_data_version). When new months
arrive, only the months from (first new month − LOOKBACK_MONTHS) are rebuilt: stocks of
earlier months cannot change (they are as of dates already past), while win-backs and
90-day campaign outcomes of the latest months can still be filled in. The cumulative
customer stock continues from the last kept month. The row marts (one row per complaint,
survey, churn event, campaign target, port-out request), the cohort mart and the customer
list are rebuilt whole: they are one pass over their source, and an old row can change (a
complaint opened long ago may be resolved today, a customer activated years ago may leave;
the list's 12-month revenue window moves with the last month). When the months
did not grow but the data changed, everything is rebuilt (`--full` forces that). A mart
that a newer version of the dashboard added is built alone when the others are current.

What each mart is built from is data_seed/mart_builds.py; this module decides how much to
rebuild, runs the builders, records the marts' coverage, and does the DuckDB copy-and-swap
and the PostgreSQL indexes for marts created outside a load.

Every statement is a SQLAlchemy Core construct compiled for the warehouse's dialect and
executed on a DB-API connection with bound parameters (the loader hands over its own
connection, mid-transaction on PostgreSQL).
"""

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, Table, column, create_engine, delete, func, insert, select, table
from sqlalchemy.engine import Dialect

from data_seed.ddl import MART_POSTGRES_INDEXES, create_table_ddl, now_in_vietnam, quoted
from data_seed.mart_builds import (
    ROW_MARTS,
    build_big_customers,
    build_cohorts,
    build_customer_list,
    build_customer_marts,
    build_debt_marts,
    build_debtor_marts,
    build_open_complaints,
    build_port_outs,
    build_row_mart,
)
from data_seed.mart_runner import Runner
from data_seed.working_copy import working_copy
from queries.engine import duckdb_path, is_duckdb, normalise_url
from queries.filters import add_months
from queries.marts import (
    MART_TABLES,
    ROLLUPS,
    STORED_TABLES,
    mart_big_customers,
    mart_bills_month,
    mart_block_events,
    mart_block_month,
    mart_customer_cohorts,
    mart_customer_list,
    mart_customer_month,
    mart_debt_month,
    mart_debtors,
    mart_open_complaints,
    mart_port_outs,
    mart_refresh,
)
from queries.tables import bills, complaints, customers, revenue_monthly, surveys, warehouse_meta

# Months rebuilt before the first new month: win-backs (90 days) and campaign outcomes
# (churned within 90 days) of a month are known only ~3 months later.
LOOKBACK_MONTHS = 4
POSTGRES_WORK_MEM = "512MB"
META_THROUGH = "marts_through"
META_VERSION = "marts_data_version"
META_REFRESHED = "marts_refreshed_at"

c = customers.c
b = bills.c


@dataclass(frozen=True)
class Plan:
    """What a refresh rebuilds: from which month (None = everything) up to `through`."""

    since: date | None
    through: date | None
    reason: str
    current: bool = False  # nothing to do


# --- metadata ---------------------------------------------------------------------------


def read_meta(runner: Runner) -> dict[str, str]:
    """warehouse_meta and the marts' own bookkeeping (mart_refresh), as one dict."""
    meta = {key: value for key, value in runner.rows(select(warehouse_meta.c.key, warehouse_meta.c.value))}
    return meta | {key: value for key, value in runner.rows(select(mart_refresh.c.key, mart_refresh.c.value))}


def data_through(runner: Runner, meta: dict[str, str]) -> date | None:
    """The last month of data: warehouse_meta's data_through, else the latest month any
    fact shows (a warehouse written by hand may have no metadata)."""
    if meta.get("data_through"):
        return date.fromisoformat(meta["data_through"]).replace(day=1)
    latest = runner.rows(
        select(
            select(func.max(revenue_monthly.c.revenue_month)).scalar_subquery(),
            select(func.max(c.activated_on)).scalar_subquery(),
            select(func.max(c.churned_on)).scalar_subquery(),
            select(func.max(b.bill_month)).scalar_subquery(),
            select(func.max(complaints.c.opened_at)).scalar_subquery(),
            select(func.max(surveys.c.surveyed_on)).scalar_subquery(),
        )
    )[0]
    months = [value.date() if hasattr(value, "date") else value for value in latest if value is not None]
    return max(months).replace(day=1) if months else None


def plan(meta: dict[str, str], through: date | None, *, full: bool = False, since: date | None = None) -> Plan:
    """Decide how much to rebuild (see the module docstring)."""
    if full:
        return Plan(None, through, "full refresh asked for")
    if since is not None:
        return Plan(since.replace(day=1), through, f"asked from {since:%Y-%m}")
    built_through = meta.get(META_THROUGH)
    if meta.get(META_VERSION) == meta.get("data_version") and built_through == _iso(through):
        return Plan(None, through, "marts are current", current=True)
    if built_through and through and date.fromisoformat(built_through) < through:
        start = add_months(date.fromisoformat(built_through), 1 - LOOKBACK_MONTHS)
        return Plan(start, through, f"new months after {built_through[:7]}")
    return Plan(None, through, "data changed")


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def write_meta(runner: Runner, values: dict[str, str], table=mart_refresh) -> None:
    runner.execute(delete(table).where(table.c.key.in_(sorted(values))))
    runner.execute(insert(table).values([{"key": key, "value": value} for key, value in values.items()]))


# --- the whole refresh ------------------------------------------------------------------


def refresh_marts(
    runner: Runner,
    *,
    full: bool = False,
    since: date | None = None,
    new_marts: frozenset[str] = frozenset(),
    log: Callable[[str], None] = lambda message: None,
) -> Plan:
    """Rebuild what the plan says, then record the marts' coverage in mart_refresh.
    `new_marts`: marts just created (empty); when the others are current, only the steps
    building these run (a new version adding a mart does not rebuild every mart)."""
    if runner.dialect.name == "postgresql":
        # A batch job: PostgreSQL's default 4 MB per sort or hash would spill the big
        # aggregations to disk. For this transaction only.
        runner.execute_sql(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'")
    meta = read_meta(runner)
    through = data_through(runner, meta)
    decided = plan(meta, through, full=full, since=since)
    wanted = None  # every step
    if decided.current and new_marts:
        decided = Plan(None, through, f"new or changed marts: {', '.join(sorted(new_marts))}")
        wanted = new_marts
    elif new_marts and decided.since is not None:  # the new marts need every month
        decided = Plan(None, through, f"{decided.reason}, and new marts: full refresh")
    log(f"marts: {decided.reason}")
    if decided.current:
        return decided
    row_marts = tuple(
        (label, (mart,), lambda mart=mart, source=source, day=day: build_row_mart(runner, mart, source, day))
        for label, mart, source, day in ROW_MARTS
    )
    steps = (  # (label, the marts it builds, the step)
        (
            "customer months",
            (mart_customer_month,),
            lambda: build_customer_marts(runner, decided.since, through),
        ),
        ("port-outs", (mart_port_outs,), lambda: build_port_outs(runner, decided.since, through)),
        ("open complaints", (mart_open_complaints,), lambda: build_open_complaints(runner, decided.since, through)),
        *row_marts,
        ("debt", (mart_debt_month, mart_bills_month), lambda: build_debt_marts(runner, decided.since, through)),
        ("big customers", (mart_big_customers,), lambda: build_big_customers(runner, decided.since, through)),
        ("cohorts", (mart_customer_cohorts,), lambda: build_cohorts(runner)),
        ("customer list", (mart_customer_list,), lambda: build_customer_list(runner, through)),
        (
            "debtors",
            (mart_debtors, mart_block_events, mart_block_month),
            lambda: build_debtor_marts(runner, decided.since, through),
        ),
    )
    if wanted is not None:
        steps = tuple(step for step in steps if _builds(step[1]) & wanted)
    if through is None:  # no data at all: empty marts
        for mart in MART_TABLES:
            runner.execute(delete(mart))
        steps = ()
    for label, _, step in steps:
        started = time.perf_counter()
        step()
        log(f"  {label}: {time.perf_counter() - started:.1f} s")
    write_meta(
        runner,
        {
            META_THROUGH: _iso(through) or "",
            META_VERSION: meta.get("data_version", ""),
            META_REFRESHED: _now(),
        },
    )
    return decided


def _builds(marts: Sequence[Table]) -> set[str]:
    """The tables a step writes: its marts and their rollups."""
    return {mart.name for mart in marts} | {ROLLUPS[mart.name].name for mart in marts if mart.name in ROLLUPS}


def _now() -> str:
    return now_in_vietnam()


def marts_current(url: str) -> bool:
    """True when the warehouse's marts were built from its current data."""
    url = normalise_url(url)
    engine = create_engine(url, connect_args={"read_only": True} if is_duckdb(url) else {})
    try:
        with engine.connect() as connection:
            meta = {key: value for key, value in connection.execute(select(warehouse_meta))}
            meta |= {key: value for key, value in connection.execute(select(mart_refresh))}
            missing, changed = out_of_date(connection.execute(stored_columns_select()).all())
    except Exception:  # no mart_refresh table: built before the marts existed
        return False
    finally:
        engine.dispose()
    if missing or changed:
        return False  # a mart added or changed since the last refresh
    through = meta.get("data_through")
    return (
        bool(meta.get(META_VERSION))
        and meta.get(META_VERSION) == meta.get("data_version")
        and (through is None or meta.get(META_THROUGH, "")[:7] == through[:7])
    )


# --- which marts a warehouse lacks, and the swap ----------------------------------------


_COLUMNS = table(
    "columns",
    column("table_name"),
    column("column_name"),
    column("ordinal_position"),
    column("table_schema"),
    schema="information_schema",
)


def stored_columns_select():
    """(table_name, column_name) of the warehouse's tables, in column order."""
    k = _COLUMNS.c
    return (
        select(k.table_name, k.column_name)
        .where(k.table_schema == func.current_schema())
        .order_by(k.table_name, k.ordinal_position)
    )


def out_of_date(rows: Iterable[tuple[str, str]]) -> tuple[list[Table], list[Table]]:
    """(missing, changed): the stored tables of queries.marts absent from the warehouse, and
    those present with other columns than this version defines (a mart changed by an
    upgrade: it is dropped and built again)."""
    stored: dict[str, list[str]] = {}
    for table_name, column_name in rows:
        stored.setdefault(table_name, []).append(column_name)
    missing = [mart for mart in STORED_TABLES if mart.name not in stored]
    changed = [
        mart
        for mart in STORED_TABLES
        if mart.name in stored and stored[mart.name] != [column.name for column in mart.columns]
    ]
    return missing, changed


def add_postgres_indexes(runner: Runner, tables: Sequence[Table]) -> None:
    """The indexes a load gives the marts (data_seed.ddl), for marts created outside a load."""
    names = {table.name for table in tables}
    for table_name, columns in MART_POSTGRES_INDEXES:
        if table_name in names:
            index = quoted(f"ix_{table_name}_{'_'.join(columns)}")
            runner.execute_sql(f"CREATE INDEX {index} ON {quoted(table_name)} ({', '.join(map(quoted, columns))})")


def refresh_connection(
    dbapi_connection,
    dialect: Dialect,
    *,
    full: bool = False,
    since: date | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> Plan:
    """Create missing marts, refresh them, give the data a new version. The caller commits."""
    runner = Runner(dbapi_connection, dialect)
    dialect_name = "duckdb" if dialect.name == "duckdb" else "postgresql"
    missing, changed = out_of_date(runner.rows(stored_columns_select()))
    for mart in changed:
        runner.execute_sql(f"DROP TABLE {quoted(mart.name)}")
    missing += changed
    for mart in missing:
        runner.execute_sql(create_table_ddl(mart, dialect_name))
    if missing and dialect_name == "postgresql":
        add_postgres_indexes(runner, missing)
    new_marts = frozenset(mart.name for mart in missing if mart in MART_TABLES)
    if len(new_marts) == len(MART_TABLES):  # none yet (mart_refresh may have survived): all of them
        full = True
    decided = refresh_marts(runner, full=full, since=since, new_marts=new_marts, log=log)
    if decided.current:
        return decided
    if dialect_name == "postgresql":
        for mart in MART_TABLES:
            runner.execute_sql(f"ANALYZE {mart.name}")
    # The marts changed what the dashboard reads: a new data version drops its cached results.
    version = uuid.uuid4().hex
    write_meta(runner, {"data_version": version}, warehouse_meta)
    write_meta(runner, {META_VERSION: version})
    return decided


def refresh_url(url: str, *, full: bool = False, since: date | None = None, log: Callable[[str], None] = print) -> Plan:
    """The `refresh` command for the warehouse at `url`, all or nothing."""
    url = normalise_url(url)
    if is_duckdb(url):
        return _refresh_duckdb_file(duckdb_path(url), full=full, since=since, log=log)
    engine = create_engine(url)
    connection = engine.raw_connection()
    try:
        decided = refresh_connection(connection, engine.dialect, full=full, since=since, log=log)
        connection.commit()
        return decided
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()
        engine.dispose()


def refresh_in_place(engine: Engine, *, full: bool = True) -> Plan:
    """Refresh the marts through an engine's own connection (a warehouse written by hand,
    e.g. in tests). Unlike `refresh_url` on DuckDB, the file is changed in place."""
    connection = engine.raw_connection()
    try:
        decided = refresh_connection(connection, engine.dialect, full=full)
        connection.commit()
        return decided
    finally:
        connection.close()


def _refresh_duckdb_file(path: Path, *, full: bool, since: date | None, log) -> Plan:
    """On a copy of the file, swapped in at the end: open dashboards keep the old file until
    then, and a failure leaves it untouched."""
    if not full and since is None and marts_current(f"duckdb:///{path}"):
        log("marts: marts are current")
        return Plan(None, None, "marts are current", current=True)
    with working_copy(path, "refresh") as connection:
        return refresh_connection(
            connection, create_engine("duckdb:///:memory:").dialect, full=full, since=since, log=log
        )
