"""The builders of the marts (queries/marts/): one function per mart or family, each
rebuilding its months from `since` (None = everything) up to `through` with INSERT … SELECT
statements written from the raw tables. data_seed/refresh.py decides what to rebuild and
runs these; the module docstring there explains the incremental rules.

How the customer stock is built without expanding customers × months: per combination
of dimensions, active at the end of month M = activations up to M − churns up to M (a
running sum over months), starting from the month of the combination's first activity
(or from the kept month before an incremental refresh). That equals the measures' rule
"activated before the next month and not churned by it" for every customer whose churn
date is not before its activation (a data contract).

The month-by-month marts (big customers, debtors) run one statement per month: each month
ranks or sums a year of rows of its own, which no single grouped statement shares.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Date,
    MetaData,
    Select,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)

from data_seed.mart_runner import Runner
from queries.customers import listed_customers, ranked_customers
from queries.debt import debtor_rows, stage_event_rows
from queries.filters import add_months
from queries.marts import (
    ROLLUPS,
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
)

DIMENSIONS = ("province_code", "segment", "plan", "area_type", "birth_year")
ROLLUP_DIMENSIONS = DIMENSIONS[:-1]

c = customers.c
b = bills.c


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
