"""Trends on topic pages: which months a chart over time shows, and how its caption says so.

A one-month period (the default view) makes a poor line, so a trend shows the period when
it is at least TREND_MONTHS long, else the TREND_MONTHS months ending with it, never before
the data starts; the caption then names the months shown before the filters' description.
"""

from datetime import date

import polars as pl

from dashboard.frame.session import View
from dashboard.frame.warehouse import run
from dashboard.text.formatting import format_month_range
from dashboard.text.strings import t
from queries.filters import add_months
from queries.overview import kpi_trends_select

TREND_MONTHS = 12


def trend_span(view: View, months: int = TREND_MONTHS) -> tuple[int, list[date]]:
    """The months a trend shows: the period when it is at least `months` long, else the
    `months` months ending with it; never before the data starts."""
    count = max(months, view.filters.month_count)
    first = max(view.options.months[0], add_months(view.filters.end_month, -(count - 1)))
    span = [month for month in view.options.months if first <= month <= view.filters.end_month]
    return count, span


def trend_caption(view: View, span: list[date]) -> str:
    """The filters' description, preceded by the months shown when they differ from the period."""
    if (span[0], span[-1]) == (view.filters.start_month, view.filters.end_month):
        return view.description
    return t("trend_span", view.lang, span=format_month_range(span[0], span[-1], view.lang), filters=view.description)


def registry_trend(view: View, names, months: int = TREND_MONTHS) -> tuple[pl.DataFrame, list[date]]:
    """[month, measure, value] for each measure over the trend span (one union query)."""
    count, span = trend_span(view, months)
    frame = run(kpi_trends_select(view.filters, view.scope, names, months=count), view.scope)
    return frame.filter(pl.col("month") >= span[0]), span
