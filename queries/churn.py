"""Selects for the Churn page: how many leave, why, to whom, and who stays.

Every function takes (filters, scope) and returns a Select, scoped like the registry
(measures_base.customer_scope: the filters intersected with the role scope). Rates come
from the registry (churn_rate, churn_rate_voluntary/involuntary, annualised_churn,
port_outs/ins, net_port, winback_rate); what it has no dimension for is built here on
the same definitions:
- churn by tenure band: churned in month M ÷ active at the start of M, the tenure band
  read as of M (queries.rules.TENURE_BANDS), summed over the months of the period like
  churn_rate;
- cohort retention: of the customers activated in month C, the share still active at the
  end of month C+N (not churned on or before that day);
- survival curves: Kaplan–Meier over the same cohorts (survival_select counts who is at risk
  and who leaves at each age; kaplan_meier multiplies the conditional survival);
- churn reasons, port-ins by donor, port-out requests refused for unpaid bills.

Trends and cohorts read a wider range than the period: the TREND_MONTHS months ending
with the period's end month (the page says so in the caption).
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    values,
)

from queries.customers import customer_lifetimes, tenure_band
from queries.filters import Filters, Scope, add_months
from queries.marts import answered_from_mart
from queries.marts import events as events_mart
from queries.measures_base import customer_dimensions, customer_scope, period_bounds, validate_by
from queries.measures_churn import churn_event_facts, customers_source, port_outs_by_competitor_select
from queries.metrics import measure_select, target_select
from queries.overview import kpi_trends_select, trend_filters
from queries.rules import TENURE_BANDS
from queries.sql_functions import as_double, month_start, ratio
from queries.tables import churn_events, customers, port_out_requests

c = customers.c
e = churn_events.c
q = port_out_requests.c

TREND_MONTHS = 36
CHURN_RATES: tuple[str, ...] = ("churn_rate", "churn_rate_voluntary", "churn_rate_involuntary", "annualised_churn")
PORT_MEASURES: tuple[str, ...] = ("port_ins", "port_outs", "net_port")
CHURN_DIMENSIONS: tuple[str, ...] = ("age_band", "segment", "tenure_band", "area_type", "plan", "macro_region")
FLOW_SOURCES: tuple[str, ...] = ("segment", "macro_region")


def _text(value: str):
    return literal(value, String)


def trend_range(filters: Filters, months: int = TREND_MONTHS) -> Filters:
    """The `months` months ending with the period's end month (other filters unchanged)."""
    return trend_filters(filters, months)


# --- rates --------------------------------------------------------------------------------


def churn_rates_by_select(filters: Filters, scope: Scope, dimension: str, names: Sequence[str] = CHURN_RATES):
    """Registry churn rates by one customer dimension: rows (measure, member, value,
    numerator, denominator). For annualised_churn numerator/denominator are the monthly ones."""
    parts = []
    for name in names:
        rates = measure_select(name, filters, scope, by=(dimension,)).subquery()
        parts.append(
            select(
                _text(name).label("measure"),
                rates.c[dimension].label("member"),
                rates.c.value,
                rates.c.numerator,
                rates.c.denominator,
            )
        )
    return union_all(*parts)


def churn_by_tenure_select(filters: Filters, scope: Scope) -> Select:
    """Monthly churn rate by tenure band: rows (member, value, numerator, denominator).

    A customer-month per customer and month of the period in which they were active at some
    point (the registry's customer-month), the band read as of that month."""
    months = [add_months(filters.start_month, offset) for offset in range(filters.month_count)]
    lows = [low for _, low, _ in TENURE_BANDS]
    spine = values(
        column("month", Date),
        column("next_month", Date),
        *(column(f"edge_{low}", Date) for low in lows),
        name="tenure_months",
    ).data([(month, add_months(month, 1), *(add_months(month, 1 - low) for low in lows)) for month in months])
    in_view = customer_lifetimes(filters, scope)
    # Summed over the customer groups first: the join below meets a few thousand
    # (activation month, month left) pairs, not every group of the mart.
    pair = [in_view.c.activated_month, in_view.c.left_month]
    lifetimes = select(*pair, func.sum(in_view.c.customers).label("customers")).group_by(*pair).subquery("pairs")
    activated, left = lifetimes.c.activated_month, lifetimes.c.left_month
    # Month granular: activated_on < next month ⇔ activated_month ≤ month, and so on.
    during = and_(activated <= spine.c.month, or_(left.is_(None), left >= spine.c.month))
    facts = (
        select(
            tenure_band(activated, {low: spine.c[f"edge_{low}"] for low in lows}).label("member"),
            case((activated < spine.c.month, lifetimes.c.customers), else_=0).label("start_active"),
            case((left <= spine.c.month, lifetimes.c.customers), else_=0).label("churned"),
        )
        .select_from(lifetimes.join(spine, during))
        .where(activated <= filters.end_month, or_(left.is_(None), left >= filters.start_month))
        .subquery("facts")
    )
    numerator = as_double(func.coalesce(func.sum(facts.c.churned), 0))
    denominator = as_double(func.coalesce(func.sum(facts.c.start_active), 0))
    return (
        select(
            facts.c.member,
            ratio(numerator, denominator).label("value"),
            numerator.label("numerator"),
            denominator.label("denominator"),
        )
        .group_by(facts.c.member)
        .order_by(facts.c.member)
    )


def churn_trend_select(filters: Filters, scope: Scope, months: int = TREND_MONTHS) -> Select:
    """Rows (measure, month, value) for churn_rate, voluntary and involuntary, monthly over
    the trend range."""
    return kpi_trends_select(filters, scope, names=CHURN_RATES[:3], months=months)


def churn_trend_by_plan_select(filters: Filters, scope: Scope, months: int = TREND_MONTHS) -> Select:
    """Rows (month, plan, value, numerator, denominator): monthly churn rate by plan."""
    return measure_select("churn_rate", trend_range(filters, months), scope, by=("month", "plan"))


def target_trend_select(name: str, filters: Filters, scope: Scope, months: int = TREND_MONTHS) -> Select:
    """Rows (month, target): the measure's target month by month over the trend range (the
    rules of queries.metrics.target_select: NULL where none applies)."""
    parts = []
    for offset in range(-(months - 1), 1):
        month = add_months(filters.end_month, offset)
        targets = target_select(name, replace(filters, start_month=month, end_month=month), scope).subquery()
        parts.append(select(literal(month, Date).label("month"), targets.c.target))
    return union_all(*parts)


# --- porting -----------------------------------------------------------------------------


def port_trend_select(filters: Filters, scope: Scope, months: int = TREND_MONTHS) -> Select:
    """Rows (measure, month, value) for port_ins, port_outs and net_port over the trend range."""
    return kpi_trends_select(filters, scope, names=PORT_MEASURES, months=months)


def port_outs_by_competitor_trend_select(filters: Filters, scope: Scope, months: int = TREND_MONTHS) -> Select:
    """Rows (month, competitor, value): port-outs by destination competitor by month over the
    trend range (the registry's port_outs_by_competitor_select); months without any are absent."""
    return port_outs_by_competitor_select(trend_range(filters, months), scope, by=("month",))


def port_ins_by_competitor_select(filters: Filters, scope: Scope, by: Sequence[str] = ()) -> Select:
    """Numbers ported in during the period from each donor competitor: [*by, competitor, value]
    (the port_ins measure's rows, by donor)."""
    by = validate_by(by)
    start, stop = period_bounds(filters)
    facts = (
        select(*customer_dimensions(by, filters, month_start(c.activated_on)), c.ported_in_from.label("competitor"))
        .select_from(customers_source(by))
        .where(
            c.ported_in_from.is_not(None),
            c.activated_on >= start,
            c.activated_on < stop,
            customer_scope(filters, scope),
        )
        .subquery("facts")
    )
    keys = [facts.c[name] for name in (*by, "competitor")]
    return select(*keys, as_double(func.count()).label("value")).group_by(*keys).order_by(*keys)


def port_balance_select(filters: Filters, scope: Scope) -> Select:
    """Per competitor in the period: rows (competitor, port_ins, port_outs, net_port)."""
    ins = port_ins_by_competitor_select(filters, scope).subquery("ins")
    outs = port_outs_by_competitor_select(filters, scope).subquery("outs")
    competitor = func.coalesce(ins.c.competitor, outs.c.competitor)
    port_ins = func.coalesce(ins.c.value, 0.0)
    port_outs = func.coalesce(outs.c.value, 0.0)
    return (
        select(
            competitor.label("competitor"),
            port_ins.label("port_ins"),
            port_outs.label("port_outs"),
            (port_ins - port_outs).label("net_port"),
        )
        .select_from(ins.join(outs, ins.c.competitor == outs.c.competitor, full=True))
        .order_by(competitor)
    )


def port_flow_select(filters: Filters, scope: Scope, source: str = "segment") -> Select:
    """Port-outs in the period from each segment (or macro region) to each competitor:
    rows (source, competitor, value), for the flow chart."""
    if source not in FLOW_SOURCES:
        raise ValueError(f"unknown flow source {source!r}; choose from {FLOW_SOURCES}")
    flows = port_outs_by_competitor_select(filters, scope, by=(source,)).subquery()
    return select(flows.c[source].label("source"), flows.c.competitor, flows.c.value)


@answered_from_mart(events_mart.port_out_requests_in_view)
def port_out_requests_in_view(filters: Filters, scope: Scope) -> tuple[Table, FromClause, ColumnElement[bool]]:
    """(requests, their source, the customers in view): port_out_requests joined to the
    customers."""
    source = port_out_requests.join(customers, c.customer_id == q.customer_id)
    return port_out_requests, source, customer_scope(filters, scope)


def port_out_requests_select(filters: Filters, scope: Scope, by: Sequence[str] = ()) -> Select:
    """Port-out requests made in the period: [*by, requests, completed, refused, value] where
    value = refused for unpaid bills ÷ requests. by ⊂ (month, competitor)."""
    unknown = set(by) - {"month", "competitor"}
    if unknown:
        raise ValueError(f"port-out requests cannot be broken down by {sorted(unknown)}")
    start, stop = period_bounds(filters)
    requests_table, source, in_view = port_out_requests_in_view(filters, scope)
    r = requests_table.c
    dimensions = {"month": month_start(r.requested_on), "competitor": r.to_competitor}
    facts = (
        select(
            *(dimensions[name].label(name) for name in by),
            case((r.outcome == "refused_debt", 1), else_=0).label("refused"),
        )
        .select_from(source)
        .where(r.requested_on >= start, r.requested_on < stop, in_view)
        .subquery("facts")
    )
    keys = [facts.c[name] for name in by]
    requests = as_double(func.count())
    refused = as_double(func.coalesce(func.sum(facts.c.refused), 0))
    return (
        select(
            *keys,
            requests.label("requests"),
            (requests - refused).label("completed"),
            refused.label("refused"),
            ratio(refused, requests).label("value"),
        )
        .group_by(*keys)
        .order_by(*keys)
    )


# --- reasons and the debt link ----------------------------------------------------------


def churn_reasons_select(filters: Filters, scope: Scope) -> Select:
    """Customers who left in the period by type and reason: rows (churn_type, reason, value,
    share) with share of all who left in view."""
    facts = churn_event_facts(filters, scope, (), ("churn_type", "reason"))
    count = as_double(func.count())
    return (
        select(
            facts.c.churn_type,
            facts.c.reason,
            count.label("value"),
            (count / func.nullif(func.sum(count).over(), 0.0)).label("share"),
        )
        .group_by(facts.c.churn_type, facts.c.reason)
        .order_by(facts.c.churn_type, count.desc(), facts.c.reason)
    )


def involuntary_share_select(filters: Filters, scope: Scope, by: Sequence[str] = ()) -> Select:
    """Share of churn that is involuntary (non-payment): [*by, value, involuntary, churned],
    from the registry (churn_rate_involuntary's numerator ÷ churn_rate's numerator)."""
    involuntary = measure_select("churn_rate_involuntary", filters, scope, by=by).subquery("inv")
    everyone = measure_select("churn_rate", filters, scope, by=by).subquery("all_churn")
    on = and_(true(), *(involuntary.c[name] == everyone.c[name] for name in by))
    return (
        select(
            *(everyone.c[name] for name in by),
            ratio(involuntary.c.numerator, everyone.c.numerator).label("value"),
            involuntary.c.numerator.label("involuntary"),
            everyone.c.numerator.label("churned"),
        )
        .select_from(everyone.join(involuntary, on))
        .order_by(*(everyone.c[name] for name in by))
    )


# --- cohorts ------------------------------------------------------------------------------


def cohort_months(filters: Filters, months: int = TREND_MONTHS) -> list[date]:
    return [add_months(filters.end_month, offset) for offset in range(-(months - 1), 1)]


def month_number(day) -> ColumnElement:
    """Months since year 0 of a date (year × 12 + month): month arithmetic as integers, the
    same on every engine (EXTRACT is standard SQL)."""
    return cast(func.extract("year", day), Integer) * 12 + cast(func.extract("month", day), Integer)


def _cohort_counts(filters: Filters, scope: Scope, months: int, by: Sequence[str]):
    """Customers activated in the cohort range, counted by (cohort, its month number, the
    month number they left in or NULL, *by)."""
    first = cohort_months(filters, months)[0]
    lifetimes = customer_lifetimes(filters, scope, by)
    cohort = lifetimes.c.activated_month
    keys = [
        cohort.label("cohort"),
        month_number(cohort).label("cohort_number"),
        month_number(lifetimes.c.left_month).label("left_number"),
        *(lifetimes.c[name] for name in by),
    ]
    return (
        select(*keys, func.sum(lifetimes.c.customers).label("customers"))
        .where(cohort >= first, cohort <= filters.end_month)
        .group_by(*keys)
        .subquery("cohort_counts")
    )


def cohort_retention_select(filters: Filters, scope: Scope, months: int = TREND_MONTHS) -> Select:
    """Cohort retention for the activation months of the trend range: rows (cohort,
    months_after, customers, active, value) with value = share of the cohort still active at
    the end of month cohort + months_after (observed up to the period's end month)."""
    # Each cohort is observed for every N with cohort + N ≤ the period's end month; a customer
    # is still active at the end of month cohort + N unless they left in that month or before.
    counts, offsets, observed = _cohort_ages(filters, scope, months, ())
    still_active = or_(
        counts.c.left_number.is_(None), counts.c.left_number > counts.c.cohort_number + offsets.c.months_after
    )
    active = as_double(func.coalesce(func.sum(case((still_active, counts.c.customers), else_=0)), 0))
    size = as_double(func.coalesce(func.sum(counts.c.customers), 0))
    keys = [counts.c.cohort, offsets.c.months_after]
    return (
        select(*keys, size.label("customers"), active.label("active"), ratio(active, size).label("value"))
        .select_from(counts.join(offsets, observed))
        .group_by(*keys)
        .order_by(*keys)
    )


def _cohort_ages(filters: Filters, scope: Scope, months: int, by: Sequence[str]):
    """(cohort counts, the ages 0 … months − 1, the join condition "the cohort can be
    observed at that age": cohort + age ≤ the period's end month)."""
    end_number = filters.end_month.year * 12 + filters.end_month.month
    offsets = values(column("months_after", Integer), name="offsets").data([(after,) for after in range(months)])
    counts = _cohort_counts(filters, scope, months, by)
    return counts, offsets, counts.c.cohort_number + offsets.c.months_after <= end_number


def survival_select(filters: Filters, scope: Scope, by: str = "segment", months: int = TREND_MONTHS) -> Select:
    """The Kaplan–Meier risk sets of the activation cohorts of the trend range: rows (<by>,
    months_after, at_risk, churned), one per age N observed (kaplan_meier() turns them into
    the survival curve).

    At age N (months after the activation month) a customer is at risk when their cohort can
    be observed that long (cohort + N ≤ the period's end month) and they had not left before
    month cohort + N; churned counts those who left in month cohort + N. A customer still
    active at the period's end is censored there: at risk up to the age reached, never
    counted as churned. Pass `months` no longer than the data, so that every cohort counted
    was observed from its activation month on (an older cohort would hold only its survivors)."""
    validate_by((by,))
    if by == "month":
        raise ValueError("survival curves are by a customer dimension, not by month")
    counts, offsets, observed = _cohort_ages(filters, scope, months, (by,))
    age = counts.c.cohort_number + offsets.c.months_after
    at_risk = or_(counts.c.left_number.is_(None), counts.c.left_number >= age)
    left_then = case((counts.c.left_number == age, counts.c.customers), else_=0)
    keys = [counts.c[by], offsets.c.months_after]
    return (
        select(
            *keys,
            as_double(func.sum(counts.c.customers)).label("at_risk"),
            as_double(func.coalesce(func.sum(left_then), 0)).label("churned"),
        )
        .select_from(counts.join(offsets, and_(observed, at_risk)))
        .group_by(*keys)
        .order_by(*keys)
    )


def kaplan_meier(risk_sets: pl.DataFrame, by: str) -> pl.DataFrame:
    """The survival curve of survival_select's rows: [<by>, months_after, at_risk, churned,
    value] with value = Π over ages k ≤ N of (1 − churned_k ÷ at_risk_k), the Kaplan–Meier
    estimate of the share still active at the end of month activation + N. It never rises.
    A few dozen rows per group: the product runs here, the counting ran in the warehouse."""
    kept = risk_sets.filter(pl.col("at_risk") > 0).sort(by, "months_after")
    survival = (1.0 - pl.col("churned") / pl.col("at_risk")).cum_prod().over(by)
    return kept.with_columns(survival.alias("value")).select(by, "months_after", "at_risk", "churned", "value")
