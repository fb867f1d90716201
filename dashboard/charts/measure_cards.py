"""KPI cards for any list of measures: value, comparison, target and a 12-month sparkline.

The Overview builds its nine cards the same way (pages/overview/data.py); topic pages
ask for their own measures here. A *derived* figure that is not a registry KPI (a count
from a named rule, a share of two registry numbers) gets a DerivedMeasure: the same
fields the card components read (name, labels, description with the formula, unit,
direction), so it draws like any measure without pretending to be in the registry.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from dashboard.charts.components import KpiCard
from dashboard.frame.session import View
from dashboard.frame.warehouse import run
from queries.filters import add_months
from queries.metrics import MEASURES
from queries.overview import TREND_MONTHS, kpi_targets_select, kpi_trends_select, kpi_values_select


@dataclass(frozen=True)
class DerivedMeasure:
    """A figure shown like a measure but defined by the page's data module (see module doc)."""

    name: str
    label_vi: str
    label_en: str
    description_vi: str
    description_en: str
    unit: str
    direction: int

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_vi

    def description(self, language: str) -> str:
        return self.description_en if language == "en" else self.description_vi


def has_comparison(view: View) -> bool:
    """A comparison period that starts before the data would compare with zeros."""
    return view.filters.comparison_filters().start_month >= view.options.months[0]


def _value(frame: pl.DataFrame, conditions: pl.Expr) -> float | None:
    rows = frame.filter(conditions)["value"]
    return None if rows.is_empty() or rows[0] is None else float(rows[0])


def registry_cards(view: View, names: Sequence[str]) -> list[KpiCard]:
    """Cards for registry measures, in the given order. For a one-month period the value and
    the comparison are read from the monthly trend (one query instead of two)."""
    filters, scope = view.filters, view.scope
    comparison = filters.comparison_filters()
    comparison_known = has_comparison(view)
    one_month = filters.month_count == 1
    trends = run(kpi_trends_select(filters, scope, names, months=TREND_MONTHS + 1), scope)
    targets = run(kpi_targets_select(filters, scope, names), scope)
    values = None if one_month else run(kpi_values_select(filters, scope, names), scope)
    sparkline_start = max(view.options.months[0], add_months(filters.end_month, -(TREND_MONTHS - 1)))

    def period_value(name: str, period: str) -> float | None:
        if values is None:
            month = filters.end_month if period == "current" else comparison.end_month
            return _value(trends, (pl.col("measure") == name) & (pl.col("month") == month))
        return _value(values, (pl.col("measure") == name) & (pl.col("period") == period))

    cards = []
    for name in names:
        target = targets.filter(pl.col("measure") == name)["target"]
        trend = trends.filter(
            (pl.col("measure") == name) & (pl.col("month") >= sparkline_start) & pl.col("value").is_not_null()
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


def card_values(cards: Sequence[KpiCard]) -> dict[str, float | None]:
    return {card.measure.name: card.value for card in cards}
