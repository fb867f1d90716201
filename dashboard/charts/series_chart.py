"""Several series over months in one chart: lines (rates) or stacked bars (counts by group).

frame: [month, series, value], one row per month and series (or another x column, e.g.
months since activation: pass x=...); `series_labels` names and orders the series (a
series missing from it is not drawn). An optional target frame
[month, target] draws as a dashed line. Values are raw (fractions, counts, VND) and are
formatted per the unit, like every chart of the dashboard.
"""

from collections.abc import Mapping
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.charts.axes import MONTH_BAR_WIDTH_MS, count_axis, month_axis, stacked_totals, value_axis
from dashboard.charts.components import COMPARE_COLOUR, style_figure
from dashboard.text.formatting import format_month, format_value
from dashboard.text.strings import t

# A fixed palette, the theme's red first: the same series keeps its colour across charts.
PALETTE = ("#D71920", "#1A73E8", "#F29900", "#188038", "#9334E6", "#12B5CB", "#5F6368")


def series_figure(
    frame: pl.DataFrame,
    unit: str,
    lang: str,
    title: str,
    series_labels: Mapping[str, str],
    *,
    kind: str = "line",
    target: pl.DataFrame | None = None,
    x: str = "month",
    x_title: str | None = None,
) -> go.Figure:
    """kind 'line' (markers on lines) or 'bar' (stacked bars, for counts adding up to a whole)."""
    if kind not in ("line", "bar"):
        raise ValueError(f"unknown kind {kind!r}")
    figure = go.Figure()
    drawn: list[tuple[object, float | None]] = []  # (x, value) of every point drawn, for the axes
    for index, (series, label) in enumerate(series_labels.items()):
        rows = frame.filter(pl.col("series") == series).sort(x)
        if rows.is_empty():
            continue
        positions = rows[x].to_list()
        values = rows["value"].to_list()
        drawn.extend(zip(positions, values, strict=True))
        common = {
            "x": positions,
            "y": values,
            "name": label,
            "text": [_x_text(position, lang) for position in positions],
            "customdata": [format_value(value, unit, lang) for value in values],
            "hovertemplate": f"{label} · %{{text}}: %{{customdata}}<extra></extra>",
        }
        colour = PALETTE[index % len(PALETTE)]
        if kind == "bar":
            # text feeds the hover only: written on thin bars it is unreadable
            width = {"width": MONTH_BAR_WIDTH_MS} if x == "month" else {}
            figure.add_trace(go.Bar(marker={"color": colour}, textposition="none", **width, **common))
        else:
            figure.add_trace(go.Scatter(mode="lines+markers", line={"color": colour, "width": 2}, **common))
    if target is not None and not target.is_empty():
        rows = target.filter(pl.col("target").is_not_null()).sort("month")
        if not rows.is_empty():
            months = rows["month"].to_list()
            values = rows["target"].to_list()
            drawn.extend(zip(months, values, strict=True))
            label = t("target", lang)
            figure.add_trace(
                go.Scatter(
                    x=months,
                    y=values,
                    mode="lines",
                    name=label,
                    line={"color": COMPARE_COLOUR, "width": 2, "dash": "dash"},
                    text=[format_month(month, lang) for month in months],
                    customdata=[format_value(value, unit, lang) for value in values],
                    hovertemplate=f"{label} · %{{text}}: %{{customdata}}<extra></extra>",
                )
            )
    positions = [position for position, _ in drawn]
    heights = stacked_totals(drawn) if kind == "bar" else [value for _, value in drawn]
    figure.update_layout(
        title=title,
        yaxis=value_axis(unit, heights),
        xaxis=month_axis(positions, lang, title=x_title) if x == "month" else count_axis(positions, title=x_title),
        barmode="stack" if kind == "bar" else None,
        legend={"orientation": "h", "y": -0.3 if x_title else -0.15},
    )
    return style_figure(figure, lang, height=360)


def _x_text(position, lang: str) -> str:
    return format_month(position, lang) if isinstance(position, date) else str(position)


def series_chart(
    frame: pl.DataFrame,
    unit: str,
    lang: str,
    title: str,
    series_labels: Mapping[str, str],
    caption: str,
    *,
    key: str,
    kind: str = "line",
    target: pl.DataFrame | None = None,
    x: str = "month",
    x_title: str | None = None,
) -> None:
    figure = series_figure(frame, unit, lang, title, series_labels, kind=kind, target=target, x=x, x_title=x_title)
    st.plotly_chart(figure, key=key, config={"displaylogo": False})
    st.caption(caption)
