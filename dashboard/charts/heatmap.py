"""A heat map of a rate over two axes (e.g. activation cohort × months since activation).

frame: [row column, column column, value]; rows and columns are drawn in sorted order
(months top to bottom, oldest first). Cells without a value stay blank: a young cohort
cannot be observed for many months. Colour runs from red (low) to green (high) for a
rate where up is good, reversed when down is good.
"""

from collections.abc import Callable

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.charts.axes import MAX_MONTH_TICKS
from dashboard.charts.components import style_figure
from dashboard.charts.province_map import colour_scale
from dashboard.text.formatting import format_value


def heatmap_figure(
    frame: pl.DataFrame,
    row: str,
    column: str,
    unit: str,
    direction: int,
    lang: str,
    title: str,
    *,
    row_label: Callable[[object], str] = str,
    row_title: str = "",
    column_title: str = "",
) -> go.Figure:
    rows = sorted(frame[row].unique().to_list())
    columns = sorted(frame[column].unique().to_list())
    lookup = {(item[row], item[column]): item["value"] for item in frame.iter_rows(named=True)}
    z = [[lookup.get((r, c)) for c in columns] for r in rows]
    text = [[format_value(value, unit, lang) if value is not None else "" for value in line] for line in z]
    row_names = [row_label(r) for r in rows]
    figure = go.Figure(
        go.Heatmap(
            z=[[value if value is not None else None for value in line] for line in z],
            x=columns,
            y=row_names,
            text=text,
            colorscale=colour_scale(direction),
            hovertemplate=f"{row_title} %{{y}} · {column_title} %{{x}}: %{{text}}<extra></extra>",
            colorbar={"thickness": 12, "tickformat": ".0%" if unit == "percent" else ",.0f"},
            xgap=1,
            ygap=1,
        )
    )
    figure.update_layout(
        title=title,
        # a tick on every column of a short heat map, every third on a wide one
        xaxis={"title": column_title, "dtick": 1 if len(columns) <= MAX_MONTH_TICKS else 3},
        yaxis={"title": None, "autorange": "reversed", "type": "category"},
    )
    return style_figure(figure, lang, height=max(360, 60 + 16 * len(rows)))


def heatmap(
    frame: pl.DataFrame,
    row: str,
    column: str,
    unit: str,
    direction: int,
    lang: str,
    title: str,
    caption: str,
    *,
    key: str,
    row_label: Callable[[object], str] = str,
    row_title: str = "",
    column_title: str = "",
) -> None:
    figure = heatmap_figure(
        frame,
        row,
        column,
        unit,
        direction,
        lang,
        title,
        row_label=row_label,
        row_title=row_title,
        column_title=column_title,
    )
    st.plotly_chart(figure, key=key, config={"displaylogo": False})
    st.caption(caption)
