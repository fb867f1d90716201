"""A pipeline as counts per stage, in stage order (the non-payment blocks: one-way,
two-way, terminated): one bar per stage, widest first, each labelled with its count.

Stages are not a strict funnel (a customer blocked two ways this month may have been
blocked one way last month), so no "% of the previous stage" is claimed.

frame: [label, value] in stage order.
"""

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.components import style_figure
from dashboard.charts.multi_bar import SEVERITY_COLOURS
from dashboard.text.formatting import format_number


def pipeline_figure(frame: pl.DataFrame, lang: str, *, title: str) -> go.Figure | None:
    """None when no stage has anything."""
    if frame.is_empty() or not (frame["value"].fill_null(0) != 0).any():
        return None
    counts = frame["value"].fill_null(0).to_list()
    texts = [format_number(count, lang) for count in counts]
    figure = go.Figure(
        go.Funnel(
            y=frame["label"].to_list(),
            x=counts,
            text=texts,
            textinfo="text",
            marker={"color": [SEVERITY_COLOURS[1 + index % 3] for index in range(len(counts))]},
            hovertemplate="%{y}: %{text}<extra></extra>",
            connector={"visible": False},
        )
    )
    figure.update_layout(title=title, yaxis={"title": None})
    return style_figure(figure, lang, height=260)
