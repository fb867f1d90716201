"""Writing one month's rows into the warehouse's tables (data_seed/monthly.py runs it): rows
dated after the month refused, the files staged in temporary tables, the month's rows replaced
and other rows updated by key, the rules between tables checked on the result, and the first
month whose marts must be rebuilt worked out."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Column, MetaData, Table, and_, delete, exists, func, insert, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.sql.util import find_tables

from data_seed.customer_keys import ID, KEY
from data_seed.ddl import now_in_vietnam, quoted
from data_seed.import_files import IMPORTED_TABLES
from data_seed.importer import Validated
from data_seed.load import (
    copy_into_postgres,
)
from data_seed.load_log import LoadRecord, pending_attempts
from data_seed.mart_runner import Runner
from data_seed.monthly_rules import MONTH_COLUMN
from data_seed.refresh import write_meta
from queries.contracts import CHECKS, Check, Relationship
from queries.engine import is_duckdb
from queries.filters import add_months
from queries.tables import customers, load_log, warehouse_meta

INCOMING = "incoming_"
# Customer columns that place a customer in the marts' breakdowns: a change to one of them
# rewrites the customer's history there, from activation on.
PROFILE = tuple(
    column.name
    for column in customers.columns
    if column.name not in (ID, KEY, "status", "churned_on", "full_name", "phone")
)


def month_text(month: date) -> str:
    return f"{month:%Y-%m}"


class MonthRefused(Exception):
    """The load is refused for a reason the user can act on; nothing was written."""


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
    columns = (Column(column.name, column.type, nullable=column.nullable) for column in table.columns)
    return Table(INCOMING + table.name, MetaData(), *columns)


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


def write_data_through(runner: Runner, month: date, through: date | None, record: LoadRecord) -> None:
    """warehouse_meta (data through, last load), in the load's transaction, before the marts
    are rebuilt (the refresh reads how far the data goes)."""
    data_through = max(value for value in (through, month) if value is not None)
    write_meta(
        runner,
        {"data_through": data_through.isoformat(), "loaded_at": now_in_vietnam(), "source": record.source},
        warehouse_meta,
    )


def write_log_row(runner: Runner, record: LoadRecord, url: str, message: str | None) -> None:
    """The load's row in load_log (with the DuckDB attempts waiting beside the file), last in
    the load's transaction, so its end time covers the marts too."""
    rows = (
        pl.concat([pending_attempts(url), record.frame("loaded", message)])
        if is_duckdb(url)
        else record.frame("loaded", message)
    )
    runner.execute(insert(load_log).values(rows.to_dicts()))
