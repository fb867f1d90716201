"""Bars made of several parts per category: stacked (debt by ageing bucket per segment or
per month) or side by side (median and p90 hours per number of departments).

frame: [category, part, value] where `category` is the label shown on the category axis
(or a month date) and `part` a code of `parts` (code → label, in drawing order). A part
missing for a category reads 0 (counts and money) or a gap (rates and times).
"""

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.axes import MONTH_BAR_WIDTH_MS, month_axis, stacked_totals, value_axis
from dashboard.charts.components import style_figure
from dashboard.charts.reference_line import add_reference
from dashboard.text.formatting import format_month, format_value

# Calm to alarming, for parts that grow worse in order (ageing buckets); else the series palette.
SEVERITY_COLOURS = ("#F6C343", "#F29D38", "#E4572E", "#A4161A")
PART_COLOURS = ("#D71920", "#1A73E8", "#F29900", "#188038", "#9334E6", "#12B5CB")
ROW_HEIGHT = 24


def multi_bar_figure(
    frame: pl.DataFrame,
    lang: str,
    *,
    parts: Mapping[str, str],
    unit: str,
    title: str,
    categories: Sequence | None = None,
    stacked: bool = True,
    horizontal: bool = True,
    severity: bool = False,
    reference: tuple[float, str] | None = None,
) -> go.Figure | None:
    """None when nothing is above zero. `categories` fixes the order (default: by total,
    largest first, for horizontal bars; as given otherwise)."""
    if frame.is_empty() or not (frame["value"].fill_null(0) != 0).any():
        return None
    if categories is None:
        totals = frame.group_by("category", maintain_order=True).agg(pl.col("value").sum())
        if horizontal:
            totals = totals.sort("value", descending=True)
        categories = totals["category"].to_list()
    categories = list(categories)
    months = bool(categories) and hasattr(categories[0], "month") and not isinstance(categories[0], str)
    shown = [format_month(category, lang) for category in categories] if months else categories
    dates = months and not horizontal  # months run along a time axis under vertical bars
    additive = unit in ("count", "vnd")
    palette = SEVERITY_COLOURS if severity else PART_COLOURS
    figure = go.Figure()
    drawn: list[tuple[object, float | None]] = []  # (category, value) of every bar, for the value axis
    for index, (code, label) in enumerate(parts.items()):
        rows = dict(frame.filter(pl.col("part") == code).select("category", "value").iter_rows())
        values = [rows.get(category, 0.0 if additive else None) for category in categories]
        drawn.extend(zip(categories, values, strict=True))
        axis_values = {"x": values, "y": categories} if horizontal else {"x": categories, "y": values}
        if dates:
            axis_values["width"] = MONTH_BAR_WIDTH_MS
        figure.add_trace(
            go.Bar(
                **axis_values,
                name=label,
                orientation="h" if horizontal else "v",
                marker={"color": palette[index % len(palette)]},
                text=shown,
                customdata=[format_value(value, unit, lang, compact=True) for value in values],
                hovertemplate=f"%{{text}} · {label}: %{{customdata}}<extra></extra>",
                textposition="none",
            )
        )
    heights = stacked_totals(drawn) if stacked else [value for _, value in drawn]
    values_axis = value_axis(unit, [*heights, *([reference[0]] if reference else [])])
    category_axis = month_axis(categories, lang) if dates else {"title": None}
    if horizontal:
        category_axis["autorange"] = "reversed"
        figure.update_layout(xaxis=values_axis, yaxis=category_axis)
    else:
        figure.update_layout(xaxis=category_axis, yaxis=values_axis)
    figure.update_layout(
        title=title,
        barmode="stack" if stacked else "group",
        legend={"orientation": "h", "y": -0.15, "traceorder": "normal"},
    )
    if reference is not None:
        add_reference(figure, reference[0], reference[1], vertical=horizontal)
    rows = len(categories) * (1 if stacked else len(parts))
    height = (200 if rows <= 2 else max(320, 90 + ROW_HEIGHT * rows)) if horizontal else 360
    return style_figure(figure, lang, height=height)
