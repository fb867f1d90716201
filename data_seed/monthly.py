"""One month's extract into the warehouse: ``python -m data_seed import DIR --month 2026-11``.

1. The files are read and checked like any import (data_seed/importer.py), customers named
   by the operator's key; keys the warehouse knows keep their ids.
2. The month must follow the data: the month after the last one loaded, or that month again
   (a reload); an earlier month only with ``--reload`` (history corrected), and a gap never
   (load the missing month first).
3. In one transaction on a working copy (DuckDB: a copy of the file, swapped in at the end;
   PostgreSQL: the live tables, in one transaction): the month's rows of every table given a
   file are replaced (data_seed/monthly_rules.py), rows of earlier months and customers are
   updated by key; cross-table rules are checked on the result (a churn event for a customer
   the warehouse does not have as churned, a complaint for staff nobody loaded, …); the marts
   are rebuilt from the first month the load changed; the load log gets its row.
4. Only then does the new state become visible. Any failure, a kill -9 included, leaves the
   warehouse as it was (the copy is discarded, or the transaction never commits) and the
   next load works (data_seed/load.py removes a dead load's files).

A table without a file keeps what it has: a missing file never empties a table; the
report says which tables were not in the extract.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import MetaData, Table, and_, create_engine, delete, exists, func, insert, inspect, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.sql.util import find_tables

from data_seed.customer_keys import ID, KEY
from data_seed.ddl import DUCKDB_MEMORY_LIMIT, now_in_vietnam, quoted
from data_seed.import_files import IMPORTED_TABLES
from data_seed.importer import Validated, reference_frames, validate_directory
from data_seed.load import (
    atomic_load,
    copy_into_postgres,
    loading_files,
    release_lock,
    remove_stale_loads,
    serial_lock_path,
    take_lock,
)
from data_seed.load_log import LoadRecord, file_entries, forget_attempts, pending_attempts, record_attempt
from data_seed.mart_runner import Runner
from data_seed.monthly_rules import MONTH_COLUMN
from data_seed.refresh import refresh_connection, write_meta
from queries.contracts import CHECKS, Check, Relationship
from queries.engine import duckdb_path, is_duckdb, normalise_url
from queries.filters import add_months
from queries.import_report import render_report
from queries.tables import customers, load_log, warehouse_meta

INCOMING = "incoming_"
DUCKDB_DIALECT = create_engine("duckdb:///:memory:").dialect
POSTGRES_LOAD_LOCK = 740_221_115  # pg_advisory_xact_lock key shared by every monthly load
# Customer columns that place a customer in the marts' breakdowns: a change to one of them
# rewrites the customer's history there, from activation on.
PROFILE = tuple(
    column.name
    for column in customers.columns
    if column.name not in (ID, KEY, "status", "churned_on", "full_name", "phone")
)


class MonthRefused(Exception):
    """The load is refused for a reason the user can act on; nothing was written."""


@dataclass(frozen=True)
class MonthState:
    """What the warehouse holds before the load."""

    through: date | None  # last month of data
    keys: pl.DataFrame  # (customer_key, customer_id)
    previous_rows: dict[str, int]  # rows per table of the last month loaded (its load log row)


# --- the order of months -------------------------------------------------------------------


def month_text(month: date) -> str:
    return f"{month:%Y-%m}"


def refusal_for_order(month: date, through: date | None, reload: bool) -> str | None:
    """Why ``month`` cannot be loaded now (None: it can)."""
    if through is None or month in (through, add_months(through, 1)):
        return None
    if month > through:
        missing = add_months(through, 1)
        gap = (
            month_text(missing)
            if missing == add_months(month, -1)
            else f"{month_text(missing)} … {month_text(add_months(month, -1))}"
        )
        return (
            f"{month_text(month)} would leave a gap: the warehouse holds data through {month_text(through)}. "
            f"Load {gap} first."
        )
    if not reload:
        return (
            f"{month_text(month)} is earlier than the data in the warehouse (through {month_text(through)}). "
            "To correct a month of history, run the same command with --reload: its rows are replaced, "
            "later months keep theirs, and the marts are rebuilt from that month on."
        )
    return None


# --- rows outside the month -------------------------------------------------------------------


def month_of(column: str) -> pl.Expr:
    return pl.col(column).dt.truncate("1mo").cast(pl.Date)


def report_later_rows(validated: Validated, month: date) -> None:
    """A row dated after the month being loaded belongs to a later load."""
    for table in IMPORTED_TABLES:
        name = MONTH_COLUMN.get(table.name) or ("activated_on" if table is customers else None)
        if name is None or table.name not in validated.given:
            continue
        later = validated.frames[table.name].filter(month_of(name) > month)
        message = f"dated after {month_text(month)}, the month being loaded: it belongs to a later month's extract"
        validated.problems.add_rows(
            validated.paths[table.name].name,
            later,
            name,
            lambda _row, message=message: message,
            rule=f"{name}: {message}",
        )


def earliest_fact_month(validated: Validated) -> date | None:
    """The first month whose facts the files change (an update of an old row counts)."""
    months = [
        validated.frames[name].select(month_of(column).min()).item()
        for name, column in MONTH_COLUMN.items()
        if name in validated.given and validated.frames[name].height
    ]
    months = [value for value in months if value is not None]
    return min(months) if months else None


# --- applying the month -------------------------------------------------------------------------


def incoming_table(table: Table) -> Table:
    return Table(INCOMING + table.name, MetaData(), *(column.copy() for column in table.columns))


def stage(runner: Runner, table: Table, frame: pl.DataFrame) -> Table:
    """The file's rows in a temporary table beside ``table``."""
    staged = incoming_table(table)
    frame = frame.select(column.name for column in table.columns)
    runner.create_temporary(staged)
    if runner.dialect.name == "duckdb":
        runner.connection.register("incoming_rows", frame.to_arrow())
        try:
            runner.execute_sql(f"INSERT INTO {quoted(staged.name)} SELECT * FROM incoming_rows")
        finally:
            runner.connection.unregister("incoming_rows")
    else:
        copy_into_postgres(runner.connection, quoted(staged.name), frame)
        runner.analyse(staged)
    return staged


def customers_since(runner: Runner, staged: Table) -> date | None:
    """The first month whose marts the incoming customers change: a new customer from its
    activation, a churn date set, moved or cleared from the earlier of the two dates, a
    profile change (segment, province, plan, …) from activation."""
    new, old = staged.c, customers.c
    joined = staged.join(customers, new.customer_id == old.customer_id)
    profile_changed = or_(*(new[name].is_distinct_from(old[name]) for name in PROFILE))
    churn_moved = new.churned_on.is_distinct_from(old.churned_on)
    statements = (
        select(func.min(old.activated_on)).select_from(joined).where(profile_changed),
        select(func.min(new.activated_on)).select_from(joined).where(profile_changed),
        select(func.min(new.churned_on)).select_from(joined).where(churn_moved),
        select(func.min(old.churned_on)).select_from(joined).where(churn_moved),
        select(func.min(new.activated_on)).where(~exists(select(literal(1)).where(old.customer_id == new.customer_id))),
    )
    found = [value for value in (runner.scalar(statement) for statement in statements) if value is not None]
    return min(found).replace(day=1) if found else None


# What a later month recorded and an earlier month's file cannot know: when history is
# reloaded, these columns keep the warehouse's value if it is dated after the month.
LATER_NEWS = {
    "customers": ("churned_on", ("status", "churned_on")),
    "churn_events": ("won_back_on", ("won_back_on",)),
}


def keep_later_news(runner: Runner, table: Table, staged: Table, month: date) -> None:
    """Reloading an earlier month must not undo a churn or a win-back a later month loaded."""
    if table.name not in LATER_NEWS:
        return
    dated, columns = LATER_NEWS[table.name]
    assignments = ", ".join(f"{quoted(name)} = kept.{quoted(name)}" for name in columns)
    after = add_months(month, 1).isoformat()
    runner.execute_sql(
        f"UPDATE {quoted(staged.name)} SET {assignments} FROM {quoted(table.name)} AS kept "
        f"WHERE kept.customer_id = {quoted(staged.name)}.customer_id AND kept.{quoted(dated)} >= DATE '{after}'"
    )


def upsert(runner: Runner, table: Table, staged: Table, month: date) -> None:
    """Rows of ``staged`` replace the rows of ``table`` with the same key, or are added.

    PostgreSQL: INSERT … ON CONFLICT, because other tables' foreign keys forbid deleting a
    customer (or staff member, campaign) even for a moment. DuckDB carries no keys (see
    data_seed/load.py): delete by key, then insert; a month table's rows of ``month`` were
    deleted already (delete_month), so only its updates of earlier months are looked up."""
    key = [column.name for column in table.primary_key.columns]
    names = [column.name for column in table.columns]
    rows = select(*(staged.c[name] for name in names))
    if runner.dialect.name == "duckdb":
        same_key = and_(*(staged.c[name] == table.c[name] for name in key))
        if table.name in MONTH_COLUMN:
            same_key = and_(same_key, staged.c[MONTH_COLUMN[table.name]] < month)
        runner.execute(delete(table).where(exists(select(literal(1)).select_from(staged).where(same_key))))
        runner.execute(insert(table).from_select(names, rows))
        return
    statement = postgres_insert(table).from_select(names, rows)
    changes = {name: statement.excluded[name] for name in names if name not in key}
    runner.execute(statement.on_conflict_do_update(index_elements=key, set_=changes))


def delete_month(runner: Runner, table: Table, month: date) -> None:
    column = table.c[MONTH_COLUMN[table.name]]
    runner.execute(delete(table).where(column >= month, column < add_months(month, 1)))


def cross_table_checks(given: set[str]) -> list[Check]:
    """Rules between tables that a month's files alone cannot settle, for the tables loaded."""
    found = []
    for check in CHECKS:
        tables = {found.name for found in find_tables(check.violations()) if isinstance(found, Table)}
        if isinstance(check, Relationship) and check.target_table.name in ("customers", "provinces"):
            # Every customer id came from a key the warehouse or the month's customers hold, and
            # customers are never deleted; province codes were checked on the files.
            continue
        if len(tables) > 1 and tables & given:
            found.append(check)
    return found


def apply_month(runner: Runner, validated: Validated, month: date, reloading: bool = False) -> date | None:
    """Write the month on ``runner``'s connection (in its transaction); the first month rebuilt."""
    since = earliest_fact_month(validated)
    for table in IMPORTED_TABLES:
        if table.name not in validated.given:
            continue
        staged = stage(runner, table, validated.frames[table.name])
        if reloading:
            keep_later_news(runner, table, staged, month)
        if table is customers:
            changed = customers_since(runner, staged)
            since = min(filter(None, (since, changed)), default=None)
        if table.name in MONTH_COLUMN:
            delete_month(runner, table, month)
            since = min(filter(None, (since, month)), default=None)
        upsert(runner, table, staged, month)
        runner.execute_sql(f"DROP TABLE {quoted(staged.name)}")
    broken = []
    for check in cross_table_checks(validated.given):
        count = runner.scalar(check.violations())
        if count:
            broken.append(f"{check.name}: {count:,} row(s)")
    if broken:
        raise MonthRefused(
            f"Once {month_text(month)} is added to what the warehouse holds, these rules are broken:\n  "
            + "\n  ".join(broken)
        )
    return since


def write_bookkeeping(
    runner: Runner, month: date, through: date | None, record: LoadRecord, url: str, message: str | None
) -> None:
    """warehouse_meta (data through, last load) and the load log row, in the load's transaction."""
    data_through = max(value for value in (through, month) if value is not None)
    write_meta(
        runner,
        {"data_through": data_through.isoformat(), "loaded_at": now_in_vietnam(), "source": record.source},
        warehouse_meta,
    )
    rows = (
        pl.concat([pending_attempts(url), record.frame("loaded", message)])
        if is_duckdb(url)
        else record.frame("loaded", message)
    )
    runner.execute(insert(load_log).values(rows.to_dicts()))


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


def read_state(runner: Runner) -> MonthState:
    through = runner.scalar(select(warehouse_meta.c.value).where(warehouse_meta.c.key == "data_through"))
    keys = key_map(runner)
    last_files = runner.scalar(
        select(load_log.c.files)
        .where(load_log.c.kind == "month", load_log.c.outcome == "loaded")
        .order_by(load_log.c.load_month.desc(), load_log.c.finished_at.desc())
        .limit(1)
    )
    previous = {entry["table"]: entry["rows"] for entry in json.loads(last_files)} if last_files else {}
    return MonthState(date.fromisoformat(through).replace(day=1) if through else None, keys, previous)


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


# --- the command -------------------------------------------------------------------------------


class Stopwatch:
    """Prints how long each step of a load took (a 10 M month takes minutes: say where)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.started = self.last = time.perf_counter()

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.log(f"  [{now - self.started:6.1f} s] {step}: {now - self.last:.1f} s")
        self.last = now


def warehouse_exists(url: str) -> bool:
    if is_duckdb(url):
        return duckdb_path(url).exists()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return inspect(connection).has_table(customers.name)
    finally:
        engine.dispose()


def load_month(
    directory: Path,
    url: str,
    month: date,
    *,
    reload: bool = False,
    mapping: Path | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Load one month's extract from ``directory`` into the warehouse at ``url``. Exit code."""
    url = normalise_url(url)
    month = month.replace(day=1)
    record = LoadRecord("month", str(directory), month=month)
    if not warehouse_exists(url):
        # The first month creates the (empty) tables: keys, indexes and marts included.
        source = "an empty warehouse for the first monthly load"
        with atomic_load(url, source, LoadRecord("history", source)) as load:
            provinces, legacy = reference_frames()
            load.write("provinces", provinces)
            load.write("legacy_provinces", legacy)
    lap = Stopwatch(log)
    session = DuckDBMonth(url) if is_duckdb(url) else PostgresMonth(url)
    try:
        state = session.state()
        lap("read the warehouse's customer keys")
        refusal = refusal_for_order(month, state.through, reload)
        if refusal:
            raise MonthRefused(refusal)
        previous = state.previous_rows if state.through is not None and month > state.through else {}
        validated = validate_directory(Path(directory), None, previous, known=state.keys, monthly=True, mapping=mapping)
        if not validated.problems:
            report_later_rows(validated, month)
        if validated.problems:
            report = render_report(validated.problems, validated.warnings)
            raise MonthRefused(f"{validated.problems.total:,} problem(s) in {directory}:\n{report}")
        lap("read and checked the files")
        record.files = file_entries(validated.paths, {name: validated.frames[name].height for name in validated.given})
        missing = [table.name for table in IMPORTED_TABLES if table.name not in validated.given]
        notes = [*validated.notes]
        if validated.warnings:
            notes.append(validated.warnings.render())
        if missing:
            notes.append(f"no file for {', '.join(missing)}: what the warehouse holds for them is kept")
        runner = session.runner()
        lap("working copy" if is_duckdb(url) else "transaction opened")
        since = apply_month(runner, validated, month, reloading=state.through is not None and month < state.through)
        write_bookkeeping(runner, month, state.through, record, url, "\n".join(notes) or None)
        lap("month written and checked against the warehouse")
        refresh_connection(runner.connection, runner.dialect, since=since or month, log=log)
        lap("marts rebuilt")
        session.commit()
        lap("committed" if not is_duckdb(url) else "checkpointed and swapped in")
    except MonthRefused as refusal:
        session.close()
        record_attempt(url, record, "refused", str(refusal))
        print(f"Load of {month_text(month)} refused; nothing was written.\n{refusal}", file=sys.stderr)
        return 1
    except Exception as error:
        session.close()
        first = (str(error).splitlines() or [type(error).__name__])[0]
        record_attempt(url, record, "failed", first)
        print(f"Load of {month_text(month)} failed; nothing was written: {first}", file=sys.stderr)
        return 1
    session.close()
    if is_duckdb(url):
        forget_attempts(url)
    for note in notes:
        print(note)
    for name in sorted(validated.given):
        print(f"{name}: {validated.frames[name].height:,} rows")
    print(f"Loaded {month_text(month)} from {directory}; marts rebuilt from {month_text(since or month)}.")
    return 0
