"""Selects for the Debt page that the registry has no shape for: per-customer debt, the
frequent debtors (who they are, what they owe, how many were cut off), the largest
organisation debtors and the block pipeline.

Every rule comes from queries/measures_debt.py, so each exists once:
- debt as of a day E: bills due before E and not fully paid by the end of E (unpaid_at),
  the amount billed − paid as of E (paid_as_of_vnd), days past due = E − due date, ageing
  buckets by debt_bucket_condition over queries.rules.DEBT_AGE_BUCKETS;
- the frequent-debtor rule: measures_debt.frequent_debtor_rows (queries.rules settings);
- the scope: measures_base.customer_scope (filters ∩ role scope) on every select.
E is the period's last day, as for the registry's stock measures.
"""

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    case,
    column,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    values,
)

from queries.filters import Filters, Scope, add_months, customer_conditions
from queries.marts import answered_from_mart, mart_block_month
from queries.marts import debt as debt_mart
from queries.marts.reading import grain, mart_scope
from queries.measures_base import customer_scope, period_bounds, sum_if
from queries.measures_debt import debt_bucket_condition, frequent_debtor_rows, paid_as_of_vnd, unpaid_at
from queries.rules import DEBT_AGE_BUCKETS
from queries.sql_functions import as_double, days_between, month_start
from queries.tables import bills, churn_events, customers, provinces
from queries.value_labels import Labels, column_labels, labelled

b = bills.c
c = customers.c
e = churn_events.c

# Largest debtors are looked for among organisations: key-account managers act on these.
ORGANISATION_SEGMENTS: tuple[str, ...] = ("enterprise", "government")
# The block pipeline for non-payment, in order: outgoing calls blocked, all service blocked,
# contract terminated (bills.one_way_block_on, two_way_block_on, terminated_on).
BLOCK_STAGES: tuple[str, ...] = ("one_way", "two_way", "terminated")
_STAGE_DATES = {"one_way": b.one_way_block_on, "two_way": b.two_way_block_on, "terminated": b.terminated_on}
_OLDEST_BUCKET = DEBT_AGE_BUCKETS[-1]  # ("90+", 91, None)


def month_last_day(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def period_last_day(filters: Filters) -> date:
    return month_last_day(filters.end_month)


def first_due_select(filters: Filters, scope: Scope) -> Select:
    """One row: first_due_on, the earliest due date of a bill of the customers in view (NULL
    when they have no bill). Before it nothing can be owed: the page says so."""
    return (
        select(func.min(b.due_on).label("first_due_on"))
        .select_from(bills.join(customers, c.customer_id == b.customer_id))
        .where(customer_scope(filters, scope))
    )


def customer_debt_rows(as_of: date) -> Subquery:
    """Per customer with debt at the end of `as_of`: customer_id, debt_vnd, debt_90_plus_vnd
    (the oldest ageing bucket), unpaid_bills, oldest_days_past_due. Not scoped: callers join
    the customer and apply the scope."""
    day = literal(as_of, Date)
    days = days_between(b.due_on, day)
    unpaid = b.billed_vnd - paid_as_of_vnd(day)
    _, first_day, last_day = _OLDEST_BUCKET
    oldest = debt_bucket_condition(days, first_day, last_day)
    return (
        select(
            b.customer_id.label("customer_id"),
            as_double(func.sum(unpaid)).label("debt_vnd"),
            as_double(sum_if(oldest, unpaid)).label("debt_90_plus_vnd"),
            as_double(func.count()).label("unpaid_bills"),
            as_double(func.max(days)).label("oldest_days_past_due"),
        )
        .where(b.due_on < day, unpaid_at(day))
        .group_by(b.customer_id)
        .subquery("customer_debt")
    )


# --- debtors at a month end -----------------------------------------------------------------

DEBTOR_DIMENSIONS: tuple[str, ...] = ("province_code", "segment", "plan", "area_type", "birth_year")


def debtor_rows(month: date) -> Subquery:
    """From the raw tables, every customer who at the end of `month` is a frequent debtor or
    an organisation owing something: the columns of queries.marts.mart_debtors but month
    (debt 0 for a debtor who has paid up; churned_* set when they had left by then). Not
    scoped. The refresh step stores these as that mart."""
    last_day = month_last_day(month)
    frequent = frequent_debtor_rows([month])
    debt = customer_debt_rows(last_day)
    left = and_(e.customer_id == c.customer_id, e.churned_on <= literal(last_day, Date))
    source = (
        customers.outerjoin(frequent, frequent.c.customer_id == c.customer_id)
        .outerjoin(debt, debt.c.customer_id == c.customer_id)
        .outerjoin(churn_events, left)
    )
    is_frequent = frequent.c.customer_id.is_not(None)
    return (
        select(
            c.customer_id,
            *(c[name] for name in DEBTOR_DIMENSIONS),
            c.is_key_account,
            c.full_name,
            c.phone,
            is_frequent.label("is_frequent_debtor"),
            func.coalesce(frequent.c.late_bills, 0).label("late_bills"),
            func.coalesce(debt.c.debt_vnd, 0.0).label("debt_vnd"),
            func.coalesce(debt.c.debt_90_plus_vnd, 0.0).label("debt_90_plus_vnd"),
            func.coalesce(debt.c.unpaid_bills, 0.0).label("unpaid_bills"),
            debt.c.oldest_days_past_due,
            e.churned_on,
            e.churn_type,
        )
        .select_from(source)
        .where(or_(is_frequent, and_(c.segment.in_(ORGANISATION_SEGMENTS), debt.c.debt_vnd > 0)))
        .subquery("debtors")
    )


@answered_from_mart(debt_mart.debtor_rows_at_period_end)
def debtor_rows_at_period_end(filters: Filters) -> tuple[FromClause, ColumnElement[bool]]:
    """(rows, condition): debtor_rows at the period end, computed from the raw tables."""
    return debtor_rows(filters.end_month), true()


def debtors_in_view(filters: Filters, scope: Scope) -> Subquery:
    """debtor_rows at the period end for the customers in view (the same rows from the mart
    or the raw tables)."""
    source, condition = debtor_rows_at_period_end(filters)
    return (
        select(*(source.c[name] for name in _DEBTOR_COLUMNS))
        .where(condition, customer_conditions(filters, scope, source, provinces))
        .subquery("in_view")
    )


_DEBTOR_COLUMNS = (
    "customer_id",
    *DEBTOR_DIMENSIONS,
    "is_key_account",
    "full_name",
    "phone",
    "is_frequent_debtor",
    "late_bills",
    "debt_vnd",
    "debt_90_plus_vnd",
    "unpaid_bills",
    "oldest_days_past_due",
    "churned_on",
    "churn_type",
)


def frequent_debtor_summary_select(filters: Filters, scope: Scope) -> Select:
    """One row about the frequent debtors at the period end (filters ∩ scope): debtors (the
    registry's frequent_debtors), debt_held_vnd (their outstanding debt, part of the registry's
    outstanding_debt), churned_involuntary (those already terminated for non-payment by then)."""
    debtors = debtors_in_view(filters, scope)
    involuntary = case((debtors.c.churn_type == "involuntary", 1), else_=0)
    return select(
        as_double(func.count()).label("debtors"),
        as_double(func.coalesce(func.sum(debtors.c.debt_vnd), 0)).label("debt_held_vnd"),
        as_double(func.coalesce(func.sum(involuntary), 0)).label("churned_involuntary"),
    ).where(debtors.c.is_frequent_debtor)


FREQUENT_DEBTOR_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "full_name",
    "phone",
    "province",
    "segment",
    "plan",
    "late_bills",
    "debt_vnd",
    "debt_90_plus_vnd",
    "oldest_days_past_due",
    "churned_on",
    "churn_type",
)


# Codes shown as labels in the lists (queries.value_labels).
_LABELLED = ("segment", "plan", "churn_type")


def _debtor_list(filters: Filters, scope: Scope, names: Sequence[str], lang: str, labels: Labels | None):
    """(the debtors in view, a select of the list columns `names` over them): the province by
    its name in `lang`, coded columns as labels; the caller adds which debtors and the order."""
    debtors = debtors_in_view(filters, scope)
    province_name = provinces.c.name_en if lang == "en" else provinces.c.name_vi

    def column_for(name: str):
        if name == "province":
            return province_name.label(name)
        if name in _LABELLED:
            return labelled(debtors.c[name], column_labels(labels, name)).label(name)
        return debtors.c[name]

    source = debtors.join(provinces, provinces.c.province_code == debtors.c.province_code)
    return debtors, select(*map(column_for, names)).select_from(source)


def frequent_debtor_list_select(
    filters: Filters, scope: Scope, lang: str = "vi", labels: Labels | None = None
) -> Select:
    """The frequent debtors at the period end, for follow-up: FREQUENT_DEBTOR_COLUMNS, most
    debt first (then most late bills, then id). debt columns are 0 for a debtor who has paid
    up since; churned_on / churn_type are set when the customer had left by the period end."""
    debtors, listed = _debtor_list(filters, scope, FREQUENT_DEBTOR_COLUMNS, lang, labels)
    return listed.where(debtors.c.is_frequent_debtor).order_by(
        debtors.c.debt_vnd.desc(), debtors.c.late_bills.desc(), debtors.c.customer_id
    )


# --- largest organisation debtors ------------------------------------------------------------

LARGEST_DEBTOR_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "full_name",
    "phone",
    "province",
    "segment",
    "is_key_account",
    "debt_vnd",
    "debt_90_plus_vnd",
    "unpaid_bills",
    "oldest_days_past_due",
)


def largest_debtors_select(filters: Filters, scope: Scope, lang: str = "vi", labels: Labels | None = None) -> Select:
    """Enterprise and government accounts (within the filters' segments) with debt at the
    period end, largest first: LARGEST_DEBTOR_COLUMNS."""
    debtors, listed = _debtor_list(filters, scope, LARGEST_DEBTOR_COLUMNS, lang, labels)
    return listed.where(debtors.c.segment.in_(ORGANISATION_SEGMENTS), debtors.c.debt_vnd > 0).order_by(
        debtors.c.debt_vnd.desc(), debtors.c.customer_id
    )


# --- block pipeline --------------------------------------------------------------------------


def stage_event_rows(start: date, stop: date) -> Subquery:
    """From the raw tables, one row per bill reaching a block stage in [start, stop): month,
    stage, bill_id, customer_id and the customer's dimensions. Not scoped. The refresh step
    stores these as queries.marts.mart_block_events."""
    parts = []
    for stage in BLOCK_STAGES:
        on = _STAGE_DATES[stage]
        parts.append(
            select(
                month_start(on).label("month"),
                literal(stage, String).label("stage"),
                b.bill_id,
                b.customer_id,
                *(c[name] for name in DEBTOR_DIMENSIONS),
            )
            .select_from(bills.join(customers, c.customer_id == b.customer_id))
            .where(on >= start, on < stop)
        )
    return union_all(*parts).subquery("stage_rows")


@answered_from_mart(debt_mart.stage_events_in_period)
def stage_events_in_period(filters: Filters) -> tuple[FromClause, ColumnElement[bool]]:
    """(rows, condition): one row per bill reaching a block stage in the period (month,
    stage, customer_id and the customer's columns), computed from the raw tables."""
    start, stop = period_bounds(filters)
    return stage_event_rows(start, stop), true()


def _stage_events(filters: Filters, scope: Scope) -> Subquery:
    """One row per bill reaching a stage in the period, in view: month, stage, customer_id."""
    source, condition = stage_events_in_period(filters)
    return (
        select(source.c.month, source.c.stage, source.c.customer_id)
        .where(condition, customer_conditions(filters, scope, source, provinces))
        .subquery("stage_events")
    )


def block_pipeline_select(filters: Filters, scope: Scope, by_month: bool = False) -> Select:
    """Blocks and terminations for non-payment in the period: [month?, stage, stage_order,
    customers, bills]. customers = distinct customers reaching the stage in the period (in
    the month, by month); bills = the stage's actions (one per bill). Without by_month every
    stage has a row (0 when none); by month only the months with actions do."""
    stages = values(column("stage", String), column("stage_order", Integer), name="stages").data(
        [(stage, order) for order, stage in enumerate(BLOCK_STAGES)]
    )
    if by_month:
        return _block_months(filters, scope, stages)
    return _block_pipeline(filters, scope, stages, by_month=False)


def _block_pipeline(filters: Filters, scope: Scope, stages, *, by_month: bool) -> Select:
    events = _stage_events(filters, scope)
    keys = ([events.c.month] if by_month else []) + [stages.c.stage, stages.c.stage_order]
    on_stage = events.c.stage == stages.c.stage
    source = stages.join(events, on_stage) if by_month else stages.outerjoin(events, on_stage)
    return (
        select(
            *keys,
            as_double(func.count(func.distinct(events.c.customer_id))).label("customers"),
            as_double(func.count(events.c.customer_id)).label("bills"),
        )
        .select_from(source)
        .group_by(*keys)
        .order_by(*keys[:-2], stages.c.stage_order)
    )


def _block_months_from_mart(filters: Filters, scope: Scope, stages) -> Select:
    start, stop = period_bounds(filters)
    mart = grain(mart_block_month, filters, ())
    counts = (
        select(
            mart.c.month,
            mart.c.stage,
            func.sum(mart.c.customers).label("customers"),
            func.sum(mart.c.bills).label("bills"),
        )
        .where(mart.c.month >= start, mart.c.month < stop, mart_scope(filters, scope, mart))
        .group_by(mart.c.month, mart.c.stage)
        .subquery("counts")
    )
    return (
        select(
            counts.c.month,
            stages.c.stage,
            stages.c.stage_order,
            as_double(counts.c.customers).label("customers"),
            as_double(counts.c.bills).label("bills"),
        )
        .select_from(stages.join(counts, counts.c.stage == stages.c.stage))
        .order_by(counts.c.month, stages.c.stage_order)
    )


@answered_from_mart(_block_months_from_mart)
def _block_months(filters: Filters, scope: Scope, stages) -> Select:
    """The pipeline month by month (the mart counts it per month and customer group)."""
    return _block_pipeline(filters, scope, stages, by_month=True)
