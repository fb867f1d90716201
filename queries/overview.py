"""The selects the Overview page needs, each answering for several KPIs at once.

Every function returns a Select (run it with queries.run.run, or all of them with
`overview_selects` + queries.run.run_many). Measures are asked for by name from the
registry; nothing here computes a KPI itself. Ranking and wording of "what changed"
belong to the dashboard: this module gives the numbers.
"""

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Select, String, and_, false, func, literal, select, true, union_all

from queries.filters import Filters, Scope, add_months
from queries.metrics import get_measure, measure_select, target_select
from queries.tables import provinces

OVERVIEW_KPIS: tuple[str, ...] = (
    "active_customers",
    "net_adds",
    "churn_rate",
    "arpu",
    "revenue",
    "outstanding_debt",
    "open_complaints",
    "sla_share",
    "nps",
)
TREND_MONTHS = 12
CHANGE_DIMENSIONS: tuple[str, ...] = ("province_code", "segment")


def _name(text: str):
    return literal(text, String)


def kpi_values_select(filters: Filters, scope: Scope, names: Sequence[str] = OVERVIEW_KPIS) -> Select:
    """Rows (measure, period, value): period 'current' for the filters' period and
    'comparison' for filters.comparison_filters()."""
    periods = (("current", filters), ("comparison", filters.comparison_filters()))
    parts = []
    for name in names:
        for period, period_filters in periods:
            values = measure_select(name, period_filters, scope).subquery()
            parts.append(select(_name(name).label("measure"), _name(period).label("period"), values.c.value))
    return union_all(*parts)


def kpi_targets_select(filters: Filters, scope: Scope, names: Sequence[str] = OVERVIEW_KPIS) -> Select:
    """Rows (measure, target, target_rows), one per measure; target NULL when none applies
    (see queries.metrics.target_select)."""
    parts = []
    for name in names:
        targets = target_select(name, filters, scope).subquery()
        parts.append(select(_name(name).label("measure"), targets.c.target, targets.c.target_rows))
    return union_all(*parts)


def trend_filters(filters: Filters, months: int = TREND_MONTHS) -> Filters:
    """The `months` months ending with the period's end month, same other filters (the age
    band still reads against the same end year)."""
    return replace(filters, start_month=add_months(filters.end_month, -(months - 1)))


def kpi_trends_select(
    filters: Filters, scope: Scope, names: Sequence[str] = OVERVIEW_KPIS, months: int = TREND_MONTHS
) -> Select:
    """Rows (measure, month, value): each measure for every month of the `months` months
    ending with the period's end month (a month before the data starts has value NULL for
    ratios and 0 for counts: the caller trims to the months with data)."""
    span = trend_filters(filters, months)
    parts = []
    for name in names:
        trend = measure_select(name, span, scope, by=("month",)).subquery()
        parts.append(select(_name(name).label("measure"), trend.c.month, trend.c.value))
    return union_all(*parts)


def province_map_select(name: str, filters: Filters, scope: Scope, *, keep_province_filter: bool = False) -> Select:
    """One row per province the scope allows: province_code, name_vi, name_en, macro_region,
    lat, lon, value (NULL where the measure has no data). By default the province and region
    filters are dropped so the map shows every province the user may see (the dashboard
    outlines the chosen ones); the other filters and the role scope still apply."""
    map_filters = filters if keep_province_filter else replace(filters, provinces=(), regions=())
    values = measure_select(name, map_filters, scope, by=("province_code",)).subquery()
    p = provinces.c
    conditions = []
    if scope.provinces is not None:
        conditions.append(p.province_code.in_(sorted(scope.provinces)) if scope.provinces else false())
    if keep_province_filter:
        if filters.provinces:
            conditions.append(p.province_code.in_(sorted(filters.provinces)))
        if filters.regions:
            conditions.append(p.macro_region.in_(filters.regions))
    return (
        select(p.province_code, p.name_vi, p.name_en, p.macro_region, p.lat, p.lon, values.c.value)
        .select_from(provinces.outerjoin(values, values.c.province_code == p.province_code))
        .where(and_(true(), *conditions))
        .order_by(p.province_code)
    )


def what_changed_select(
    filters: Filters,
    scope: Scope,
    names: Sequence[str] = OVERVIEW_KPIS,
    dimensions: Sequence[str] = CHANGE_DIMENSIONS,
) -> Select:
    """Rows (measure, dimension, member, current_value, comparison_value, current_base,
    comparison_base): each measure broken down by each dimension, in the period and in the
    comparison period (full outer join: a member present in one period only has NULL in the
    other). `*_base` is the measure's denominator where it has one (else NULL), so the
    dashboard can ignore swings on tiny bases. Dimensions a measure does not support are
    skipped."""
    comparison = filters.comparison_filters()
    parts = []
    for name in names:
        measure = get_measure(name)
        for dimension in dimensions:
            if dimension not in measure.dimensions:
                continue
            current = measure_select(name, filters, scope, by=(dimension,)).subquery("current")
            previous = measure_select(name, comparison, scope, by=(dimension,)).subquery("previous")
            joined = current.join(previous, current.c[dimension] == previous.c[dimension], full=True)
            parts.append(
                select(
                    _name(name).label("measure"),
                    _name(dimension).label("dimension"),
                    func.coalesce(current.c[dimension], previous.c[dimension]).label("member"),
                    current.c.value.label("current_value"),
                    previous.c.value.label("comparison_value"),
                    _base(current).label("current_base"),
                    _base(previous).label("comparison_base"),
                ).select_from(joined)
            )
    return union_all(*parts)


def _base(values):
    return values.c.denominator if "denominator" in values.c else literal(None).cast(values.c.value.type)


def overview_selects(filters: Filters, scope: Scope, map_measure: str = "churn_rate") -> dict[str, Select]:
    """Everything the Overview shows, as named selects (run them with queries.run.run_many)."""
    return {
        "kpis": kpi_values_select(filters, scope),
        "targets": kpi_targets_select(filters, scope),
        "trends": kpi_trends_select(filters, scope),
        "map": province_map_select(map_measure, filters, scope),
        "changes": what_changed_select(filters, scope),
    }
