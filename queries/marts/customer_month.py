"""The customer-month family: mart_customer_month (+ rollup) and mart_port_outs, and the
selects that answer the customer, revenue, churn, port, win-back and campaign facts from them.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Column, ColumnElement, Subquery, Table, Text, func, literal, or_, select

from queries.filters import Filters, Scope
from queries.marts.base import (
    CUSTOMER_MONTH_DOC,
    count_column,
    customer_month_columns,
    group_columns,
    mart_metadata,
    month_column,
)
from queries.marts.reading import flag, grain, in_months, mart_dimensions, mart_scope, with_region
from queries.measures_base import period_bounds, period_months, spine_months, validate_by
from queries.sql_functions import as_double

mart_customer_month = Table(
    "mart_customer_month",
    mart_metadata,
    month_column(CUSTOMER_MONTH_DOC),
    *group_columns(birth_year=True, key=True),
    *customer_month_columns(),
)


mart_customer_month_rollup = Table(
    "mart_customer_month_rollup",
    mart_metadata,
    month_column(CUSTOMER_MONTH_DOC),
    *group_columns(birth_year=False, key=True),
    *customer_month_columns(),
)


mart_port_outs = Table(
    "mart_port_outs",
    mart_metadata,
    month_column("Month (first day) of leaving (churn_events.churned_on)"),
    *group_columns(birth_year=True, key=True),
    Column(
        "competitor",
        Text,
        primary_key=True,
        nullable=False,
        doc="Competitor the number was ported to, or unknown when the extract does not name it",
    ),
    count_column("port_outs", "Numbers ported out in the month to that competitor"),
)


def customer_mart(filters: Filters, by: Sequence[str]) -> Table:
    return grain(mart_customer_month, filters, by)


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
