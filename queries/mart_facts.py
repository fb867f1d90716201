"""The measures' *facts* subqueries, read from the marts (queries/marts.py) instead of the
raw tables.

Each function here returns the same columns as the raw facts function it stands in for
(named in its docstring), so the measure builders keep their one `summarise()` step and
their formulas: a raw fact row is one event with 0/1 flags, a mart row is a group of
events with the flags already summed, and every aggregate the builders apply to these
columns is a sum. Row-level marts (complaints, surveys) keep one row per event, so
counts, percentiles and means stay exact.

Which groups appear must match too: a raw facts list has a row only where an event
exists, so each function keeps only the mart rows that hold such an event (e.g.
customers active during the month for the customer measures), not rows that exist for
another mart column.

The topic modules declare each of these as the mart twin of a raw select (queries.marts.
answered_from_mart), which answers with it while the marts are on; tests/test_marts.py holds
every measure answered here equal to the raw answer.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Column, ColumnElement, FromClause, Subquery, Table, and_, case, func, literal, or_, select
from sqlalchemy.sql import visitors

from queries.filters import Filters, Scope, customer_conditions
from queries.marts import (
    ROLLUPS,
    mart_bills_month,
    mart_complaints,
    mart_customer_month,
    mart_debt_month,
    mart_open_complaints,
    mart_port_outs,
    mart_surveys,
)
from queries.measures_base import (
    age_band,
    month_spine,
    period_bounds,
    period_months,
    spine_months,
    timestamp_bounds,
    validate_by,
)
from queries.rules import ACK_TARGET_HOURS
from queries.sla import sla_target_hours
from queries.sql_functions import as_double, hours_between, month_start
from queries.tables import ASPECT_COLUMNS, complaints, customers, provinces

# --- shared pieces ----------------------------------------------------------------------


def needs_birth_year(filters: Filters, by: Sequence[str]) -> bool:
    return bool(filters.age_bands) or "age_band" in by


def grain(fine: Table, filters: Filters, by: Sequence[str]) -> Table:
    """The fine (birth-year) mart when an age band is filtered or broken down, else its rollup."""
    return fine if needs_birth_year(filters, by) else ROLLUPS[fine.name]


def customer_mart(filters: Filters, by: Sequence[str]) -> Table:
    return grain(mart_customer_month, filters, by)


def mart_dimensions(by: Sequence[str], filters: Filters, mart: Table, month: ColumnElement) -> list[ColumnElement]:
    """Labelled dimension columns of a mart row (as queries.measures_base.customer_dimensions)."""
    available = {
        "month": month,
        "province_code": mart.c.province_code,
        "macro_region": provinces.c.macro_region,
        "segment": mart.c.segment,
        "plan": mart.c.plan,
        "area_type": mart.c.area_type,
    }
    if "birth_year" in mart.c:
        available["age_band"] = age_band(mart.c.birth_year, filters.end_month.year)
    columns = []
    for name in by:
        if name not in available:
            raise ValueError(f"dimension {name!r} is not available for {mart.name}")
        columns.append(available[name].label(name))
    return columns


def mart_scope(filters: Filters, scope: Scope, mart: Table) -> ColumnElement[bool]:
    """The customer filters ∩ the role scope, on the mart's copy of the customer's columns."""
    return customer_conditions(filters, scope, mart, provinces)


def with_region(mart: Table, by: Sequence[str]) -> FromClause:
    if "macro_region" in by:
        return mart.join(provinces, provinces.c.province_code == mart.c.province_code)
    return mart


def in_months(month: ColumnElement, months: Sequence[date]) -> ColumnElement[bool]:
    """Months of a spine are consecutive: a range, two bound parameters."""
    return and_(month >= min(months), month <= max(months))


def flag(condition: ColumnElement[bool]) -> ColumnElement:
    return case((condition, 1), else_=0)


def on_mart(expression: ColumnElement, mart: Table, *sources: Table) -> ColumnElement:
    """The same expression with the raw tables' columns replaced by the mart's columns of
    the same name: a rule written once for the raw tables (e.g. the SLA target) applies
    to the mart unchanged."""

    def replace(element):
        if isinstance(element, Column) and element.table in sources and element.name in mart.c:
            return mart.c[element.name]
        return None

    return visitors.replacement_traverse(expression, {}, replace)


# --- customers, revenue, churn ----------------------------------------------------------


def customer_month_facts(
    filters: Filters, scope: Scope, by: Sequence[str], *, whole_period: bool, churn_type: bool = False
) -> tuple[Subquery, list[date]]:
    """As queries.measures_customers.customer_month_facts: start_active, end_active,
    is_new, is_churned, is_period_start, is_period_end (+ churned_voluntary/involuntary)."""
    months = spine_months(filters, by, whole_period=whole_period)
    mart = customer_mart(filters, by)
    m = mart.c
    is_end = literal(1) if "month" in by else flag(m.month == filters.end_month)
    is_start = literal(1) if "month" in by else flag(m.month == filters.start_month)
    columns = [
        *mart_dimensions(by, filters, mart, m.month),
        m.start_active.label("start_active"),
        m.end_active.label("end_active"),
        m.new_customers.label("is_new"),
        m.churned.label("is_churned"),
        is_start.label("is_period_start"),
        is_end.label("is_period_end"),
    ]
    if churn_type:
        columns += [m.churned_voluntary.label("churned_voluntary"), m.churned_involuntary.label("churned_involuntary")]
    facts = (
        select(*columns)
        .select_from(with_region(mart, by))
        # active at some point of the month: active at its start, or new in it
        .where(
            in_months(m.month, months), mart_scope(filters, scope, mart), or_(m.start_active != 0, m.new_customers != 0)
        )
        .subquery("facts")
    )
    return facts, months


def customer_months(filters: Filters, scope: Scope) -> ColumnElement:
    """Customer-months of the filtered base in the period, as one scalar: revenue rows counted
    per month and customer group."""
    mart = customer_mart(filters, ())
    start, stop = period_bounds(filters)
    return (
        select(func.coalesce(func.sum(mart.c.customer_months), 0))
        .where(mart.c.month >= start, mart.c.month < stop, mart_scope(filters, scope, mart))
        .scalar_subquery()
    )


def revenue_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """As queries.measures_revenue.revenue_facts: revenue_vnd, customer_month."""
    mart = customer_mart(filters, by)
    m = mart.c
    return (
        select(
            *mart_dimensions(by, filters, mart, m.month),
            m.revenue_vnd.label("revenue_vnd"),
            m.customer_months.label("customer_month"),
        )
        .select_from(with_region(mart, by))
        .where(in_months(m.month, period_months(filters)), mart_scope(filters, scope, mart), m.customer_months != 0)
        .subquery("facts")
    )


def port_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """As queries.measures_churn.port_facts: port_in, port_out."""
    mart = customer_mart(filters, by)
    m = mart.c
    return (
        select(
            *mart_dimensions(by, filters, mart, m.month),
            m.port_ins.label("port_in"),
            m.port_outs.label("port_out"),
        )
        .select_from(with_region(mart, by))
        .where(
            in_months(m.month, period_months(filters)),
            mart_scope(filters, scope, mart),
            or_(m.port_ins != 0, m.port_outs != 0),
        )
        .subquery("facts")
    )


def winback_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """Churn cohort of the period: won_back, cohort (churn events)."""
    mart = customer_mart(filters, by)
    m = mart.c
    return (
        select(
            *mart_dimensions(by, filters, mart, m.month),
            m.won_back.label("won_back"),
            m.churn_events.label("cohort"),
        )
        .select_from(with_region(mart, by))
        .where(in_months(m.month, period_months(filters)), mart_scope(filters, scope, mart), m.churn_events != 0)
        .subquery("facts")
    )


def campaign_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """As the campaign uplift's facts: control, control_churned, contacted, contacted_churned."""
    mart = customer_mart(filters, by)
    m = mart.c
    return (
        select(
            *mart_dimensions(by, filters, mart, m.month),
            m.campaign_control.label("control"),
            m.campaign_control_churned.label("control_churned"),
            m.campaign_contacted.label("contacted"),
            m.campaign_contacted_churned.label("contacted_churned"),
        )
        .select_from(with_region(mart, by))
        .where(
            in_months(m.month, period_months(filters)),
            mart_scope(filters, scope, mart),
            or_(m.campaign_control != 0, m.campaign_contacted != 0),
        )
        .subquery("facts")
    )


def port_outs_by_competitor_select(filters: Filters, scope: Scope, by: Sequence[str] = ()):
    """As queries.measures_churn.port_outs_by_competitor_select: [*by, competitor, value]."""
    by = validate_by(by)
    p = mart_port_outs.c
    facts = (
        select(*mart_dimensions(by, filters, mart_port_outs, p.month), p.competitor, p.port_outs)
        .select_from(with_region(mart_port_outs, by))
        .where(in_months(p.month, period_months(filters)), mart_scope(filters, scope, mart_port_outs))
        .subquery("facts")
    )
    keys = [facts.c[name] for name in (*by, "competitor")]
    return select(*keys, as_double(func.sum(facts.c.port_outs)).label("value")).group_by(*keys).order_by(*keys)


# --- complaints and surveys (one row per event) -----------------------------------------

q = mart_complaints.c


def opened_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """As queries.measures_complaints.opened_facts: ack_hours, acknowledged_in_time."""
    start, stop = timestamp_bounds(filters)
    ack_hours = hours_between(q.opened_at, q.acknowledged_at)
    return (
        select(
            *mart_dimensions(by, filters, mart_complaints, month_start(q.opened_at)),
            ack_hours.label("ack_hours"),
            case((ack_hours <= ACK_TARGET_HOURS, 1), else_=0).label("acknowledged_in_time"),
        )
        .select_from(with_region(mart_complaints, by))
        .where(q.opened_at >= start, q.opened_at < stop, mart_scope(filters, scope, mart_complaints))
        .subquery("facts")
    )


def resolved_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """As queries.measures_complaints.resolved_facts: resolve_hours, within_sla,
    first_contact, reopened, csat. The SLA target is the raw rule itself (sla_target_hours),
    read on the mart's columns."""
    start, stop = timestamp_bounds(filters)
    resolve_hours = hours_between(q.opened_at, q.resolved_at)
    target = on_mart(sla_target_hours(), mart_complaints, complaints, customers)
    return (
        select(
            *mart_dimensions(by, filters, mart_complaints, month_start(q.resolved_at)),
            resolve_hours.label("resolve_hours"),
            case((resolve_hours <= target, 1), else_=0).label("within_sla"),
            case((q.resolved_first_contact, 1), else_=0).label("first_contact"),
            case((q.reopened, 1), else_=0).label("reopened"),
            q.csat.label("csat"),
        )
        .select_from(with_region(mart_complaints, by))
        .where(q.resolved_at >= start, q.resolved_at < stop, mart_scope(filters, scope, mart_complaints))
        .subquery("facts")
    )


def open_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> tuple[Subquery, list[date]]:
    """As queries.measures_complaints.open_facts: age_hours of each complaint open at each
    evaluated month end."""
    months = spine_months(filters, by, whole_period=False)
    spine = month_spine(months)
    o = mart_open_complaints.c
    facts = (
        select(
            *mart_dimensions(by, filters, mart_open_complaints, o.month),
            hours_between(o.opened_at, spine.c.next_month).label("age_hours"),
        )
        .select_from(with_region(mart_open_complaints, by).join(spine, spine.c.month == o.month))
        .where(in_months(o.month, months), mart_scope(filters, scope, mart_open_complaints))
        .subquery("facts")
    )
    return facts, months


def complaint_rate_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """As the complaint rate's facts: complaint (1 per complaint), customer_month."""
    start, stop = timestamp_bounds(filters)
    mart = customer_mart(filters, by)
    m = mart.c
    complaint_rows = (
        select(
            *mart_dimensions(by, filters, mart_complaints, month_start(q.opened_at)),
            literal(1).label("complaint"),
            literal(0).label("customer_month"),
        )
        .select_from(with_region(mart_complaints, by))
        .where(q.opened_at >= start, q.opened_at < stop, mart_scope(filters, scope, mart_complaints))
    )
    customer_month_rows = (
        select(
            *mart_dimensions(by, filters, mart, m.month),
            literal(0).label("complaint"),
            m.customer_months.label("customer_month"),
        )
        .select_from(with_region(mart, by))
        .where(in_months(m.month, period_months(filters)), mart_scope(filters, scope, mart), m.customer_months != 0)
    )
    return complaint_rows.union_all(customer_month_rows).subquery("facts")


def survey_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """As queries.measures_surveys.survey_facts: promoter, detractor, csat_score and the aspect scores."""
    start, stop = period_bounds(filters)
    v = mart_surveys.c
    return (
        select(
            *mart_dimensions(by, filters, mart_surveys, month_start(v.surveyed_on)),
            case((v.nps_score >= 9, 1), else_=0).label("promoter"),
            case((v.nps_score <= 6, 1), else_=0).label("detractor"),
            v.csat_score,
            *(v[column] for column, _, _ in ASPECT_COLUMNS.values()),
        )
        .select_from(with_region(mart_surveys, by))
        .where(v.surveyed_on >= start, v.surveyed_on < stop, mart_scope(filters, scope, mart_surveys))
        .subquery("facts")
    )


# --- debt -------------------------------------------------------------------------------


def past_due_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> tuple[Subquery, list[date]]:
    """As queries.measures_debt.past_due_facts: unpaid_vnd, days_past_due. A mart row holds
    the bills of one days-past-due bucket; its days_past_due is the bucket's first day, which
    every bucket condition of queries.rules.DEBT_AGE_BUCKETS classifies like the bills in it."""
    months = spine_months(filters, by, whole_period=False)
    mart = grain(mart_debt_month, filters, by)
    d = mart.c
    facts = (
        select(
            *mart_dimensions(by, filters, mart, d.month),
            d.unpaid_vnd.label("unpaid_vnd"),
            d.days_past_due_from.label("days_past_due"),
        )
        .select_from(with_region(mart, by))
        .where(in_months(d.month, months), mart_scope(filters, scope, mart))
        .subquery("facts")
    )
    return facts, months


def collection_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """As the collection rate's facts: billed_vnd, paid_on_time_vnd of bills due in the period."""
    mart = grain(mart_bills_month, filters, by)
    bm = mart.c
    return (
        select(
            *mart_dimensions(by, filters, mart, bm.month),
            bm.billed_due_vnd.label("billed_vnd"),
            bm.paid_on_time_vnd.label("paid_on_time_vnd"),
        )
        .select_from(with_region(mart, by))
        .where(in_months(bm.month, period_months(filters)), mart_scope(filters, scope, mart), bm.bills_due != 0)
        .subquery("facts")
    )


def dso_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> tuple[Subquery, list[date]]:
    """As the DSO's facts: billed_vnd (issued in the month), receivable_vnd (at the period
    end, or at each month end by month), days."""
    mart = grain(mart_bills_month, filters, by)
    bm = mart.c
    months = period_months(filters)
    spine = month_spine(months)
    at_period_end = literal(True) if "month" in by else bm.month == filters.end_month
    if "month" in by:
        days = spine.c.days
    else:
        start, stop = period_bounds(filters)
        days = literal((stop - start).days)
    receivable = and_(bm.receivable_bills != 0, at_period_end)
    facts = (
        select(
            *mart_dimensions(by, filters, mart, bm.month),
            bm.billed_issued_vnd.label("billed_vnd"),
            case((at_period_end, bm.receivable_vnd), else_=0).label("receivable_vnd"),
            days.label("days"),
        )
        .select_from(with_region(mart, by).join(spine, spine.c.month == bm.month))
        .where(mart_scope(filters, scope, mart), or_(bm.bills_issued != 0, receivable))
        .subquery("facts")
    )
    return facts, months


def frequent_debtor_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> tuple[Subquery, list[date]]:
    """As queries.measures_debt.frequent_debtor_facts: debtor (a count per mart row)."""
    mart = grain(mart_bills_month, filters, by)
    bm = mart.c
    months = spine_months(filters, by, whole_period=False)
    facts = (
        select(
            *mart_dimensions(by, filters, mart, bm.month),
            bm.frequent_debtors.label("debtor"),
        )
        .select_from(with_region(mart, by))
        .where(in_months(bm.month, months), mart_scope(filters, scope, mart), bm.frequent_debtors != 0)
        .subquery("facts")
    )
    return facts, months
