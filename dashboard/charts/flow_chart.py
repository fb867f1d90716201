"""A flow (Sankey) chart: how many go from each source (segment, region) to each target
(competitor). Plotly draws it in the browser from the figure alone: nothing is fetched.

frame: [source, target, value]; `source_label`/`target_label` turn raw values into names.
Nodes are sources on the left, targets on the right, each in first-seen order of the
frame sorted by value (largest flows on top).
"""

from collections.abc import Callable

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.charts.components import style_figure
from dashboard.charts.series_chart import PALETTE
from dashboard.text.formatting import format_value

SOURCE_COLOUR = "#5F6368"


def flow_figure(
    frame: pl.DataFrame,
    lang: str,
    title: str,
    *,
    source_label: Callable[[str], str] = str,
    target_label: Callable[[str], str] = str,
    unit: str = "count",
) -> go.Figure:
    rows = frame.filter(pl.col("value") > 0)
    sources = rows.group_by("source").agg(pl.col("value").sum()).sort(["value", "source"], descending=[True, False])
    targets = rows.group_by("target").agg(pl.col("value").sum()).sort(["value", "target"], descending=[True, False])
    source_names = sources["source"].to_list()
    target_names = targets["target"].to_list()
    index = {("s", name): position for position, name in enumerate(source_names)}
    index.update({("t", name): len(source_names) + position for position, name in enumerate(target_names)})
    node_values = [*sources["value"].to_list(), *targets["value"].to_list()]
    target_colours = {name: PALETTE[position % len(PALETTE)] for position, name in enumerate(target_names)}
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [source_label(name) for name in source_names] + [target_label(name) for name in target_names],
                "color": [SOURCE_COLOUR] * len(source_names) + [target_colours[name] for name in target_names],
                "pad": 14,
                "thickness": 16,
                "customdata": [format_value(value, unit, lang) for value in node_values],
                "hovertemplate": "%{label}: %{customdata}<extra></extra>",
            },
            link={
                "source": [index[("s", name)] for name in rows["source"].to_list()],
                "target": [index[("t", name)] for name in rows["target"].to_list()],
                "value": rows["value"].to_list(),
                "color": [_transparent(target_colours[name]) for name in rows["target"].to_list()],
                "customdata": [format_value(value, unit, lang) for value in rows["value"].to_list()],
                "hovertemplate": "%{source.label} → %{target.label}: %{customdata}<extra></extra>",
            },
        )
    )
    figure.update_layout(title=title)
    return style_figure(figure, lang, height=max(360, 40 * len(source_names) + 120))


def _transparent(colour: str, alpha: float = 0.35) -> str:
    red, green, blue = (int(colour[position : position + 2], 16) for position in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def flow_chart(
    frame: pl.DataFrame,
    lang: str,
    title: str,
    caption: str,
    *,
    key: str,
    source_label: Callable[[str], str] = str,
    target_label: Callable[[str], str] = str,
) -> None:
    figure = flow_figure(frame, lang, title, source_label=source_label, target_label=target_label)
    st.plotly_chart(figure, key=key, config={"displaylogo": False})
    st.caption(caption)
