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

from datetime import date, timedelta

from sqlalchemy import Date, Integer, Select, String, Subquery, and_, column, func, literal, select, union_all, values

from queries.filters import Filters, Scope, add_months
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


def period_last_day(filters: Filters) -> date:
    return add_months(filters.end_month, 1) - timedelta(days=1)


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


# --- frequent debtors ------------------------------------------------------------------------


def _debtors_at_end(filters: Filters) -> Subquery:
    return frequent_debtor_rows([filters.end_month])


def frequent_debtor_summary_select(filters: Filters, scope: Scope) -> Select:
    """One row about the frequent debtors at the period end (filters ∩ scope): debtors (the
    registry's frequent_debtors), debt_held_vnd (their outstanding debt, part of the registry's
    outstanding_debt), churned_involuntary (those already terminated for non-payment by then)."""
    last_day = period_last_day(filters)
    debtors = _debtors_at_end(filters)
    debt = customer_debt_rows(last_day)
    involuntary = and_(e.churn_type == "involuntary", e.churned_on <= literal(last_day, Date))
    source = (
        debtors.join(customers, c.customer_id == debtors.c.customer_id)
        .outerjoin(debt, debt.c.customer_id == debtors.c.customer_id)
        .outerjoin(churn_events, and_(e.customer_id == debtors.c.customer_id, involuntary))
    )
    return (
        select(
            as_double(func.count()).label("debtors"),
            as_double(func.coalesce(func.sum(debt.c.debt_vnd), 0)).label("debt_held_vnd"),
            as_double(func.count(e.customer_id)).label("churned_involuntary"),
        )
        .select_from(source)
        .where(customer_scope(filters, scope))
    )


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


def frequent_debtor_list_select(
    filters: Filters, scope: Scope, lang: str = "vi", labels: Labels | None = None
) -> Select:
    """The frequent debtors at the period end, for follow-up: FREQUENT_DEBTOR_COLUMNS, most
    debt first (then most late bills, then id). debt columns are 0 for a debtor who has paid
    up since; churned_on / churn_type are set when the customer had left by the period end."""
    last_day = period_last_day(filters)
    debtors = _debtors_at_end(filters)
    debt = customer_debt_rows(last_day)
    debt_vnd = func.coalesce(debt.c.debt_vnd, 0.0)
    left = e.churned_on <= literal(last_day, Date)
    province_name = provinces.c.name_en if lang == "en" else provinces.c.name_vi
    source = (
        debtors.join(customers, c.customer_id == debtors.c.customer_id)
        .join(provinces, provinces.c.province_code == c.province_code)
        .outerjoin(debt, debt.c.customer_id == debtors.c.customer_id)
        .outerjoin(churn_events, and_(e.customer_id == debtors.c.customer_id, left))
    )
    return (
        select(
            c.customer_id,
            c.full_name,
            c.phone,
            province_name.label("province"),
            labelled(c.segment, column_labels(labels, "segment")).label("segment"),
            labelled(c.plan, column_labels(labels, "plan")).label("plan"),
            debtors.c.late_bills,
            debt_vnd.label("debt_vnd"),
            func.coalesce(debt.c.debt_90_plus_vnd, 0.0).label("debt_90_plus_vnd"),
            debt.c.oldest_days_past_due,
            e.churned_on,
            labelled(e.churn_type, column_labels(labels, "churn_type")).label("churn_type"),
        )
        .select_from(source)
        .where(customer_scope(filters, scope))
        .order_by(debt_vnd.desc(), debtors.c.late_bills.desc(), c.customer_id)
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
    debt = customer_debt_rows(period_last_day(filters))
    province_name = provinces.c.name_en if lang == "en" else provinces.c.name_vi
    return (
        select(
            c.customer_id,
            c.full_name,
            c.phone,
            province_name.label("province"),
            labelled(c.segment, column_labels(labels, "segment")).label("segment"),
            c.is_key_account,
            debt.c.debt_vnd,
            debt.c.debt_90_plus_vnd,
            debt.c.unpaid_bills,
            debt.c.oldest_days_past_due,
        )
        .select_from(
            debt.join(customers, c.customer_id == debt.c.customer_id).join(
                provinces, provinces.c.province_code == c.province_code
            )
        )
        .where(c.segment.in_(ORGANISATION_SEGMENTS), debt.c.debt_vnd > 0, customer_scope(filters, scope))
        .order_by(debt.c.debt_vnd.desc(), c.customer_id)
    )


# --- block pipeline --------------------------------------------------------------------------


def _stage_events(filters: Filters, scope: Scope) -> Subquery:
    """One row per bill reaching a stage in the period: month, stage, customer_id."""
    start, stop = period_bounds(filters)
    parts = []
    for stage in BLOCK_STAGES:
        on = _STAGE_DATES[stage]
        parts.append(
            select(month_start(on).label("month"), literal(stage, String).label("stage"), b.customer_id)
            .select_from(bills.join(customers, c.customer_id == b.customer_id))
            .where(on >= start, on < stop, customer_scope(filters, scope))
        )
    return union_all(*parts).subquery("stage_events")


def block_pipeline_select(filters: Filters, scope: Scope, by_month: bool = False) -> Select:
    """Blocks and terminations for non-payment in the period: [month?, stage, stage_order,
    customers, bills]. customers = distinct customers reaching the stage in the period (in
    the month, by month); bills = the stage's actions (one per bill). Without by_month every
    stage has a row (0 when none); by month only the months with actions do."""
    events = _stage_events(filters, scope)
    stages = values(column("stage", String), column("stage_order", Integer), name="stages").data(
        [(stage, order) for order, stage in enumerate(BLOCK_STAGES)]
    )
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
