"""The complaint family: mart_complaints (one row per complaint) and mart_open_complaints
(one row per complaint and month end it was open at), and the complaint facts read from them.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import BigInteger, Column, DateTime, Subquery, Table, case, literal, select

from queries.filters import Filters, Scope
from queries.marts.base import contact_columns, copied_columns, group_columns, mart_metadata, month_column
from queries.marts.customer_month import customer_mart
from queries.marts.reading import in_months, mart_dimensions, mart_scope, on_mart, with_region
from queries.measures_base import month_spine, period_months, spine_months, timestamp_bounds
from queries.rules import ACK_TARGET_HOURS
from queries.sla import sla_target_hours
from queries.sql_functions import hours_between, month_start
from queries.tables import complaints, customers

# One row per complaint, joined once to its customer's dimensions: the complaint measures
# (medians and p90 included) stay exact and never join the customers table. Complaints
# are few (~0.3 per 100 customers per quarter: ~200 k rows at 10 M customers), so a row
# per complaint is small and exact percentiles stay fast.
mart_complaints = Table(
    "mart_complaints",
    mart_metadata,
    *copied_columns(
        complaints,
        "complaint_id",
        "customer_id",
        "staff_id",
        "channel",
        "category",
        "opened_at",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "sla_hours",
        "departments_involved",
        "escalated",
        "reopened",
        "resolved_first_contact",
        "csat",
        key=("complaint_id",),
    ),
    *copied_columns(customers, "is_key_account"),
    *group_columns(birth_year=True, key=False),
    *contact_columns(),
)


# One row per complaint and month end at which it was open (opened before the month's end,
# not resolved by then): the backlog at any month end is an equality filter on month, not
# a range join of every complaint with every month (most complaints are open at one month
# end or none).
mart_open_complaints = Table(
    "mart_open_complaints",
    mart_metadata,
    month_column("Month (first day) at whose end (first instant of the next month) the complaint was open"),
    Column("complaint_id", BigInteger, primary_key=True, autoincrement=False, doc="complaints.complaint_id"),
    Column(
        "opened_at",
        DateTime,
        nullable=False,
        doc="Received (Asia/Ho_Chi_Minh): the age at the month end",
    ),
    *group_columns(birth_year=True, key=False),
)


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
