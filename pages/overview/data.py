"""The numbers the Overview shows, from the query layer (queries/overview.py).

Every select is built with the View's filters and scope and executed through
dashboard.frame.warehouse.run (cached per data version and scope). No formula lives here:
only which selects to run and how their rows become cards, map bubbles and movements.
"""

import polars as pl

from dashboard.charts.components import KpiCard
from dashboard.frame.session import View
from dashboard.frame.warehouse import run
from queries.filters import add_months
from queries.metrics import MEASURES
from queries.overview import (
    OVERVIEW_KPIS,
    TREND_MONTHS,
    kpi_targets_select,
    kpi_trends_select,
    kpi_values_select,
    province_map_select,
    what_changed_select,
)

MAP_MEASURES = OVERVIEW_KPIS
DEFAULT_MAP_MEASURE = "churn_rate"
SIZE_MEASURE = "active_customers"  # bubble size on the map
# "What changed" looks at these (ARPU's moves mostly echo revenue's, and cost a scan).
CHANGE_MEASURES = tuple(name for name in OVERVIEW_KPIS if name != "arpu")


def has_comparison(view: View) -> bool:
    """A comparison period that starts before the data would compare with zeros."""
    return view.filters.comparison_filters().start_month >= view.options.months[0]


def kpi_cards(view: View) -> list[KpiCard]:
    """The nine cards. For a one-month period (the default view) the value and the comparison
    are read from the monthly trend, which holds both months: one query instead of two."""
    filters, scope = view.filters, view.scope
    first_month = view.options.months[0]
    comparison = filters.comparison_filters()
    comparison_known = has_comparison(view)
    one_month = filters.month_count == 1
    # 13 months: the 12 of the sparkline plus, for "same month last year", the comparison.
    trends = run(kpi_trends_select(filters, scope, months=TREND_MONTHS + 1), scope)
    targets = run(kpi_targets_select(filters, scope), scope)
    values = None if one_month else run(kpi_values_select(filters, scope), scope)

    def trend_value(name: str, month) -> float | None:
        rows = trends.filter((pl.col("measure") == name) & (pl.col("month") == month))["value"]
        return None if rows.is_empty() or rows[0] is None else float(rows[0])

    def period_value(name: str, period: str) -> float | None:
        if values is None:
            return trend_value(name, filters.end_month if period == "current" else comparison.end_month)
        rows = values.filter((pl.col("measure") == name) & (pl.col("period") == period))["value"]
        return None if rows.is_empty() or rows[0] is None else float(rows[0])

    sparkline_start = add_months(filters.end_month, -(TREND_MONTHS - 1))
    cards = []
    for name in OVERVIEW_KPIS:
        target = targets.filter(pl.col("measure") == name)["target"]
        trend = trends.filter(
            (pl.col("measure") == name)
            & (pl.col("month") >= max(first_month, sparkline_start))
            & pl.col("value").is_not_null()
        ).sort("month")["value"]
        cards.append(
            KpiCard(
                measure=MEASURES[name],
                value=period_value(name, "current"),
                previous=period_value(name, "comparison") if comparison_known else None,
                target=None if target.is_empty() or target[0] is None else float(target[0]),
                trend=tuple(float(value) for value in trend),
            )
        )
    return cards


def selects_nothing(cards: list[KpiCard]) -> bool:
    """No customer in the filtered base at the period end and no revenue in the period."""
    values = {card.measure.name: card.value for card in cards}
    return not values.get("active_customers") and not values.get("revenue")


def map_frame(view: View, measure_name: str) -> pl.DataFrame:
    """[province_code, value, size]: the chosen KPI and the active customers per province
    (every province the scope allows; the chosen ones are outlined, not filtered out)."""
    values = run(province_map_select(measure_name, view.filters, view.scope), view.scope)
    sizes = run(province_map_select(SIZE_MEASURE, view.filters, view.scope), view.scope)
    return values.select("province_code", "value").join(
        sizes.select("province_code", pl.col("value").alias("size")), on="province_code", how="left"
    )


def movements_frame(view: View) -> pl.DataFrame | None:
    """Each KPI by province and by segment, in the period and the comparison period; None
    when the comparison period starts before the data (there is nothing to compare with)."""
    if not has_comparison(view):
        return None
    return run(what_changed_select(view.filters, view.scope, names=CHANGE_MEASURES), view.scope)
