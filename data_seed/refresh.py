"""Build the marts (queries/marts.py) from the raw tables: after every load and import,
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

The month-by-month marts (big customers, debtors) run one statement per month: each month
ranks or sums a year of rows of its own, which no single grouped statement shares.

How the customer stock is built without expanding customers × months: per combination
of dimensions, active at the end of month M = activations up to M − churns up to M (a
running sum over months), starting from the month of the combination's first activity
(or from the kept month before an incremental refresh). That equals the measures' rule
"activated before the next month and not churned by it" for every customer whose churn
date is not before its activation (a data contract).

Every statement is a SQLAlchemy Core construct compiled for the warehouse's dialect and
executed on a DB-API connection with bound parameters (the loader hands over its own
connection, mid-transaction on PostgreSQL).
"""

import argparse
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Date,
    Engine,
    MetaData,
    Select,
    Table,
    and_,
    case,
    column,
    create_engine,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.engine import Dialect

from data_seed.ddl import DUCKDB_MEMORY_LIMIT, MART_POSTGRES_INDEXES, create_table_ddl, now_in_vietnam, quoted
from queries.customers import listed_customers, ranked_customers
from queries.debt import debtor_rows, stage_event_rows
from queries.engine import duckdb_path, is_duckdb, normalise_url, resolve_url
from queries.filters import add_months
from queries.marts import (
    MART_TABLES,
    ROLLUPS,
    STORED_TABLES,
    mart_big_customers,
    mart_bills_month,
    mart_block_events,
    mart_block_month,
    mart_campaign_targets,
    mart_churn_events,
    mart_complaints,
    mart_customer_cohorts,
    mart_customer_list,
    mart_customer_month,
    mart_debt_month,
    mart_debtors,
    mart_open_complaints,
    mart_port_out_requests,
    mart_port_outs,
    mart_refresh,
    mart_surveys,
)
from queries.measures_base import month_spine, spine_bounds
from queries.measures_debt import frequent_debtor_rows, paid_as_of_vnd, paid_on_time_vnd, unpaid_at
from queries.rules import DEBT_AGE_BUCKETS, WINBACK_WINDOW_DAYS
from queries.sql_functions import days_between, month_start
from queries.tables import (
    bills,
    campaign_targets,
    churn_events,
    complaints,
    customers,
    port_out_requests,
    revenue_monthly,
    surveys,
    warehouse_meta,
)

# Months rebuilt before the first new month: win-backs (90 days) and campaign outcomes
# (churned within 90 days) of a month are known only ~3 months later.
LOOKBACK_MONTHS = 4
DIMENSIONS = ("province_code", "segment", "plan", "area_type", "birth_year")
ROLLUP_DIMENSIONS = DIMENSIONS[:-1]
POSTGRES_WORK_MEM = "512MB"
META_THROUGH = "marts_through"
META_VERSION = "marts_data_version"
META_REFRESHED = "marts_refreshed_at"

c = customers.c
b = bills.c


class Runner:
    """Executes Core statements on a DB-API connection, parameters bound, for one dialect.

    A native DuckDB connection (the loader's) is used directly: its cursor() would open a
    second connection, which sees neither this one's temporary tables nor its settings."""

    def __init__(self, dbapi_connection, dialect: Dialect) -> None:
        self.connection = dbapi_connection
        self.dialect = dialect

    def _compiled(self, statement):
        compiled = statement.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})
        if self.dialect.positional:
            return str(compiled), [compiled.params[name] for name in compiled.positiontup]
        return str(compiled), compiled.params

    @contextmanager
    def _cursor(self) -> Iterator:
        if type(self.connection).__name__ == "DuckDBPyConnection":
            yield self.connection
            return
        cursor = self.connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def execute(self, statement) -> None:
        sql, parameters = self._compiled(statement)
        with self._cursor() as cursor:
            cursor.execute(sql, parameters)

    def rows(self, statement) -> list[tuple]:
        sql, parameters = self._compiled(statement)
        with self._cursor() as cursor:
            cursor.execute(sql, parameters)
            return [tuple(row) for row in cursor.fetchall()]

    def scalar(self, statement):
        found = self.rows(statement)
        return found[0][0] if found else None

    def create_temporary(self, work_table: Table) -> None:
        """A scratch table for this connection (dropped by the caller, or at disconnect)."""
        dialect_name = "duckdb" if self.dialect.name == "duckdb" else "postgresql"
        ddl = create_table_ddl(work_table, dialect_name)
        self.execute_sql(ddl.replace("CREATE TABLE", "CREATE TEMPORARY TABLE", 1))

    def analyse(self, work_table: Table) -> None:
        """PostgreSQL plans with statistics; temporary tables get none unless asked."""
        if self.dialect.name != "duckdb":
            self.execute_sql(f"ANALYZE {work_table.name}")

    def execute_sql(self, sql: str) -> None:
        """DDL without values (identifiers come from the table definitions)."""
        with self._cursor() as cursor:
            cursor.execute(sql)


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


# --- helpers ----------------------------------------------------------------------------


def months_from(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def customer_dims(*, birth_year: bool = True) -> list[ColumnElement]:
    return [c[name].label(name) for name in (DIMENSIONS if birth_year else ROLLUP_DIMENSIONS)]


def flag(condition: ColumnElement[bool]) -> ColumnElement:
    return case((condition, 1), else_=0)


def part(month: ColumnElement, source, conditions: Sequence, columns: Sequence[str], **values) -> Select:
    """One source of flows: month, the customer's dimensions, every flow column (0 unless given)."""
    return (
        select(
            month.label("month"),
            *customer_dims(),
            *((values[name] if name in values else literal(0)).label(name) for name in columns),
        )
        .select_from(source)
        .where(*conditions)
    )


def grouped_flows(parts: Sequence[Select], columns: Sequence[str]):
    union = union_all(*parts).subquery("parts")
    keys = [union.c.month, *(union.c[name] for name in DIMENSIONS)]
    return select(*keys, *(func.sum(union.c[name]).label(name) for name in columns)).group_by(*keys).subquery("flows")


def _delete_from(runner: Runner, table, since: date | None) -> None:
    statement = delete(table)
    if since is not None and "month" in table.c:
        statement = statement.where(table.c.month >= since)
    runner.execute(statement)


# --- customer marts ---------------------------------------------------------------------

FLOW_COLUMNS = (
    "new_customers",
    "churned",
    "churned_voluntary",
    "churned_involuntary",
    "port_ins",
    "port_outs",
    "churn_events",
    "won_back",
    "customer_months",
    "revenue_vnd",
    "campaign_control",
    "campaign_control_churned",
    "campaign_contacted",
    "campaign_contacted_churned",
)


def customer_flows(start: date, after_last: date):
    """Every flow of the customer mart per (month, dimensions) for months in [start, after_last)."""
    e = churn_events.c
    r = revenue_monthly.c
    t = campaign_targets.c
    won_back = and_(e.won_back_on.is_not(None), days_between(e.churned_on, e.won_back_on) <= WINBACK_WINDOW_DAYS)
    control, contacted = t.group_name == "control", t.group_name == "contacted"
    columns = FLOW_COLUMNS
    parts = [
        part(
            month_start(c.activated_on),
            customers,
            [c.activated_on >= start, c.activated_on < after_last],
            columns,
            new_customers=literal(1),
            port_ins=flag(c.ported_in_from.is_not(None)),
        ),
        part(
            month_start(c.churned_on),
            customers.outerjoin(churn_events, e.customer_id == c.customer_id),
            [c.churned_on >= start, c.churned_on < after_last],
            columns,
            churned=literal(1),
            churned_voluntary=flag(e.churn_type == "voluntary"),
            churned_involuntary=flag(e.churn_type == "involuntary"),
        ),
        part(
            month_start(e.churned_on),
            churn_events.join(customers, c.customer_id == e.customer_id),
            [e.churned_on >= start, e.churned_on < after_last],
            columns,
            port_outs=flag(e.ported_to.is_not(None)),
            churn_events=literal(1),
            won_back=flag(won_back),
        ),
        part(
            r.revenue_month,
            revenue_monthly.join(customers, c.customer_id == r.customer_id),
            [r.revenue_month >= start, r.revenue_month < after_last],
            columns,
            customer_months=literal(1),
            revenue_vnd=r.revenue_vnd,
        ),
        part(
            month_start(t.targeted_on),
            campaign_targets.join(customers, c.customer_id == t.customer_id),
            [t.targeted_on >= start, t.targeted_on < after_last],
            columns,
            campaign_control=flag(control),
            campaign_control_churned=flag(and_(control, t.churned_within_90d)),
            campaign_contacted=flag(contacted),
            campaign_contacted_churned=flag(and_(contacted, t.churned_within_90d)),
        ),
    ]
    return grouped_flows(parts, columns)


def first_customer_month(runner: Runner) -> date | None:
    first = runner.scalar(select(func.min(c.activated_on)))
    return first.replace(day=1) if first else None


# The flows of the months being rebuilt, staged once: the stock is built from them in a
# second step (a subquery used twice would be computed twice, and a staged table with
# statistics lets PostgreSQL hash-join it).
work_flows = Table(
    "mart_work_flows",
    MetaData(),
    Column("month", Date),
    *(Column(name, mart_customer_month.c[name].type) for name in DIMENSIONS),
    *(Column(name, BigInteger) for name in FLOW_COLUMNS),
)


def build_customer_marts(runner: Runner, since: date | None, through: date) -> None:
    first = first_customer_month(runner)
    _delete_from(runner, mart_customer_month, since)
    _delete_from(runner, ROLLUPS[mart_customer_month.name], since)
    if first is None:
        return
    start = max(first, since) if since else first
    if start > through:
        return
    runner.create_temporary(work_flows)
    try:
        flows = customer_flows(start, add_months(through, 1))
        runner.execute(
            insert(work_flows).from_select(
                ["month", *DIMENSIONS, *FLOW_COLUMNS],
                select(flows.c.month, *(flows.c[name] for name in DIMENSIONS), *(flows.c[n] for n in FLOW_COLUMNS)),
            )
        )
        runner.analyse(work_flows)
        _insert_customer_stock(runner, months_from(start, through))
    finally:
        runner.execute_sql(f"DROP TABLE {work_flows.name}")
    build_rollup(runner, mart_customer_month, start)


def build_rollup(runner: Runner, fine: Table, start: date | None) -> None:
    """The fine mart's rollup for months from `start` (all of it when None): summed over
    birth years (the caller has deleted those rows)."""
    rollup = ROLLUPS[fine.name]
    keys = [fine.c[column.name] for column in rollup.primary_key.columns]
    sums = [column.name for column in rollup.columns if not column.primary_key]
    summed = select(*keys, *(func.sum(fine.c[name]).label(name) for name in sums)).group_by(*keys)
    if start is not None:
        summed = summed.where(fine.c.month >= start)
    runner.execute(insert(rollup).from_select([*(key.name for key in keys), *sums], summed.order_by(keys[0])))


def _insert_customer_stock(runner: Runner, months: list[date]) -> None:
    """mart_customer_month for `months` from the staged flows: every combination of
    dimensions from its first month with a flow (or with customers carried over from the
    month before), the running stock, and the flows."""
    start = months[0]
    w = work_flows.c
    m = mart_customer_month.c
    # Customers active at the end of the month before `start`, per combination (incremental).
    base = (
        select(*(m[name] for name in DIMENSIONS), m.end_active.label("base"))
        .where(m.month == add_months(start, -1), m.end_active != 0)
        .subquery("base")
    )
    starts = union_all(
        select(*(w[name] for name in DIMENSIONS), w.month),
        select(*(base.c[name] for name in DIMENSIONS), literal(start).label("month")),
    ).subquery("starts")
    combos = (
        select(*(starts.c[name] for name in DIMENSIONS), func.min(starts.c.month).label("first_month"))
        .group_by(*(starts.c[name] for name in DIMENSIONS))
        .subquery("combos")
    )
    spine = month_spine(months, name="spine")
    # Every month of every combination from its first month: the grid rows (no flows)
    # and the flow rows, added up (a union and a GROUP BY, not a join on six keys, which
    # PostgreSQL would merge-join on the dimensions and filter by month).
    grid = select(
        spine.c.month.label("month"),
        *(combos.c[name] for name in DIMENSIONS),
        *(literal(0).label(name) for name in FLOW_COLUMNS),
    ).select_from(combos.join(spine, spine.c.month >= combos.c.first_month))
    rows = union_all(grid, select(w.month, *(w[name] for name in DIMENSIONS), *(w[n] for n in FLOW_COLUMNS)))
    rows = rows.subquery("rows")
    keys = [rows.c.month, *(rows.c[name] for name in DIMENSIONS)]
    summed = (
        select(*keys, *(func.sum(rows.c[name]).label(name) for name in FLOW_COLUMNS)).group_by(*keys).subquery("summed")
    )
    source = summed.outerjoin(base, and_(*(summed.c[name] == base.c[name] for name in DIMENSIONS)))
    flow = {name: summed.c[name] for name in FLOW_COLUMNS}
    running = func.sum(flow["new_customers"] - flow["churned"]).over(
        partition_by=[summed.c[name] for name in DIMENSIONS], order_by=summed.c.month, rows=(None, 0)
    )
    end_active = func.coalesce(base.c.base, 0) + running
    filled = (
        select(
            summed.c.month,
            *(summed.c[name] for name in DIMENSIONS),
            (end_active - flow["new_customers"] + flow["churned"]).label("start_active"),
            end_active.label("end_active"),
            *(flow[name].label(name) for name in FLOW_COLUMNS),
        )
        .select_from(source)
        .subquery("filled")
    )
    f = filled.c
    anything = or_(f.start_active != 0, f.end_active != 0, *(f[name] != 0 for name in FLOW_COLUMNS))
    names = ["month", *DIMENSIONS, "start_active", "end_active", *FLOW_COLUMNS]
    runner.execute(
        insert(mart_customer_month).from_select(
            names, select(*(f[name] for name in names)).where(anything).order_by(f.month)
        )
    )


def build_port_outs(runner: Runner, since: date | None, through: date) -> None:
    e = churn_events.c
    _delete_from(runner, mart_port_outs, since)
    conditions = [e.ported_to.is_not(None), e.churned_on < add_months(through, 1)]
    if since:
        conditions.append(e.churned_on >= since)
    facts = (
        select(month_start(e.churned_on).label("month"), *customer_dims(), e.ported_to.label("competitor"))
        .select_from(churn_events.join(customers, c.customer_id == e.customer_id))
        .where(*conditions)
        .subquery("facts")
    )
    keys = [facts.c.month, *(facts.c[name] for name in DIMENSIONS), facts.c.competitor]
    runner.execute(
        insert(mart_port_outs).from_select(
            ["month", *DIMENSIONS, "competitor", "port_outs"],
            select(*keys, func.count().label("port_outs")).group_by(*keys),
        )
    )


# --- row-level marts (complaints, surveys) ----------------------------------------------


def build_row_mart(runner: Runner, mart, source_table, order_by: str) -> None:
    """One row per source row with its customer's columns (dimensions, key account), in
    date order, so a period's rows sit together (DuckDB skips the other row groups)."""
    runner.execute(delete(mart))
    names = list(mart.c.keys())

    def column_for(name: str) -> ColumnElement:
        if name == "month" and name not in source_table.c:  # the month of the row's date
            return month_start(source_table.c[order_by]).label(name)
        if name in source_table.c and name not in DIMENSIONS:
            return source_table.c[name]
        return c[name].label(name)

    columns = [column_for(name) for name in names]
    runner.execute(
        insert(mart).from_select(
            names,
            select(*columns)
            .select_from(source_table.join(customers, c.customer_id == source_table.c.customer_id))
            .order_by(source_table.c[order_by]),
        )
    )


# Row marts: (label, mart, source table, the date that orders its rows and gives its month).
ROW_MARTS = (
    ("complaints", mart_complaints, complaints, "opened_at"),
    ("surveys", mart_surveys, surveys, "surveyed_on"),
    ("churn events", mart_churn_events, churn_events, "churned_on"),
    ("campaign targets", mart_campaign_targets, campaign_targets, "targeted_on"),
    ("port-out requests", mart_port_out_requests, port_out_requests, "requested_on"),
)


def build_open_complaints(runner: Runner, since: date | None, through: date) -> None:
    """mart_open_complaints: each complaint at each month end it was open at (as
    queries.measures_complaints.open_facts: opened before the next month, not resolved by it).
    A later resolution is after every month end already built, so old months never change."""
    k = complaints.c
    _delete_from(runner, mart_open_complaints, since)
    first = runner.scalar(select(func.min(k.opened_at)))
    if first is None:
        return
    start = first.date().replace(day=1) if hasattr(first, "date") else first.replace(day=1)
    start = max(start, since) if since else start
    if start > through:
        return
    months = months_from(start, through)
    spine = month_spine(months, name="spine")
    bounds = spine_bounds(months)
    open_at_month_end = and_(
        k.opened_at < spine.c.next_month, or_(k.resolved_at.is_(None), k.resolved_at >= spine.c.next_month)
    )
    runner.execute(
        insert(mart_open_complaints).from_select(
            ["month", "complaint_id", "opened_at", *DIMENSIONS],
            select(spine.c.month, k.complaint_id, k.opened_at, *customer_dims())
            .select_from(complaints.join(spine, open_at_month_end).join(customers, c.customer_id == k.customer_id))
            .where(
                k.opened_at < bounds.last_next_month,
                or_(k.resolved_at.is_(None), k.resolved_at >= bounds.first_next_month),
            )
            .order_by(spine.c.month),
        )
    )


# --- debt marts -------------------------------------------------------------------------


def first_bill_month(runner: Runner) -> date | None:
    first_due, first_billed = runner.rows(select(func.min(b.due_on), func.min(b.bill_month)))[0]
    if first_due is None:
        return None
    return min(first_due.replace(day=1), add_months(first_billed.replace(day=1), 1))


def debt_bucket_start(days: ColumnElement) -> ColumnElement:
    """First day of the DEBT_AGE_BUCKETS bucket holding `days` (≥ 1 for a bill past due)."""
    ordered = sorted(DEBT_AGE_BUCKETS, key=lambda bucket: -bucket[1])
    return case(*[(days >= first, literal(first)) for _, first, _ in ordered], else_=literal(ordered[-1][1]))


def build_debt_marts(runner: Runner, since: date | None, through: date) -> None:
    first = first_bill_month(runner)
    for mart in (mart_debt_month, mart_bills_month):
        _delete_from(runner, mart, since)
        _delete_from(runner, ROLLUPS[mart.name], since)
    if first is None:
        return
    start = max(first, since) if since else first
    if start > through:
        return
    months = months_from(start, through)
    spine = month_spine(months, name="spine")
    bounds = spine_bounds(months)
    as_of = spine.c.last_day
    with_customer = bills.join(customers, c.customer_id == b.customer_id)

    past_due = (
        select(
            spine.c.month.label("month"),
            *customer_dims(),
            debt_bucket_start(days_between(b.due_on, as_of)).label("days_past_due_from"),
            (b.billed_vnd - paid_as_of_vnd(as_of)).label("unpaid_vnd"),
        )
        .select_from(with_customer.join(spine, and_(b.due_on < as_of, unpaid_at(as_of))))
        .where(b.due_on < bounds.last_last_day, unpaid_at(bounds.first_last_day))
        .subquery("past_due")
    )
    keys = [past_due.c.month, *(past_due.c[name] for name in DIMENSIONS), past_due.c.days_past_due_from]
    runner.execute(
        insert(mart_debt_month).from_select(
            ["month", *DIMENSIONS, "days_past_due_from", "unpaid_vnd"],
            select(*keys, func.sum(past_due.c.unpaid_vnd).label("unpaid_vnd")).group_by(*keys),
        )
    )

    columns = (
        "bills_due",
        "billed_due_vnd",
        "paid_on_time_vnd",
        "bills_issued",
        "billed_issued_vnd",
        "receivable_bills",
        "receivable_vnd",
        "frequent_debtors",
    )
    after_last = add_months(through, 1)
    debtors = frequent_debtor_rows(months)  # the rule itself, as the measures read it
    parts = [
        part(
            month_start(b.due_on),
            with_customer,
            [b.due_on >= start, b.due_on < after_last],
            columns,
            bills_due=literal(1),
            billed_due_vnd=b.billed_vnd,
            paid_on_time_vnd=paid_on_time_vnd(),
        ),
        part(
            spine.c.month,
            with_customer.join(spine, b.bill_month == spine.c.prev_month),
            [],
            columns,
            bills_issued=literal(1),
            billed_issued_vnd=b.billed_vnd,
        ),
        part(
            spine.c.month,
            with_customer.join(spine, and_(b.bill_month < spine.c.month, unpaid_at(as_of))),
            [b.bill_month < bounds.last_next_month, unpaid_at(bounds.first_last_day)],
            columns,
            receivable_bills=literal(1),
            receivable_vnd=b.billed_vnd - paid_as_of_vnd(as_of),
        ),
        part(
            debtors.c.month,
            debtors.join(customers, c.customer_id == debtors.c.customer_id),
            [],
            columns,
            frequent_debtors=literal(1),
        ),
    ]
    flows = grouped_flows(parts, columns)
    runner.execute(
        insert(mart_bills_month).from_select(
            ["month", *DIMENSIONS, *columns],
            select(flows.c.month, *(flows.c[name] for name in DIMENSIONS), *(flows.c[name] for name in columns)),
        )
    )
    build_rollup(runner, mart_debt_month, start)
    build_rollup(runner, mart_bills_month, start)


# --- debtors and the block pipeline ------------------------------------------------------


def build_debtor_marts(runner: Runner, since: date | None, through: date) -> None:
    """mart_debtors month by month (queries.debt.debtor_rows, the raw rule itself),
    mart_block_events and mart_block_month for the months from `since` (all when None)."""
    for mart in (mart_debtors, mart_block_events, mart_block_month, ROLLUPS[mart_block_month.name]):
        _delete_from(runner, mart, since)
    first = first_bill_month(runner)
    if first is None:
        return
    start = max(first, since) if since else first
    if start > through:
        return
    names = [column.name for column in mart_debtors.columns if column.name != "month"]
    for month in months_from(start, through):
        rows = debtor_rows(month)
        runner.execute(
            insert(mart_debtors).from_select(
                ["month", *names], select(literal(month, Date).label("month"), *(rows.c[name] for name in names))
            )
        )
    events = stage_event_rows(start, add_months(through, 1))
    runner.execute(
        insert(mart_block_events).from_select(
            [column.name for column in mart_block_events.columns],
            select(*(events.c[column.name] for column in mart_block_events.columns)).order_by(events.c.month),
        )
    )
    e = mart_block_events.c
    keys = [e.month, *(e[name] for name in DIMENSIONS), e.stage]
    runner.execute(
        insert(mart_block_month).from_select(
            [key.name for key in keys] + ["customers", "bills"],
            select(*keys, func.count(func.distinct(e.customer_id)), func.count())
            .where(e.month >= start)
            .group_by(*keys)
            .order_by(e.month),
        )
    )
    build_rollup(runner, mart_block_month, start)


# --- cohorts ----------------------------------------------------------------------------


def build_cohorts(runner: Runner) -> None:
    """mart_customer_cohorts, whole: customers counted by activation month, month left and group."""
    runner.execute(delete(mart_customer_cohorts))
    runner.execute(delete(ROLLUPS[mart_customer_cohorts.name]))
    keys = [month_start(c.activated_on).label("activated_month"), month_start(c.churned_on).label("left_month")]
    keys += customer_dims()
    runner.execute(
        insert(mart_customer_cohorts).from_select(
            ["activated_month", "left_month", *DIMENSIONS, "customers"],
            select(*keys, func.count().label("customers")).group_by(*keys).order_by(keys[0]),
        )
    )
    build_rollup(runner, mart_customer_cohorts, None)


# --- big customers ----------------------------------------------------------------------


def build_big_customers(runner: Runner, since: date | None, through: date) -> None:
    """mart_big_customers month by month: each month ranks every customer active at its end
    by 12-month revenue (queries.customers.ranked_customers, the raw rule itself), so one
    month's work is one aggregation over a year of revenue rows."""
    _delete_from(runner, mart_big_customers, since)
    _delete_from(runner, ROLLUPS[mart_big_customers.name], since)
    first = first_customer_month(runner)
    if first is None:
        return
    start = max(first, since) if since else first
    if start > through:
        return
    for month in months_from(start, through):
        ranked = ranked_customers(month)
        keys = [*(ranked.c[name] for name in DIMENSIONS), ranked.c.is_key_account, ranked.c.is_top_revenue]
        runner.execute(
            insert(mart_big_customers).from_select(
                ["month", *DIMENSIONS, "is_key_account", "is_top_revenue", "customers", "revenue_12m_vnd"],
                select(
                    literal(month, Date).label("month"),
                    *keys,
                    func.count().label("customers"),
                    func.sum(ranked.c.revenue_12m).label("revenue_12m_vnd"),
                ).group_by(*keys),
            )
        )
    build_rollup(runner, mart_big_customers, start)


# --- the customer list ------------------------------------------------------------------


def build_customer_list(runner: Runner, through: date) -> None:
    """mart_customer_list, whole: every customer with the revenue of the 12 months ending
    with the last month of data (queries.customers.listed_customers, the raw rule itself)."""
    runner.execute(delete(mart_customer_list))
    listed = listed_customers(through)
    runner.execute(insert(mart_customer_list).from_select(list(listed.selected_columns.keys()), listed))


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
    if runner.dialect.name != "duckdb":
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


# --- command line and other callers ------------------------------------------------------


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
    import duckdb

    if not full and since is None and marts_current(f"duckdb:///{path}"):
        log("marts: marts are current")
        return Plan(None, None, "marts are current", current=True)
    working = path.with_name(f"{path.name}.refresh-{uuid.uuid4().hex}")
    shutil.copyfile(path, working)
    try:
        connection = duckdb.connect(str(working))
        try:
            connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
            connection.execute("SET enable_progress_bar = false")
            decided = refresh_connection(
                connection, create_engine("duckdb:///:memory:").dialect, full=full, since=since, log=log
            )
            connection.execute("CHECKPOINT")
        finally:
            connection.close()
        Path(f"{path}.wal").unlink(missing_ok=True)
        os.replace(working, path)
    except BaseException:
        working.unlink(missing_ok=True)
        Path(f"{working}.wal").unlink(missing_ok=True)
        raise
    return decided


def month_argument(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}") from error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets, var/warehouse.duckdb)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="rebuild every mart from scratch")
    mode.add_argument("--since", type=month_argument, help="rebuild the months from YYYY-MM on")


def run_command(arguments: argparse.Namespace) -> int:
    url = resolve_url(arguments.url)
    started = time.perf_counter()
    decided = refresh_url(url, full=arguments.full, since=arguments.since, log=lambda line: print(line, flush=True))
    if not decided.current and decided.through is not None:
        print(f"Marts refreshed through {decided.through:%m/%Y} in {time.perf_counter() - started:.1f} s.")
    return 0
