"""The distribution of a handling time, from buckets counted in the warehouse.

frame: [low_h, high_h, value] in bucket order: hours in (low_h, high_h] (the first bucket
also holds 0; high_h NULL is open-ended). Labels read in hours below two days and in days
from there. A dashed marker can stand after the bucket that ends at a limit (the 48-hour
acknowledgement rule, an SLA target), so the bars on its right are the misses.
"""

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.axes import value_axis
from dashboard.charts.components import LINE_COLOUR, style_figure
from dashboard.charts.reference_line import REFERENCE_COLOUR
from dashboard.text.formatting import format_number
from dashboard.text.strings import t

DAY_HOURS = 24
DAYS_FROM_HOURS = 48  # at and beyond two days a bucket is labelled in days


def _amount(hours: float, lang: str) -> str:
    if hours >= DAYS_FROM_HOURS:
        return format_number(hours / DAY_HOURS, lang, 0 if hours % DAY_HOURS == 0 else 1)
    return format_number(hours, lang, 0 if float(hours).is_integer() else 1)


def _unit(hours: float, lang: str) -> str:
    return t("unit_days", lang) if hours >= DAYS_FROM_HOURS else t("unit_hours", lang)


def bucket_label(low_h: float, high_h: float | None, lang: str) -> str:
    """ "≤ 4 giờ", "4–8 giờ", "2–3 ngày", "> 30 ngày"."""
    if high_h is None:
        return f"> {_amount(low_h, lang)} {_unit(low_h, lang)}"
    if low_h <= 0:
        return f"≤ {_amount(high_h, lang)} {_unit(high_h, lang)}"
    if (low_h >= DAYS_FROM_HOURS) == (high_h >= DAYS_FROM_HOURS):
        return f"{_amount(low_h, lang)}–{_amount(high_h, lang)} {_unit(high_h, lang)}"
    return f"{_amount(low_h, lang)} {_unit(low_h, lang)} – {_amount(high_h, lang)} {_unit(high_h, lang)}"


def histogram_figure(
    frame: pl.DataFrame,
    lang: str,
    *,
    title: str,
    marker_at_h: float | None = None,
    marker_label: str = "",
) -> go.Figure | None:
    """Bars per bucket (complaints); None when no complaint falls in any bucket."""
    if frame.is_empty() or not (frame["value"].fill_null(0) != 0).any():
        return None
    labels = [bucket_label(low, high, lang) for low, high in frame.select("low_h", "high_h").iter_rows()]
    counts = frame["value"].fill_null(0).to_list()
    total = sum(counts)
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=counts,
            marker={"color": LINE_COLOUR},
            customdata=[
                f"{format_number(count, lang)} ({format_number(100 * count / total, lang, 1)}%)" for count in counts
            ],
            hovertemplate="%{x}: %{customdata}<extra></extra>",
        )
    )
    figure.update_layout(title=title, xaxis={"title": None, "type": "category"}, yaxis=value_axis("count", counts))
    if marker_at_h is not None:
        highs = frame["high_h"].to_list()
        if marker_at_h in highs:
            position = highs.index(marker_at_h) + 0.5
            figure.add_vline(
                x=position,
                line={"dash": "dash", "color": REFERENCE_COLOUR, "width": 1.5},
                annotation_text=marker_label,
                annotation_position="top right",
                annotation_font={"color": REFERENCE_COLOUR, "size": 11},
            )
    return style_figure(figure, lang)
