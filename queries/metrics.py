"""The measure registry: every KPI (docs/measures.md, docs/domain.md), defined once, asked for by name.

    measure_select(name, filters, scope, by=()) -> Select   # columns [*by, "value", …]
    target_select(name, filters, scope) -> Select           # one row: target, target_rows

Pages and components never write a formula: they look a measure up here for its select,
its labels, unit and direction. Every select is scoped: customer measures apply
queries.filters.customer_conditions (filters ∩ role scope); measures without a customer
apply the province/region part (Measure.customer_filters says which).

Result columns: the `by` dimensions, then `value` (always a double; counts are whole
numbers; percent measures are fractions 0–1), then the parts: ratio measures return
`numerator` and `denominator`, percentiles and NPS return `n` (sample size), a few return
their named parts (net_adds: new, churned; campaign_uplift: groups and ci_low/ci_high).
With by=('month',) every month of the period has a row; with other dimensions only the
groups that have data do.

A later step may answer measures from marts (pre-aggregated tables): only the builders
change, never the callers.
"""

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, false, func, select

from queries.filters import Filters, Scope, allowed_provinces
from queries.measures_base import DIMENSIONS, Measure, period_bounds, province_scope, validate_by
from queries.measures_care import CARE_MEASURES
from queries.measures_churn import CHURN_MEASURES
from queries.measures_complaints import COMPLAINT_MEASURES
from queries.measures_customers import CUSTOMER_MEASURES
from queries.measures_debt import DEBT_MEASURES
from queries.measures_revenue import REVENUE_MEASURES
from queries.measures_surveys import SURVEY_MEASURES
from queries.sql_functions import as_double
from queries.tables import COUNTRY_CODE, kpi_targets


def _registry(*groups: Iterable[Measure]) -> dict[str, Measure]:
    registry: dict[str, Measure] = {}
    for group in groups:
        for measure in group:
            if measure.name in registry:
                raise ValueError(f"measure {measure.name!r} defined twice")
            registry[measure.name] = measure
    return registry


MEASURES: dict[str, Measure] = _registry(
    CUSTOMER_MEASURES,
    REVENUE_MEASURES,
    COMPLAINT_MEASURES,
    SURVEY_MEASURES,
    DEBT_MEASURES,
    CHURN_MEASURES,
    CARE_MEASURES,
)


def get_measure(name: str) -> Measure:
    try:
        return MEASURES[name]
    except KeyError:
        raise ValueError(f"unknown measure {name!r}") from None


def measure_select(name: str, filters: Filters, scope: Scope, by: Sequence[str] = ()) -> Select:
    """The select for one measure: columns [*by, "value", *parts]. ValueError for an unknown
    measure or an unknown/unsupported dimension (see Measure.dimensions)."""
    measure = get_measure(name)
    return measure.build(filters, scope, validate_by(by, measure.dimensions, measure.name))


def uses_customer_filters(filters: Filters) -> bool:
    return bool(filters.segments or filters.age_bands or filters.plans or filters.area_types)


def target_select(name: str, filters: Filters, scope: Scope) -> Select:
    """The target a measure's period value is compared with (red/amber/green): one row,
    columns target (NULL when none applies) and target_rows (how many kpi_targets rows
    it was made from).

    - Which provinces: the country row ('00') when neither the filters nor the role scope
      restrict provinces or regions; otherwise the rows of the allowed provinces (the
      country target does not describe a part of the country).
    - How they combine: counts and money totals (Measure.additive) are summed: over
      provinces, and over the months of the period for a flow (a stock is compared at the
      period end, so only the end month's targets count). Rates, ARPU, scores and times are
      not additive: their targets are averaged (unweighted: kpi_targets has no denominators
      to weight by).
    - Targets are set per province, not per segment/plan/age/area: with any of those
      filters on a customer measure no target applies (comparing a slice with the whole
      business's target would mislead), so target is NULL.
    """
    measure = get_measure(name)
    start, stop = period_bounds(filters)
    if measure.kind == "stock":
        start = filters.end_month
    k = kpi_targets.c
    conditions = [k.measure == measure.name, k.target_month >= start, k.target_month < stop]
    if allowed_provinces(filters, scope) is None and not filters.regions:
        conditions.append(k.province_code == COUNTRY_CODE)
    else:
        conditions += [k.province_code != COUNTRY_CODE, province_scope(k.province_code, filters, scope)]
    if measure.customer_filters and uses_customer_filters(filters):
        conditions.append(false())
    combine = func.sum if measure.additive else func.avg
    return select(
        as_double(combine(k.target_value)).label("target"), func.count(k.target_value).label("target_rows")
    ).where(*conditions)


__all__ = [
    "DIMENSIONS",
    "MEASURES",
    "Measure",
    "get_measure",
    "measure_select",
    "target_select",
]
