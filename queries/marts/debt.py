"""The debt family: mart_debt_month and mart_bills_month (+ rollups), the debtors and the
block pipeline (mart_debtors, mart_block_events, mart_block_month + rollup), and the debt
facts read from them.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    Float,
    FromClause,
    SmallInteger,
    Subquery,
    Table,
    Text,
    and_,
    case,
    literal,
    or_,
    select,
)

from queries.filters import Filters, Scope
from queries.marts.base import (
    contact_columns,
    copied_columns,
    count_column,
    group_columns,
    mart_metadata,
    month_column,
    rollup_of,
)
from queries.marts.reading import grain, in_months, mart_dimensions, mart_scope, with_region
from queries.measures_base import month_spine, period_bounds, period_months, spine_months
from queries.tables import customers

# Postpaid debt as of each month's last day, by days-past-due bucket (queries.rules.DEBT_AGE_BUCKETS).
mart_debt_month = Table(
    "mart_debt_month",
    mart_metadata,
    month_column("Month (first day); amounts are as of its last day"),
    *group_columns(birth_year=True, key=True),
    Column(
        "days_past_due_from",
        SmallInteger,
        primary_key=True,
        nullable=False,
        doc="First day of the days-past-due bucket (queries.rules.DEBT_AGE_BUCKETS) the bills fall in",
    ),
    count_column("unpaid_vnd", "Billed − paid as of the last day, over bills past due then, VND"),
)


mart_bills_month = Table(
    "mart_bills_month",
    mart_metadata,
    month_column("Month (first day)"),
    *group_columns(birth_year=True, key=True),
    count_column("bills_due", "Bills due in the month"),
    count_column("billed_due_vnd", "Billed amount of bills due in the month, VND"),
    count_column("paid_on_time_vnd", "Of that, paid by the due date, VND"),
    count_column("bills_issued", "Bills issued in the month (usage month = the month before; issued on the 1st)"),
    count_column("billed_issued_vnd", "Billed amount of those, VND"),
    count_column("receivable_bills", "Bills issued before the month and not fully paid by its last day"),
    count_column("receivable_vnd", "Billed − paid as of the month's last day over those bills, VND"),
    count_column("frequent_debtors", "Customers who are frequent debtors at the month's end (queries.rules)"),
)


# One row per customer and month end at which they are a frequent debtor or an organisation
# (queries.debt.ORGANISATION_SEGMENTS) owing something: what the Debt page lists and sums
# about individual debtors, without aggregating every unpaid bill per customer on each view.
mart_debtors = Table(
    "mart_debtors",
    mart_metadata,
    month_column("Month (first day); everything is as of its last day"),
    Column("customer_id", BigInteger, primary_key=True, autoincrement=False, doc="The debtor"),
    *group_columns(birth_year=True, key=False),
    *copied_columns(customers, "is_key_account"),
    *contact_columns(),
    Column("is_frequent_debtor", Boolean, nullable=False, doc="A frequent debtor at the month end (queries.rules)"),
    Column("late_bills", BigInteger, nullable=False, doc="Late bills in the window (0 if not a frequent debtor)"),
    Column("debt_vnd", Float, nullable=False, doc="Billed − paid over bills past due, VND (0 if none)"),
    Column("debt_90_plus_vnd", Float, nullable=False, doc="Of that, more than 90 days past due, VND"),
    Column("unpaid_bills", Float, nullable=False, doc="Bills past due and not fully paid"),
    Column("oldest_days_past_due", Float, doc="Days past due of the oldest such bill; NULL if none"),
    Column("churned_on", Date, doc="Left by the month end: the churn event's date; else NULL"),
    Column("churn_type", Text, doc="Its type (voluntary / involuntary); else NULL"),
)


# One row per bill and block stage it reached (queries.debt.BLOCK_STAGES), dated.
mart_block_events = Table(
    "mart_block_events",
    mart_metadata,
    month_column("Month (first day) the stage was reached"),
    Column("bill_id", BigInteger, primary_key=True, autoincrement=False, doc="bills.bill_id"),
    Column("stage", Text, primary_key=True, nullable=False, doc="one_way, two_way or terminated"),
    Column("customer_id", BigInteger, nullable=False, doc="The bill's customer"),
    *group_columns(birth_year=True, key=False),
)


# The same events counted per month: customers are distinct within the month and group (a
# customer is in one group), so the counts add up over groups but not over months.
mart_block_month = Table(
    "mart_block_month",
    mart_metadata,
    month_column("Month (first day) the stage was reached"),
    *group_columns(birth_year=True, key=True),
    Column("stage", Text, primary_key=True, nullable=False, doc="one_way, two_way or terminated"),
    count_column("customers", "Distinct customers reaching the stage in the month"),
    count_column("bills", "Bills reaching the stage in the month"),
)


mart_debt_month_rollup = rollup_of(mart_debt_month)


mart_bills_month_rollup = rollup_of(mart_bills_month)


mart_block_month_rollup = rollup_of(mart_block_month)


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


def debtor_rows_at_period_end(filters: Filters) -> tuple[FromClause, ColumnElement[bool]]:
    """As queries.debt.debtor_rows_at_period_end: (mart_debtors, its period-end month)."""
    return mart_debtors, mart_debtors.c.month == filters.end_month


def stage_events_in_period(filters: Filters) -> tuple[FromClause, ColumnElement[bool]]:
    """As queries.debt.stage_events_in_period: (mart_block_events, the period's months)."""
    start, stop = period_bounds(filters)
    source = mart_block_events
    return source, and_(source.c.month >= start, source.c.month < stop)
