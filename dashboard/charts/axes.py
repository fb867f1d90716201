"""The axes the charts share: months on a time axis, and values from zero.

Left to itself Plotly reads a single month as a point in time and labels the milliseconds
around it ("23:59:59.999 … 00:00:00.0005"), and spreads two months over weekly ticks. A chart
over months therefore gets its ticks on the months themselves, labelled as the dashboard
writes a month (T10/2026, Oct 2026), with half a month of room either side: one month of
data draws one labelled point (or bar) in the middle of the chart.

Plotly also centres a single value, or a row of zeros, on the middle of its axis (a churn
rate axis from −50 % to 100 %). A value axis whose values cannot be below zero — counts,
money, rates — starts at 0 and stops a little above the largest value; only values that do
go below zero (net port, net adds) give the axis a negative side.
"""

import math
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from dashboard.text.formatting import format_month

MAX_MONTH_TICKS = 12  # beyond this many months, label every 2nd, 3rd … month (the latest always)
MONTH_MARGIN = timedelta(days=15)  # room either side of the first and the last month
# Bars over months are this wide (Plotly measures a date axis in milliseconds; a lone bar
# would otherwise be one millisecond wide).
MONTH_BAR_WIDTH_MS = 20 * 24 * 3600 * 1000
HEADROOM = 1.1  # the value axis ends 10 % above the largest value
# The axis reaches at least this high, so that zeros or tiny values still get readable ticks
# (ticks of 0.00 % … 0.01 % would all read "0,0%"): 1 % for a rate, 1 for the rest.
SMALLEST_TOP = {"percent": 0.01}
FULL_SHARE_TOP = 1.05


def axis_format(unit: str) -> dict:
    """Plotly tick format for a unit (values are raw: fractions, VND, counts)."""
    if unit == "percent":
        return {"tickformat": ".1%"}
    if unit in ("points", "hours", "days", "score"):
        return {"tickformat": ",.1f"}
    return {"tickformat": ",.0f"}


def month_ticks(months: Iterable[date]) -> list[date]:
    """The months that carry a label: all of them up to MAX_MONTH_TICKS, else every k-th
    counted back from the latest (so the latest month is always named)."""
    ordered = sorted(set(months))
    step = max(1, math.ceil(len(ordered) / MAX_MONTH_TICKS))
    return ordered[::-1][::step][::-1]


def month_axis(months: Iterable[date], lang: str, *, title: str | None = None) -> dict:
    """A date axis labelled by month over `months` (first days of months)."""
    ordered = sorted(set(months))
    if not ordered:
        return {"title": title}
    ticks = month_ticks(ordered)
    return {
        "title": title,
        "type": "date",
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [format_month(month, lang) for month in ticks],
        "range": [ordered[0] - MONTH_MARGIN, ordered[-1] + MONTH_MARGIN],
    }


def count_axis(positions: Iterable[int], *, title: str | None = None) -> dict:
    """An axis of whole numbers (months after activation): a tick on each, or every 3rd when
    there are many, never a tick between two whole numbers."""
    ordered = sorted(set(positions))
    return {
        "title": title,
        "tickmode": "linear",
        "tick0": 0,
        "dtick": 1 if len(ordered) <= MAX_MONTH_TICKS else 3,
        "range": [ordered[0] - 0.5, ordered[-1] + 0.5] if ordered else None,
    }


def value_axis(unit: str, values: Iterable[float | None]) -> dict:
    """axis_format plus the range: [0, a little above the largest value] when no value is
    below zero (the axis of a rate never shows a negative rate), else Plotly's own range
    made to include 0. For stacked bars pass the stacks' totals."""
    known = [float(value) for value in values if value is not None and not math.isnan(value)]
    axis = axis_format(unit)
    if known and min(known) < 0:
        return {**axis, "rangemode": "tozero"}
    top = max(known, default=0.0)
    upper = max(top * HEADROOM, SMALLEST_TOP.get(unit, 1.0))
    if unit == "percent" and top <= 1:
        upper = min(upper, FULL_SHARE_TOP)  # a share near 100 % needs no room up to 110 %
    return {**axis, "range": [0, upper]}


def stacked_totals(rows: Sequence[tuple[object, float | None]]) -> list[float]:
    """Totals of stacked bars: the positive values at each position summed (a stack of
    positives), and so the negatives (Plotly stacks them below zero)."""
    up: dict[object, float] = {}
    down: dict[object, float] = {}
    for position, value in rows:
        if value is None or math.isnan(value):
            continue
        side = up if value >= 0 else down
        side[position] = side.get(position, 0.0) + value
    return [*up.values(), *down.values()]
