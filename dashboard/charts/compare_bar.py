"""Grouped horizontal bars: two or more numbers side by side for each member of a dimension.

For "this period against the comparison period" and for "customer share against revenue
share": frame has a label column and one column per bar series; `series` maps each
column to its legend, in drawing order. Values are raw and formatted per the unit.
"""

from collections.abc import Mapping

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.charts.axes import value_axis
from dashboard.charts.components import style_figure
from dashboard.charts.series_chart import PALETTE
from dashboard.text.formatting import format_value

COMPARISON_COLOUR = "#BDC1C6"


def grouped_bar_figure(
    frame: pl.DataFrame,
    label_column: str,
    series: Mapping[str, str],
    unit: str,
    lang: str,
    title: str,
    *,
    muted_last: bool = False,
) -> go.Figure:
    """Members top to bottom in the frame's order. muted_last greys the last series (the
    comparison period), so the current one stands out."""
    labels = frame[label_column].to_list()
    figure = go.Figure()
    for index, (column, legend) in enumerate(series.items()):
        values = frame[column].to_list()
        if all(value is None for value in values):
            continue  # no comparison period in the data: no empty series in the legend
        colour = COMPARISON_COLOUR if muted_last and index == len(series) - 1 else PALETTE[index % len(PALETTE)]
        figure.add_trace(
            go.Bar(
                x=values,
                y=labels,
                orientation="h",
                name=legend,
                marker={"color": colour},
                customdata=[format_value(value, unit, lang) for value in values],
                hovertemplate=f"{legend} · %{{y}}: %{{customdata}}<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        barmode="group",
        xaxis=value_axis(unit, [value for column in series for value in frame[column].to_list()]),
        yaxis={"autorange": "reversed", "title": None},
        legend={"orientation": "h", "y": -0.15},
    )
    return style_figure(figure, lang, height=max(320, 90 + 26 * len(labels) * max(1, len(series)) // 2 + 40))


def grouped_bar(
    frame: pl.DataFrame,
    label_column: str,
    series: Mapping[str, str],
    unit: str,
    lang: str,
    title: str,
    caption: str,
    *,
    key: str,
    muted_last: bool = False,
) -> None:
    figure = grouped_bar_figure(frame, label_column, series, unit, lang, title, muted_last=muted_last)
    st.plotly_chart(figure, key=key, config={"displaylogo": False})
    st.caption(caption)
