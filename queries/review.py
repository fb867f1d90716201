"""Selects for the periodic CRM review: the scorecard against targets, its breakdown by
macro region and province, and the figures that explain what changed.

The review looks at one calendar period (a month, a quarter or a year: `ReviewPeriod`)
and compares it with the previous period and with the same period a year earlier.

Every function returns a Select (run it with dashboard.frame.warehouse.run or queries.run.run).
Measures come from the registry by name (queries.metrics): nothing here defines a KPI.
What worked: training, complaint handling against SLA and care channels are at the end
of this module; retention campaigns are in queries/uplift.py.

Scope. Everything is built with the filters intersected with the role scope, with ONE
deliberate exception: `country_scope()` widens a regional manager's scope to the whole
country, and is used only for selects that return a single national aggregate (no
breakdown, province and region filters dropped). The review compares "my provinces"
with "the country" (issue 7), and a national total reveals no other province's figure.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Date, Double, Select, String, case, cast, exists, false, func, literal, select, union_all

from queries.complaints import complaint_rows
from queries.filters import Filters, Scope, add_months, allowed_provinces
from queries.measures_base import (
    customer_dimensions,
    period_bounds,
    province_scope,
    timestamp_bounds,
    validate_by,
)
from queries.measures_churn import churn_event_facts
from queries.metrics import get_measure, measure_select, target_select, uses_customer_filters
from queries.sla import sla_target_hours
from queries.sql_functions import as_double, hours_between, month_start, percentile, ratio
from queries.tables import (
    COUNTRY_CODE,
    care_contacts_monthly,
    complaints,
    kpi_targets,
    provinces,
    staff,
    training,
)

REVIEW_KINDS: tuple[str, ...] = ("month", "quarter", "year")
KIND_MONTHS = {"month": 1, "quarter": 3, "year": 12}
SPARK_PERIODS = 6  # the scorecard's sparkline: the review period and the five before it


@dataclass(frozen=True)
class ReviewPeriod:
    """A calendar month, quarter or year: [start_month, end_month], both first-of-month."""

    kind: str
    start_month: date
    end_month: date

    def back(self, periods: int) -> "ReviewPeriod":
        """The period `periods` periods earlier (same kind)."""
        shift = -periods * KIND_MONTHS[self.kind]
        return ReviewPeriod(self.kind, add_months(self.start_month, shift), add_months(self.end_month, shift))

    @property
    def previous(self) -> "ReviewPeriod":
        return self.back(1)

    @property
    def last_year(self) -> "ReviewPeriod":
        return ReviewPeriod(self.kind, add_months(self.start_month, -12), add_months(self.end_month, -12))

    def filters(self, base: Filters) -> Filters:
        """The view's other filters (place, segment, …) over this period."""
        return replace(base, start_month=self.start_month, end_month=self.end_month)

    def comparisons(self) -> dict[str, "ReviewPeriod"]:
        return {"current": self, "previous": self.previous, "last_year": self.last_year}

    def spark(self, count: int = SPARK_PERIODS) -> list["ReviewPeriod"]:
        """This period and the count − 1 before it, oldest first."""
        return [self.back(offset) for offset in range(count - 1, -1, -1)]


def review_period(kind: str, end_month: date) -> ReviewPeriod:
    """The latest complete calendar period of `kind` that ends on or before `end_month`:
    a quarter or year still running at `end_month` is not reviewed before it is over
    (the review meeting looks at a closed period), so October 2026 gives October 2026,
    Q3/2026 (Jul–Sep) and the year 2025."""
    if kind not in KIND_MONTHS:
        raise ValueError(f"unknown review period {kind!r}; choose from {REVIEW_KINDS}")
    length = KIND_MONTHS[kind]
    # Months are counted from January: a period ends on a month whose index + 1 is a multiple of its length.
    index = end_month.year * 12 + end_month.month - 1
    last_index = index - (index + 1) % length
    end = date(last_index // 12, last_index % 12 + 1, 1)
    return ReviewPeriod(kind, add_months(end, -(length - 1)), end)


def country_filters(filters: Filters) -> Filters:
    """The same view over the whole country: province and region filters dropped."""
    return replace(filters, provinces=(), regions=())


def country_scope(scope: Scope) -> Scope:
    """The role scope widened to every province, for NATIONAL AGGREGATES ONLY (see module doc)."""
    return replace(scope, provinces=None)


def shows_regions(filters: Filters, scope: Scope) -> bool:
    """Region rows are shown only when no province is singled out by the filters or the scope:
    a region made of a subset of its provinces would be mislabelled."""
    return allowed_provinces(filters, scope) is None


def _text(value: str):
    return literal(value, String)


def targeted_measures_select(filters: Filters) -> Select:
    """Names of the measures that have at least one kpi_targets row in the period (any
    province): the scorecard's rows. The caller keeps those the registry knows."""
    start, stop = period_bounds(filters)
    k = kpi_targets.c
    return (
        select(k.measure).where(k.target_month >= start, k.target_month < stop).group_by(k.measure).order_by(k.measure)
    )


def period_values_select(
    names: Sequence[str], periods: Mapping[str, Filters], scope: Scope, by: Sequence[str] = ()
) -> Select:
    """Rows (measure, period, *by, value, base, numerator): each measure over each named period.

    `base` is the measure's denominator (customers at the start of the month, resolved
    complaints, calls offered …) or its sample size `n`, else NULL; `numerator` is the
    ratio's numerator (churners, complaints …), else NULL. A finding needs them to tell a
    real move from noise on a small base, and to say where a move came from."""
    parts = []
    for name in names:
        measure = get_measure(name)
        if not set(by) <= set(measure.dimensions):
            continue
        for label, period_filters in periods.items():
            values = measure_select(name, period_filters, scope, by).subquery()
            if "denominator" in values.c:
                base = values.c.denominator
            elif "n" in values.c:
                base = values.c.n
            else:
                base = literal(None, Double)
            numerator = values.c.numerator if "numerator" in values.c else literal(None, Double)
            parts.append(
                select(
                    _text(name).label("measure"),
                    _text(label).label("period"),
                    *(values.c[dimension] for dimension in by),
                    values.c.value,
                    as_double(base).label("base"),
                    as_double(numerator).label("numerator"),
                )
            )
    if not parts:  # no measure: an empty result with the same columns
        empty = [literal(None, Double).label(name) for name in ("value", "base", "numerator")]
        keys = [literal(None, String).label(name) for name in ("measure", "period", *by)]
        return select(*keys, *empty).where(false())
    return union_all(*parts)


def selection_targets_select(names: Sequence[str], filters: Filters, scope: Scope) -> Select:
    """Rows (measure, target): the target of the whole selection, by the rules of
    queries.metrics.target_select (country row, or the allowed provinces combined)."""
    parts = []
    for name in names:
        targets = target_select(name, filters, scope).subquery()
        parts.append(select(_text(name).label("measure"), targets.c.target))
    return union_all(*parts)


def grouped_targets_select(names: Sequence[str], filters: Filters, scope: Scope, level: str) -> Select:
    """Rows (measure, <level>, target) for level 'province_code' or 'macro_region'.

    The same rules as queries.metrics.target_select applied per group: a stock is compared
    at the period end (end month's rows only); counts and money (Measure.additive) are
    summed over provinces and months, other measures averaged; a customer measure under a
    segment/plan/age/area filter has no target (NULL, so no row)."""
    validate_by((level,), ("province_code", "macro_region"))
    k = kpi_targets.c
    parts = []
    for name in names:
        measure = get_measure(name)
        start, stop = period_bounds(filters)
        if measure.kind == "stock":
            start = filters.end_month
        conditions = [
            k.measure == measure.name,
            k.target_month >= start,
            k.target_month < stop,
            k.province_code != COUNTRY_CODE,
            province_scope(k.province_code, filters, scope),
        ]
        if measure.customer_filters and uses_customer_filters(filters):
            conditions.append(false())
        combine = func.sum if measure.additive else func.avg
        source = kpi_targets
        key = k.province_code
        if level == "macro_region":
            source = kpi_targets.join(provinces, provinces.c.province_code == k.province_code)
            key = provinces.c.macro_region
        parts.append(
            select(_text(name).label("measure"), key.label(level), as_double(combine(k.target_value)).label("target"))
            .select_from(source)
            .where(*conditions)
            .group_by(key)
        )
    return union_all(*parts)


# --- what explains a move: the mix behind churn and complaints, per province ------------------


def complaint_mix_select(filters: Filters, scope: Scope, by: Sequence[str] = ("province_code",)) -> Select:
    """Rows (*by, category, opened, missed_sla): complaints opened in the period, and
    complaints resolved in the period later than their SLA, per category."""
    by = validate_by(by)
    k = complaints.c
    start, stop = timestamp_bounds(filters)
    opened = complaint_rows(
        [
            *customer_dimensions(by, filters, month_start(k.opened_at)),
            k.category.label("category"),
            literal(1).label("opened"),
            literal(0).label("missed_sla"),
        ],
        [k.opened_at >= start, k.opened_at < stop],
        filters,
        scope,
        by,
    )
    missed = complaint_rows(
        [
            *customer_dimensions(by, filters, month_start(k.resolved_at)),
            k.category.label("category"),
            literal(0).label("opened"),
            literal(1).label("missed_sla"),
        ],
        [k.resolved_at >= start, k.resolved_at < stop, hours_between(k.opened_at, k.resolved_at) > sla_target_hours()],
        filters,
        scope,
        by,
    )
    facts = union_all(opened, missed).subquery("facts")
    keys = [facts.c[name] for name in (*by, "category")]
    return (
        select(
            *keys,
            as_double(func.sum(facts.c.opened)).label("opened"),
            as_double(func.sum(facts.c.missed_sla)).label("missed_sla"),
        )
        .group_by(*keys)
        .order_by(*keys)
    )


def churn_mix_select(filters: Filters, scope: Scope, dimension: str, by: Sequence[str] = ("province_code",)) -> Select:
    """Rows (*by, member, value): customers who left in the period, per member of one
    dimension: a customer dimension (segment, plan, age_band, area_type), 'reason' (why they
    left) or 'competitor' (where their number was ported to: a competitor, 'unknown' when the
    extract does not name it, NULL when not ported)."""
    by = validate_by(by)
    member = {"reason": "reason", "competitor": "ported_to"}.get(dimension) or validate_by((dimension,))[0]
    facts = churn_event_facts(filters, scope, by, member=member)
    keys = [facts.c[name] for name in (*by, "member")]
    return select(*keys, as_double(func.count()).label("value")).group_by(*keys).order_by(*keys)


def mix_by_period_select(builder, periods: Mapping[str, Filters], scope: Scope, **options) -> Select:
    """The same mix select over several named periods: rows (period, …its columns)."""
    parts = []
    for label, period_filters in periods.items():
        mix = builder(period_filters, scope, **options).subquery()
        parts.append(select(_text(label).label("period"), *mix.c))
    return union_all(*parts)


# --- what worked: training, complaint handling against SLA, care channels --------------------

TRAINING_DIMENSIONS = ("staff_channel", "province_code")


def _resolved_complaint_facts(filters: Filters, scope: Scope, by: Sequence[str]):
    """Complaints resolved in the period (filters ∩ scope, by the customer's dimensions), with
    the owner's channel, whether the owner had completed a course by the day it was opened,
    the hours to resolve and the outcome flags."""
    k, s, tr = complaints.c, staff.c, training.c
    start, stop = timestamp_bounds(filters)
    customer_by = [name for name in by if name != "staff_channel"]
    resolve_hours = hours_between(k.opened_at, k.resolved_at)
    trained = exists(
        select(tr.training_id).where(
            tr.staff_id == k.staff_id, tr.completed_on.is_not(None), tr.completed_on <= cast(k.opened_at, Date)
        )
    )
    columns = [
        *customer_dimensions(customer_by, filters, month_start(k.resolved_at)),
        s.channel.label("staff_channel"),
        k.category.label("category"),
        case((trained, True), else_=False).label("trained"),
        resolve_hours.label("resolve_hours"),
        sla_target_hours().label("sla_hours"),
        case((resolve_hours <= sla_target_hours(), 1), else_=0).label("within_sla"),
        case((k.reopened, 1), else_=0).label("reopened"),
        k.csat.label("csat"),
    ]
    conditions = [k.resolved_at >= start, k.resolved_at < stop]
    joins = [(staff, s.staff_id == k.staff_id)]
    return complaint_rows(columns, conditions, filters, scope, customer_by, joins).subquery("facts")


def _outcomes(facts) -> list:
    f = facts.c
    return [
        as_double(func.count()).label("resolved"),
        as_double(func.count(f.csat)).label("csat_n"),
        ratio(func.sum(f.csat), func.count(f.csat)).label("csat"),
        as_double(percentile(f.resolve_hours, 0.5)).label("resolve_median_h"),
        ratio(func.sum(f.within_sla), func.count()).label("sla_share"),
        ratio(func.sum(f.reopened), func.count()).label("reopened_rate"),
    ]


def training_effect_select(filters: Filters, scope: Scope, by: Sequence[str] = ()) -> Select:
    """Rows (trained, *by, resolved, csat_n, csat, resolve_median_h, sla_share, reopened_rate):
    complaints resolved in the period, split by whether their owner had completed a training
    course by the day the complaint was opened (True) or not (False).

    by: () or any of 'staff_channel' (call_centre, store, account_manager) and 'province_code'
    (the customer's province, the scope's unit)."""
    by = tuple(by)
    unknown = [name for name in by if name not in TRAINING_DIMENSIONS]
    if unknown or len(set(by)) != len(by):
        raise ValueError(f"training effect cannot be broken down by {by}; choose from {TRAINING_DIMENSIONS}")
    facts = _resolved_complaint_facts(filters, scope, by)
    keys = [facts.c.trained, *(facts.c[name] for name in by)]
    return select(*keys, *_outcomes(facts)).group_by(*keys).order_by(*keys)


def sla_by_category_select(filters: Filters, scope: Scope) -> Select:
    """Rows (category, resolved, csat_n, csat, resolve_median_h, sla_share, reopened_rate,
    resolve_p90_h, sla_hours_median): complaints resolved in the period, per category, with
    the typical SLA of the category (key accounts have a shorter one)."""
    facts = _resolved_complaint_facts(filters, scope, ())
    f = facts.c
    return (
        select(
            f.category,
            *_outcomes(facts),
            as_double(percentile(f.resolve_hours, 0.9)).label("resolve_p90_h"),
            as_double(percentile(f.sla_hours, 0.5)).label("sla_hours_median"),
        )
        .group_by(f.category)
        .order_by(f.category)
    )


def care_channels_select(periods: Mapping[str, Filters], scope: Scope) -> Select:
    """Rows (period, channel, offered, handled, answered_60s, handled_share, answer_rate,
    handle_time_s): care contacts per channel over each named period. Only the province and
    region filters apply (care_contacts_monthly has no customer); answer_rate (answered
    within 60 s ÷ offered) exists for the call centre only."""
    m = care_contacts_monthly.c
    parts = []
    for label, period_filters in periods.items():
        start, stop = period_bounds(period_filters)
        offered, handled = func.sum(m.contacts_offered), func.sum(m.contacts_handled)
        answered = func.sum(m.answered_within_60s)
        parts.append(
            select(
                _text(label).label("period"),
                m.channel,
                as_double(offered).label("offered"),
                as_double(handled).label("handled"),
                as_double(answered).label("answered_60s"),
                ratio(handled, offered).label("handled_share"),
                ratio(answered, offered).label("answer_rate"),
                ratio(func.sum(m.handle_time_s_total), handled).label("handle_time_s"),
            )
            .where(
                m.contact_month >= start,
                m.contact_month < stop,
                province_scope(m.province_code, period_filters, scope),
            )
            .group_by(m.channel)
        )
    return union_all(*parts)
