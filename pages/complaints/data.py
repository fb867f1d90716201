"""What the Complaints page shows, as frames and figures, from the query layer.

Every select is built with the View's filters and scope (queries/complaints.py, the
measure registry) and executed through dashboard.frame.warehouse.run (cached per data version
and scope). No formula lives here: only which selects to run, how their rows get their
labels, and which component draws them.
"""

from dataclasses import replace

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.components import KpiCard, bar_figure
from dashboard.charts.histogram import histogram_figure
from dashboard.charts.measure_cards import DerivedMeasure, has_comparison
from dashboard.charts.multi_bar import multi_bar_figure
from dashboard.charts.reference_line import add_reference
from dashboard.charts.series_lines import series_figure
from dashboard.charts.trend_window import registry_trend, trend_caption, trend_span
from dashboard.charts.value_table import value_tables
from dashboard.frame.session import View
from dashboard.frame.warehouse import run
from dashboard.text.code_labels import labels_of, list_labels
from dashboard.text.formatting import format_percent_value, format_value
from dashboard.text.strings import t, value_label
from queries import complaints as q
from queries import rules
from queries.measures_complaints import backlog_ageing_select
from queries.metrics import MEASURES, measure_select
from queries.tables import COMPLAINT_CATEGORIES, COMPLAINT_CHANNELS

HEADLINE_KPIS = (
    "complaint_count",
    "complaint_rate",
    "ack_within_48h_share",
    "resolve_time_median_h",
    "sla_share",
    "open_complaints",
)
QUALITY_KPIS = ("first_contact_resolution", "reopened_rate", "csat")
TIME_MEASURES = (
    "ack_time_median_h",
    "ack_time_p90_h",
    "ack_within_48h_share",
    "resolve_time_median_h",
    "resolve_time_p90_h",
    "sla_share",
)
ESCALATED = DerivedMeasure(
    name="escalated_share",
    label_vi=t("cx_escalated", "vi"),
    label_en=t("cx_escalated", "en"),
    description_vi=t("cx_escalated_help", "vi"),
    description_en=t("cx_escalated_help", "en"),
    unit="percent",
    direction=-1,
)
BREACHES = DerivedMeasure(
    name="sla_breaches",
    label_vi=t("cx_breach_count", "vi"),
    label_en=t("cx_breach_count", "en"),
    description_vi=t("cx_breach_count_help", "vi"),
    description_en=t("cx_breach_count_help", "en"),
    unit="count",
    direction=-1,
)


# --- shared helpers -----------------------------------------------------------------------------


def one_value(view: View, name: str, filters=None) -> float | None:
    frame = run(measure_select(name, filters or view.filters, view.scope), view.scope)
    value = frame["value"][0] if frame.height else None
    return None if value is None else float(value)


def qcvn_reference(lang: str) -> tuple[float, str]:
    """The QCVN complaint-rate threshold and its label (two decimals: 0,25%, not 0,3%)."""
    threshold = format_percent_value(rules.COMPLAINT_RATE_THRESHOLD, lang, decimals=2)
    return rules.COMPLAINT_RATE_THRESHOLD, t("cx_qcvn", lang, value=threshold)


def nothing_selected(cards: list[KpiCard]) -> bool:
    """No customer in the filtered base (no customer-months: the rate is undefined) and no
    open complaint: the filters select nothing."""
    values = {card.measure.name: card.value for card in cards}
    return values.get("complaint_rate") is None and not values.get("open_complaints")


# --- volume and rate ------------------------------------------------------------------------------


def volume_trend_figures(view: View) -> tuple[go.Figure | None, go.Figure | None, str]:
    """(complaints by month, complaint rate by month with the QCVN line, caption)."""
    frame, span = registry_trend(view, ("complaint_count", "complaint_rate"))
    figures = []
    for name in ("complaint_count", "complaint_rate"):
        measure = MEASURES[name]
        rows = frame.filter(pl.col("measure") == name).select(
            "month", pl.lit(measure.label(view.lang)).alias("series"), "value"
        )
        reference = None
        if name == "complaint_rate":
            reference = qcvn_reference(view.lang)
        figures.append(
            series_figure(
                rows, view.lang, unit=measure.unit, title=measure.label(view.lang), months=span, reference=reference
            )
        )
    return figures[0], figures[1], trend_caption(view, span)


def breakdown_figure(view: View, dimension: str) -> go.Figure | None:
    """Complaints by category or channel (counts); complaint rate by province or segment
    (the rate compares groups of different sizes) with the QCVN line."""
    lang = view.lang
    if dimension in ("category", "channel"):
        frame = run(q.complaint_volume_select(view.filters, view.scope, (dimension,)), view.scope)
        measure = MEASURES["complaint_count"]
        labels = labels_of(dimension, COMPLAINT_CATEGORIES if dimension == "category" else COMPLAINT_CHANNELS, lang)
    else:
        frame = run(measure_select("complaint_rate", view.filters, view.scope, (dimension,)), view.scope)
        frame = frame.filter(pl.col("denominator") > 0)
        measure = MEASURES["complaint_rate"]
        if dimension == "province_code":
            labels = {option.code: option.name(lang) for option in view.options.provinces}
        else:
            labels = {code: value_label("segment", code, lang) for code in frame[dimension].to_list()}
    if frame.is_empty() or not (frame["value"].fill_null(0) != 0).any():
        return None
    frame = frame.with_columns(pl.col(dimension).replace_strict(labels, default=pl.col(dimension)).alias("label"))
    dimension_label = t(f"cx_by_{'province' if dimension == 'province_code' else dimension}", lang)
    figure = bar_figure(frame.select("label", "value"), measure, lang, "label", dimension_label)
    figure.update_layout(title=f"{measure.label(lang)} — {dimension_label.lower()}")
    if measure.name == "complaint_rate":
        add_reference(figure, *qcvn_reference(lang), vertical=True)
    return figure


def category_trend_figure(view: View) -> tuple[go.Figure | None, str]:
    count, span = trend_span(view)
    filters = replace(view.filters, start_month=span[0])
    frame = run(q.complaint_volume_select(filters, view.scope, ("month", "category")), view.scope)
    labels = labels_of("category", COMPLAINT_CATEGORIES, view.lang)
    order = {code: index for index, code in enumerate(COMPLAINT_CATEGORIES)}
    frame = frame.sort(pl.col("category").replace_strict(order, default=99)).select(
        "month", pl.col("category").replace_strict(labels, default=pl.col("category")).alias("series"), "value"
    )
    figure = series_figure(frame, view.lang, unit="count", title=t("cx_category_trend", view.lang), months=span)
    return figure, trend_caption(view, span)


# --- handling times ------------------------------------------------------------------------------


def time_figures(view: View) -> tuple[go.Figure | None, str, go.Figure | None, str]:
    """(acknowledgement histogram, its caption, resolution histogram, its caption)."""
    lang = view.lang
    values = {name: one_value(view, name) for name in TIME_MEASURES}
    ack = run(q.time_distribution_select(view.filters, view.scope, "acknowledge"), view.scope)
    resolve = run(q.time_distribution_select(view.filters, view.scope, "resolve"), view.scope)
    ack_figure = histogram_figure(
        ack,
        lang,
        title=t("cx_ack_title", lang),
        marker_at_h=float(rules.ACK_TARGET_HOURS),
        marker_label=t("cx_ack_limit", lang),
    )
    resolve_figure = histogram_figure(resolve, lang, title=t("cx_resolve_title", lang))
    ack_caption = t(
        "cx_ack_summary",
        lang,
        median=format_value(values["ack_time_median_h"], "hours", lang),
        p90=format_value(values["ack_time_p90_h"], "hours", lang),
        share=format_value(values["ack_within_48h_share"], "percent", lang),
        filters=view.description,
    )
    resolve_caption = t(
        "cx_resolve_summary",
        lang,
        median=format_value(values["resolve_time_median_h"], "hours", lang),
        p90=format_value(values["resolve_time_p90_h"], "hours", lang),
        share=format_value(values["sla_share"], "percent", lang),
        filters=view.description,
    )
    return ack_figure, ack_caption, resolve_figure, resolve_caption


# --- SLA -----------------------------------------------------------------------------------------


def sla_caption(view: View) -> str:
    return t(
        "cx_sla_targets",
        view.lang,
        key_days=rules.SLA_TARGET_HOURS_KEY_ACCOUNT // 24,
        billing=rules.SLA_TARGET_HOURS_BILLING // 24,
        other=rules.SLA_TARGET_HOURS_OTHER // 24,
        filters=view.description,
    )


def sla_figure(view: View, dimension: str) -> go.Figure | None:
    """Share within SLA by category or by target group (key customers, billing, other)."""
    lang = view.lang
    frame = run(q.handling_select(view.filters, view.scope, (dimension,)), view.scope)
    if frame.is_empty():
        return None
    codes = COMPLAINT_CATEGORIES if dimension == "category" else q.SLA_CLASSES
    prefix = "category" if dimension == "category" else "sla_class"
    labels = labels_of(prefix, codes, lang)
    frame = frame.select(
        pl.col(dimension).replace_strict(labels, default=pl.col(dimension)).alias("label"),
        pl.col("sla_share").alias("value"),
    )
    measure = MEASURES["sla_share"]
    title_key = "cx_sla_title" if dimension == "category" else "cx_sla_class_title"
    figure = bar_figure(frame, measure, lang, "label", t(title_key, lang))
    figure.update_layout(title=t(title_key, lang))
    return figure


# --- backlog and breaches ---------------------------------------------------------------------------


def backlog_figure(view: View) -> go.Figure | None:
    frame = run(backlog_ageing_select(view.filters, view.scope), view.scope)
    frame = frame.filter(pl.col("age_bucket").is_not_null())
    if frame.is_empty():
        return None
    lang = view.lang
    labels = {label: t("days_bucket", lang, label=label.replace("-", "–")) for label, _, _ in rules.BACKLOG_AGE_BUCKETS}
    figure = multi_bar_figure(
        frame.select(pl.lit("").alias("category"), pl.col("age_bucket").alias("part"), "value"),
        lang,
        parts=labels,
        unit="count",
        title=t("cx_backlog_title", lang),
        stacked=False,
        horizontal=False,
        severity=True,
    )
    return figure


def open_trend_figure(view: View) -> tuple[go.Figure | None, str]:
    frame, span = registry_trend(view, ("open_complaints",))
    measure = MEASURES["open_complaints"]
    rows = frame.select("month", pl.lit(measure.label(view.lang)).alias("series"), "value")
    figure = series_figure(rows, view.lang, unit="count", title=measure.label(view.lang), months=span)
    return figure, trend_caption(view, span)


def breaches_query(view: View):
    return q.breaches_select(view.filters, view.scope, view.lang, list_labels(view.lang))


def breach_labels(lang: str) -> dict[str, str]:
    columns = {
        "complaint_id": "col_complaint_id",
        "opened_at": "col_opened_at",
        "category": "cx_category",
        "channel": "cx_channel",
        "province": "province",
        "segment": "segment",
        "full_name": "col_full_name",
        "phone": "col_phone",
        "hours_open": "col_hours_open",
        "target_hours": "col_target_hours",
        "hours_overdue": "col_hours_overdue",
        "departments_involved": "col_departments",
        "escalated": "col_escalated",
    }
    return {column: t(key, lang) for column, key in columns.items()}


def breach_columns(lang: str) -> dict:
    """How the breach list shows its times: local date and time, whole hours."""
    import streamlit as st

    labels = breach_labels(lang)
    hours = st.column_config.NumberColumn(format="%.0f")
    return {
        labels["opened_at"]: st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm"),
        labels["hours_open"]: hours,
        labels["target_hours"]: hours,
        labels["hours_overdue"]: hours,
    }


def breach_card(view: View) -> KpiCard:
    """Breaches now, against the same count at the comparison period's end."""
    value = run(q.breach_count_select(view.filters, view.scope), view.scope)["value"][0]
    previous = None
    if has_comparison(view):
        previous = run(q.breach_count_select(view.filters.comparison_filters(), view.scope), view.scope)["value"][0]
    return KpiCard(measure=BREACHES, value=value, previous=previous)


# --- handling quality --------------------------------------------------------------------------------


def escalation_card(view: View) -> KpiCard:
    current = run(q.handling_select(view.filters, view.scope), view.scope)["escalated_share"][0]
    previous = None
    if has_comparison(view):
        comparison = run(q.handling_select(view.filters.comparison_filters(), view.scope), view.scope)
        previous = comparison["escalated_share"][0]
    return KpiCard(measure=ESCALATED, value=current, previous=previous)


def department_cost(view: View) -> tuple[go.Figure | None, pl.DataFrame]:
    """(median and p90 hours by departments involved, the rows behind it)."""
    frame = run(q.department_cost_select(view.filters, view.scope), view.scope)
    if frame.is_empty():
        return None, frame
    lang = view.lang
    # Labels in plain Python (a handful of rows): no Python callback runs inside Polars (issue 13).
    labels = [t("cx_departments_n", lang, n=n) for n in frame.get_column("departments_involved").to_list()]
    frame = frame.with_columns(pl.Series("label", labels, dtype=pl.String))
    long = pl.concat(
        [
            frame.select(
                pl.col("label").alias("category"), pl.lit("median").alias("part"), pl.col("median_h").alias("value")
            ),
            frame.select(
                pl.col("label").alias("category"), pl.lit("p90").alias("part"), pl.col("p90_h").alias("value")
            ),
        ]
    )
    figure = multi_bar_figure(
        long,
        lang,
        parts={"median": t("cx_median", lang), "p90": t("cx_p90", lang)},
        unit="hours",
        title=t("cx_departments_title", lang),
        categories=frame["label"].to_list(),
        stacked=False,
        horizontal=False,
    )
    return figure, frame


def department_caption(frame: pl.DataFrame, view: View) -> str:
    """What each extra department costs, in words, then the filters."""
    if frame.is_empty() or frame["departments_involved"].min() != 1:
        return view.description
    rows = frame.filter(pl.col("departments_involved") > 1)
    items = ", ".join(
        f"{label} +{format_value(extra, 'hours', view.lang)}"
        for label, extra in rows.select("label", "extra_median_h").iter_rows()
        if extra is not None
    )
    if not items:
        return view.description
    return f"{t('cx_department_cost', view.lang, items=items)} · {view.description}"


def department_tables(frame: pl.DataFrame, lang: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    columns = [
        ("label", t("col_departments", lang), None),
        ("resolved", t("col_resolved", lang), "count"),
        ("median_h", t("col_median_h", lang), "hours"),
        ("p90_h", t("col_p90_h", lang), "hours"),
        ("extra_median_h", t("col_extra_median_h", lang), "hours"),
        ("sla_share", t("col_sla_share", lang), "percent"),
        ("escalated_share", t("col_escalated_share", lang), "percent"),
        ("reopened_share", t("col_reopened", lang), "percent"),
        ("csat", t("col_csat", lang), "score"),
    ]
    return value_tables(frame, columns, lang)
