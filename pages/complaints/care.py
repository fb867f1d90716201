"""What the Complaints page shows about the care channels and the remote areas: the call
centre against its 60-second target, contacts per channel, complaints per channel, and
urban, rural and remote areas side by side.

As pages/complaints/data.py: selects from queries/complaints.py and the registry, run
through dashboard.frame.warehouse.run; no formula here. care_contacts_monthly has no customer,
so its captions say that only the province and region filters apply.
"""

from dataclasses import replace

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.series_lines import series_figure
from dashboard.charts.trend_window import registry_trend, trend_caption, trend_span
from dashboard.charts.value_table import value_tables
from dashboard.frame.session import View
from dashboard.frame.warehouse import run
from dashboard.text.code_labels import labels_of
from dashboard.text.formatting import format_value
from dashboard.text.strings import t
from queries import complaints as q
from queries import rules
from queries.metrics import MEASURES, measure_select
from queries.tables import AREA_TYPES, CARE_CHANNELS, COMPLAINT_CHANNELS

AREA_MEASURES = ("complaint_rate", "resolve_time_median_h", "resolve_time_p90_h", "sla_share", "csat")


# --- care channels --------------------------------------------------------------------------------------


def care_caption(view: View) -> str:
    return f"{t('cx_care_note', view.lang)} · {view.description}"


def answer_rate_figure(view: View) -> tuple[go.Figure | None, str]:
    frame, span = registry_trend(view, ("call_answer_rate",))
    measure = MEASURES["call_answer_rate"]
    rows = frame.filter(pl.col("measure") == "call_answer_rate").select(
        "month", pl.lit(measure.label(view.lang)).alias("series"), "value"
    )
    target = format_value(rules.CALL_ANSWER_TARGET, "percent", view.lang)
    figure = series_figure(
        rows,
        view.lang,
        unit="percent",
        title=measure.label(view.lang),
        months=span,
        reference=(rules.CALL_ANSWER_TARGET, t("cx_target_line", view.lang, value=target)),
    )
    return figure, f"{t('cx_care_note', view.lang)} · {trend_caption(view, span)}"


def care_trend_figure(view: View) -> tuple[go.Figure | None, str]:
    count, span = trend_span(view)
    filters = replace(view.filters, start_month=span[0])
    frame = run(q.care_channels_select(filters, view.scope, by_month=True), view.scope)
    labels = labels_of("care", CARE_CHANNELS, view.lang)
    order = {code: index for index, code in enumerate(CARE_CHANNELS)}
    frame = frame.sort(pl.col("channel").replace_strict(order, default=99), "month").select(
        "month",
        pl.col("channel").replace_strict(labels, default=pl.col("channel")).alias("series"),
        pl.col("offered").alias("value"),
    )
    figure = series_figure(frame, view.lang, unit="count", title=t("cx_care_trend", view.lang), months=span)
    return figure, f"{t('cx_care_note', view.lang)} · {trend_caption(view, span)}"


def care_tables(view: View) -> tuple[pl.DataFrame, pl.DataFrame]:
    lang = view.lang
    frame = run(q.care_channels_select(view.filters, view.scope), view.scope)
    order = {code: index for index, code in enumerate(CARE_CHANNELS)}
    frame = frame.sort(pl.col("channel").replace_strict(order, default=99)).with_columns(
        pl.col("channel")
        .replace_strict(labels_of("care", CARE_CHANNELS, lang), default=pl.col("channel"))
        .alias("label")
    )
    columns = [
        ("label", t("col_care_channel", lang), None),
        ("offered", t("col_offered", lang), "count"),
        ("handled", t("col_handled", lang), "count"),
        ("answer_rate", t("col_answer_rate", lang), "percent"),
        ("avg_handle_s", t("col_avg_handle", lang), "seconds"),
    ]
    return value_tables(frame, columns, lang)


def channel_tables(view: View) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Complaints by channel: opened, resolved, median and p90 hours, SLA, CSAT."""
    lang = view.lang
    volume = run(q.complaint_volume_select(view.filters, view.scope, ("channel",)), view.scope)
    handling = run(q.handling_select(view.filters, view.scope, ("channel",)), view.scope)
    channels = pl.DataFrame({"channel": list(COMPLAINT_CHANNELS)})
    frame = (
        channels.join(volume.rename({"value": "complaints"}), on="channel", how="left")
        .join(handling, on="channel", how="left")
        .filter(pl.col("complaints").is_not_null() | pl.col("resolved").is_not_null())
        .with_columns(
            pl.col("channel")
            .replace_strict(labels_of("channel", COMPLAINT_CHANNELS, lang), default=pl.col("channel"))
            .alias("label")
        )
    )
    columns = [
        ("label", t("cx_channel", lang), None),
        ("complaints", t("col_complaints", lang), "count"),
        ("resolved", t("col_resolved", lang), "count"),
        ("median_h", t("col_median_h", lang), "hours"),
        ("p90_h", t("col_p90_h", lang), "hours"),
        ("sla_share", t("col_sla_share", lang), "percent"),
        ("first_contact_share", t("col_first_contact", lang), "percent"),
        ("csat", t("col_csat", lang), "score"),
    ]
    return value_tables(frame, columns, lang)


# --- remote areas ---------------------------------------------------------------------------------------


def area_tables(view: View) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Urban, rural and remote (and unknown, when some customers have it) side by side:
    complaint rate, coverage share, resolution, CSAT. Area types without data are left out."""
    lang = view.lang
    frame = pl.DataFrame({"area_type": list(AREA_TYPES)})
    for name in AREA_MEASURES:
        values = run(measure_select(name, view.filters, view.scope, ("area_type",)), view.scope)
        frame = frame.join(values.select("area_type", pl.col("value").alias(name)), on="area_type", how="left")
    mix = run(q.category_mix_select(view.filters, view.scope, "area_type"), view.scope)
    coverage = mix.filter(pl.col("category") == "coverage").select("area_type", pl.col("share").alias("coverage_share"))
    frame = frame.join(coverage, on="area_type", how="left").with_columns(
        pl.col("area_type")
        .replace_strict(labels_of("area", AREA_TYPES, lang), default=pl.col("area_type"))
        .alias("label")
    )
    frame = frame.filter(pl.any_horizontal(pl.col(name).is_not_null() for name in AREA_MEASURES))
    columns = [
        ("label", t("area_type", lang), None),
        ("complaint_rate", t("col_complaint_rate", lang), "percent", 2),  # against QCVN's 0,25
        ("coverage_share", t("col_coverage_share", lang), "percent"),
        ("resolve_time_median_h", t("col_median_h", lang), "hours"),
        ("resolve_time_p90_h", t("col_p90_h", lang), "hours"),
        ("sla_share", t("col_sla_share", lang), "percent"),
        ("csat", t("col_csat", lang), "score"),
    ]
    return value_tables(frame, columns, lang)
