"""Several lines over months in one chart (one per category, channel, stage, or a single
measure), values formatted in the measure's unit, with an optional reference line.

frame: [month, series, value] where `series` is the label already shown to the user;
series are drawn in the order they first appear. Months without a row read 0 for counts
and money (nothing happened) and stay gaps for rates and times (not known).
"""

from collections.abc import Sequence
from datetime import date

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.axes import month_axis, value_axis
from dashboard.charts.components import style_figure
from dashboard.charts.reference_line import add_reference
from dashboard.text.formatting import format_month, format_value

PALETTE = ("#D71920", "#1A73E8", "#F29900", "#188038", "#9334E6", "#12B5CB", "#E8710A", "#5F6368", "#B31412")


def series_figure(
    frame: pl.DataFrame,
    lang: str,
    *,
    unit: str,
    title: str,
    months: Sequence[date],
    reference: tuple[float, str] | None = None,
) -> go.Figure | None:
    """None when every value is missing or zero (nothing to draw)."""
    if frame.is_empty() or not (frame["value"].fill_null(0) != 0).any():
        return None
    additive = unit in ("count", "vnd")
    figure = go.Figure()
    drawn: list[float | None] = []
    for index, series in enumerate(frame["series"].unique(maintain_order=True).to_list()):
        rows = dict(frame.filter(pl.col("series") == series).select("month", "value").iter_rows())
        values = [rows.get(month, 0.0 if additive else None) for month in months]
        drawn.extend(values)
        figure.add_trace(
            go.Scatter(
                x=list(months),
                y=values,
                mode="lines+markers",
                name=series,
                line={"color": PALETTE[index % len(PALETTE)], "width": 2},
                text=[format_month(month, lang) for month in months],
                customdata=[format_value(value, unit, lang) for value in values],
                hovertemplate=f"{series} · %{{text}}: %{{customdata}}<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        yaxis=value_axis(unit, [*drawn, *([reference[0]] if reference else [])]),
        xaxis=month_axis(months, lang),
        legend={"orientation": "h", "y": -0.15},
        showlegend=frame["series"].n_unique() > 1,
    )
    if reference is not None:
        add_reference(figure, reference[0], reference[1])
    return style_figure(figure, lang)
