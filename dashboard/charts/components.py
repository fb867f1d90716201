"""Shared drawing blocks: KPI cards, trend line, breakdown bar, table with downloads.

Every block is driven by a measure from the registry (label, unit, direction) and is
captioned with the human description of the active filters, so pages only say what
to show. Figures are built by plain functions (testable without Streamlit); the
functions that draw them take a `key` when the element is interactive.
"""

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.access.exports import audited
from dashboard.charts.axes import month_axis, value_axis
from dashboard.charts.spreadsheet_cells import csv_bytes
from dashboard.frame.session import published_view
from dashboard.text.formatting import format_delta, format_month, format_value
from dashboard.text.strings import t
from queries.rules import RAG_AMBER_BAND, RAG_AMBER_BAND_POINTS

# A coloured dot in the card label: plain text (no emoji font needed), coloured by Streamlit.
RAG_MARKS = {"green": ":green[●]", "amber": ":orange[●]", "red": ":red[●]"}
# Within this share of the target (on the wrong side) a KPI is amber, not red; NPS and other
# point scales sit near zero, where a relative band means nothing. Named settings: queries/rules.py.
AMBER_BAND = RAG_AMBER_BAND
AMBER_BAND_POINTS = RAG_AMBER_BAND_POINTS
CARDS_PER_ROW = 3
COMPACT_FROM = 10_000_000  # money and counts this big show as "642,9 triệu ₫" on a card
# Differences of two flows: their change reads in units, never as a percentage.
ABSOLUTE_DELTA_MEASURES = frozenset({"net_adds", "net_port"})
CHART_HEIGHT = 320
GOOD_COLOUR = "#1E8E3E"
BAD_COLOUR = "#D93025"
LINE_COLOUR = "#D71920"  # the theme's primary colour
COMPARE_COLOUR = "#9AA0A6"


def measure_label(measure, lang: str) -> str:
    return measure.label_en if lang == "en" else measure.label_vi


def measure_description(measure, lang: str) -> str:
    return measure.description_en if lang == "en" else measure.description_vi


@dataclass(frozen=True)
class KpiCard:
    measure: object  # queries.metrics.Measure
    value: float | None
    previous: float | None
    target: float | None = None
    trend: tuple[float, ...] = ()  # the last 12 months, oldest first


def delta_style(value: float | None, previous: float | None, direction: int) -> tuple[str, str]:
    """(arrow, colour) for st.metric: the arrow follows the change, the colour whether it is good."""
    if value is None or previous is None or value == previous:
        return "off", "gray"
    arrow = "up" if value > previous else "down"
    if direction == 0:
        return arrow, "gray"
    good = (value > previous) == (direction > 0)
    return arrow, "green" if good else "red"


def rag_status(value: float | None, target: float | None, direction: int, unit: str) -> str | None:
    """Red/amber/green against a target; None when there is no target or no direction."""
    if value is None or target is None or direction == 0:
        return None
    shortfall = (target - value) * direction  # > 0: on the wrong side of the target
    if shortfall <= 0:
        return "green"
    band = AMBER_BAND_POINTS if unit == "points" else abs(target) * AMBER_BAND
    return "amber" if shortfall <= band else "red"


def delta_text(measure, value: float | None, previous: float | None, lang: str) -> str | None:
    """The change shown on a card, in the table and in "what changed"."""
    relative = measure.name not in ABSOLUTE_DELTA_MEASURES
    return format_delta(value, previous, measure.unit, lang, relative=relative)


def card_value(value: float | None, unit: str, lang: str) -> str:
    """The big number of a card: compact when it would not fit (revenue, debt)."""
    compact = value is not None and abs(value) >= COMPACT_FROM
    return format_value(value, unit, lang, compact=compact)


def _card_help(card: KpiCard, lang: str, status: str | None) -> str:
    lines = [measure_description(card.measure, lang)]
    if card.target is not None:
        line = f"{t('target', lang)}: {format_value(card.target, card.measure.unit, lang)}"
        if status:
            line += f" — {t(f'rag_{status}', lang)}"
        lines.append(line)
    return "\n\n".join(lines)


def kpi_cards(cards: Sequence[KpiCard], lang: str, comparison: str, caption: str) -> None:
    """A row (or rows) of KPI cards: value, delta vs comparison, RAG mark, 12-month sparkline."""
    delta_note = t(f"comparison_{comparison}_short", lang)
    for start in range(0, len(cards), CARDS_PER_ROW):
        columns = st.columns(CARDS_PER_ROW)
        for column, card in zip(columns, cards[start : start + CARDS_PER_ROW], strict=False):
            measure = card.measure
            arrow, colour = delta_style(card.value, card.previous, measure.direction)
            status = rag_status(card.value, card.target, measure.direction, measure.unit)
            delta = delta_text(measure, card.value, card.previous, lang)
            with column:
                label = measure_label(measure, lang)
                st.metric(
                    label=f"{label} {RAG_MARKS[status]}" if status else label,
                    value=card_value(card.value, measure.unit, lang),
                    delta=delta,
                    delta_color=colour,
                    delta_arrow=arrow,
                    delta_description=delta_note if delta else t("no_comparison", lang),
                    help=_card_help(card, lang, status),
                    chart_data=list(card.trend) if card.trend else None,
                    chart_type="area",
                    border=True,
                )
    st.caption(caption)


def style_figure(figure: go.Figure, lang: str, height: int = CHART_HEIGHT) -> go.Figure:
    """Locale separators (1.234,5 in Vietnamese), compact margins, no web fonts."""
    figure.update_layout(
        separators=",." if lang == "vi" else ".,",
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        hovermode="closest",
    )
    return figure


def trend_figure(frame: pl.DataFrame, measure, lang: str, month_column: str = "month") -> go.Figure:
    """One line of a measure by month; frame has [month_column, value]."""
    months: list[date] = frame[month_column].to_list()
    values = frame["value"].to_list()
    figure = go.Figure(
        go.Scatter(
            x=months,
            y=values,
            mode="lines+markers",
            line={"color": LINE_COLOUR, "width": 2},
            text=[format_month(month, lang) for month in months],
            customdata=[format_value(value, measure.unit, lang) for value in values],
            hovertemplate="%{text}: %{customdata}<extra></extra>",
            name=measure_label(measure, lang),
        )
    )
    figure.update_layout(
        title=measure_label(measure, lang),
        yaxis=value_axis(measure.unit, values),
        xaxis=month_axis(months, lang),
    )
    return style_figure(figure, lang)


def trend_line(frame: pl.DataFrame, measure, lang: str, caption: str, *, key: str) -> None:
    st.plotly_chart(trend_figure(frame, measure, lang), key=key, config={"displaylogo": False})
    st.caption(caption)


def bar_figure(frame: pl.DataFrame, measure, lang: str, label_column: str, dimension_label: str) -> go.Figure:
    """Horizontal bars of a measure by a dimension, largest first; frame has [label_column, value]."""
    ordered = frame.sort("value", descending=True, nulls_last=True)
    values = ordered["value"].to_list()
    labels = ordered[label_column].to_list()
    figure = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker={"color": LINE_COLOUR},
            customdata=[format_value(value, measure.unit, lang) for value in values],
            hovertemplate="%{y}: %{customdata}<extra></extra>",
        )
    )
    title = t("breakdown_by", lang, measure=measure_label(measure, lang), dimension=dimension_label.lower())
    figure.update_layout(
        title=title,
        xaxis=value_axis(measure.unit, values),
        yaxis={"autorange": "reversed", "title": None},
    )
    return style_figure(figure, lang, height=max(CHART_HEIGHT, 60 + 22 * len(labels)))


def breakdown_bar(
    frame: pl.DataFrame, measure, lang: str, label_column: str, dimension_label: str, caption: str, *, key: str
) -> None:
    figure = bar_figure(frame, measure, lang, label_column, dimension_label)
    st.plotly_chart(figure, key=key, config={"displaylogo": False})
    st.caption(caption)


def excel_bytes(frame: pl.DataFrame, sheet: str = "data") -> bytes:
    buffer = io.BytesIO()
    frame.write_excel(buffer, worksheet=sheet[:31], autofit=True)
    return buffer.getvalue()


def data_table(
    frame: pl.DataFrame,
    lang: str,
    caption: str,
    file_stem: str,
    *,
    key: str,
    labels: Mapping[str, str] | None = None,
    download: pl.DataFrame | None = None,
) -> None:
    """A table with CSV and Excel downloads (of `download`, else of what is shown).

    The frame is already scoped: a download never holds more than the user may see.
    Pass `download` when the table shows formatted text and the file should carry the
    raw numbers (a spreadsheet computes with them). Each download writes an `export`
    line to the audit log (dashboard/access/exports.py) with the user and filters of the page.
    """

    renames = {column: label for column, label in (labels or {}).items() if column in frame.columns}
    shown = frame.rename(renames)
    exported = shown if download is None else download
    # Files are made on click, outside the run: the audit line's user and filters are taken now.
    view = published_view()
    st.dataframe(shown, hide_index=True, key=f"{key}_table")
    st.caption(caption)
    left, right = st.columns(2)
    with left:
        st.download_button(
            t("download_csv", lang),
            data=audited(view, lambda: csv_bytes(exported), fmt="csv", file_stem=file_stem, rows=exported.height),
            file_name=f"{file_stem}.csv",
            mime="text/csv",
            key=f"{key}_csv",
            on_click="ignore",
        )
    with right:
        st.download_button(
            t("download_excel", lang),
            data=audited(
                view, lambda: excel_bytes(exported, file_stem), fmt="xlsx", file_stem=file_stem, rows=exported.height
            ),
            file_name=f"{file_stem}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{key}_xlsx",
            on_click="ignore",
        )


def kpi_frames(cards: Sequence[KpiCard], lang: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(shown, download) for the KPI table: formatted text for reading, raw numbers for files."""
    rows = []
    for card in cards:
        measure = card.measure
        status = rag_status(card.value, card.target, measure.direction, measure.unit)
        rows.append(
            {
                "measure": measure.name,
                "label": measure_label(measure, lang),
                "unit": measure.unit,
                "value": card.value,
                "comparison": card.previous,
                "change": delta_text(measure, card.value, card.previous, lang) or "",
                "target": card.target,
                "status": t(f"rag_{status}", lang) if status else "",
            }
        )
    raw = pl.DataFrame(
        rows,
        schema={
            "measure": pl.String,
            "label": pl.String,
            "unit": pl.String,
            "value": pl.Float64,
            "comparison": pl.Float64,
            "change": pl.String,
            "target": pl.Float64,
            "status": pl.String,
        },
    )
    shown = pl.DataFrame(
        {
            t("indicator", lang): [row["label"] for row in rows],
            t("this_period", lang): [format_value(row["value"], row["unit"], lang) for row in rows],
            t("comparison_period", lang): [format_value(row["comparison"], row["unit"], lang) for row in rows],
            t("change", lang): [row["change"] for row in rows],
            t("target", lang): [
                format_value(row["target"], row["unit"], lang) if row["target"] is not None else "" for row in rows
            ],
            t("assessment", lang): [row["status"] for row in rows],
        }
    )
    return shown, raw


def coming_soon(lang: str, caption: str) -> None:
    """Placeholder for a page whose issue has not landed: it still follows the frame."""
    st.info(t("coming_soon", lang))
    st.caption(caption)
