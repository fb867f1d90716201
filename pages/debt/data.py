"""What the Debt page shows, as frames and figures, from the query layer.

Every select is built with the View's filters and scope (queries/debt.py, the measure
registry, measures_debt.debt_ageing_select) and executed through dashboard.frame.warehouse.run.
No formula lives here: only which selects to run, their labels, and which component draws them.
"""

from dataclasses import replace

import plotly.graph_objects as go
import polars as pl

from dashboard.charts.components import KpiCard
from dashboard.charts.measure_cards import DerivedMeasure, has_comparison
from dashboard.charts.multi_bar import multi_bar_figure
from dashboard.charts.pipeline import pipeline_figure
from dashboard.charts.series_lines import series_figure
from dashboard.charts.trend_window import registry_trend, trend_caption, trend_span
from dashboard.frame.session import View
from dashboard.frame.warehouse import run
from dashboard.text.code_labels import labels_of, list_labels
from dashboard.text.formatting import count_text, format_date, format_month, format_month_range
from dashboard.text.strings import t, value_label
from queries import debt as q
from queries.filters import add_months
from queries.measures_debt import debt_ageing_select
from queries.metrics import MEASURES
from queries.rules import DEBT_AGE_BUCKETS

HEADLINE_KPIS = ("outstanding_debt", "debt_90_plus", "collection_rate", "dso", "frequent_debtors")
DEBT_TREND_MONTHS = 36  # the issue: debt over three years, whatever the period filter's start
AGEING_DIMENSIONS = ("segment", "province_code", "plan")


def _derived(name: str, key: str, unit: str, direction: int) -> DerivedMeasure:
    return DerivedMeasure(
        name=name,
        label_vi=t(key, "vi"),
        label_en=t(key, "en"),
        description_vi=t(f"{key}_help", "vi"),
        description_en=t(f"{key}_help", "en"),
        unit=unit,
        direction=direction,
    )


DEBT_HELD = _derived("frequent_debtor_debt", "debt_held", "vnd", -1)
DEBT_HELD_SHARE = _derived("frequent_debtor_debt_share", "debt_held_share", "percent", -1)
CHURNED = _derived("frequent_debtors_cut_off", "debt_churned", "count", 0)


def bucket_labels(lang: str) -> dict[str, str]:
    return {label: t("days_bucket", lang, label=label.replace("-", "–")) for label, _, _ in DEBT_AGE_BUCKETS}


def nothing_selected(cards: list[KpiCard]) -> bool:
    """No bill due in the period, no debt and no debtor: the filters select no postpaid
    customer with bills (prepaid lines have none)."""
    values = {card.measure.name: card.value for card in cards}
    return (
        values.get("collection_rate") is None
        and not values.get("outstanding_debt")
        and not values.get("frequent_debtors")
    )


def nothing_due_note(view: View) -> str | None:
    """When no bill of the customers in view had fallen due by the period's last day (one
    month of data: its bills fall due the month after), the sentence that says so; None
    when bills were due and the filters simply select nobody who owes or pays."""
    first_due = run(q.first_due_select(view.filters, view.scope), view.scope)["first_due_on"][0]
    if first_due is None or first_due <= q.period_last_day(view.filters):
        return None
    return t(
        "debt_nothing_due_yet",
        view.lang,
        end=format_month(view.filters.end_month, view.lang),
        first_due=format_date(first_due, view.lang),
    )


# --- ageing --------------------------------------------------------------------------------------


def ageing_figure(view: View, dimension: str | None = None) -> go.Figure | None:
    """Debt at the period end by ageing bucket, overall (one bar per bucket) or stacked per
    member of a dimension (segment, province, plan)."""
    lang = view.lang
    by = (dimension,) if dimension else ()
    frame = run(debt_ageing_select(view.filters, view.scope, by), view.scope)
    frame = frame.filter(pl.col("age_bucket").is_not_null())
    if frame.is_empty():
        return None
    if dimension is None:
        category = pl.lit(t("page_debt", lang)).alias("category")
        title = t("debt_ageing_title", lang)
    else:
        if dimension == "province_code":
            names = {option.code: option.name(lang) for option in view.options.provinces}
        else:
            prefix = "segment" if dimension == "segment" else "plan"
            names = {code: value_label(prefix, code, lang) for code in frame[dimension].unique().to_list()}
        category = pl.col(dimension).replace_strict(names, default=pl.col(dimension)).alias("category")
        title = t(
            "debt_ageing_by", lang, dimension=t("province" if dimension == "province_code" else dimension, lang).lower()
        )
    long = frame.select(category, pl.col("age_bucket").alias("part"), "value")
    return multi_bar_figure(
        long,
        lang,
        parts=bucket_labels(lang),
        unit="vnd",
        title=title,
        stacked=True,
        horizontal=True,
        severity=True,
    )


def ageing_trend_figure(view: View) -> tuple[go.Figure | None, str]:
    """Debt at each month end by ageing bucket over the 36 months to the period end."""
    lang = view.lang
    first = max(view.options.months[0], add_months(view.filters.end_month, -(DEBT_TREND_MONTHS - 1)))
    filters = replace(view.filters, start_month=first)
    frame = run(debt_ageing_select(filters, view.scope, ("month",)), view.scope)
    frame = frame.filter(pl.col("age_bucket").is_not_null())
    months = [month for month in view.options.months if first <= month <= view.filters.end_month]
    figure = multi_bar_figure(
        frame.select(pl.col("month").alias("category"), pl.col("age_bucket").alias("part"), "value"),
        lang,
        parts=bucket_labels(lang),
        unit="vnd",
        title=t("debt_trend_title", lang),
        categories=months,
        stacked=True,
        horizontal=False,
        severity=True,
    )
    caption = t(
        "debt_trend_caption",
        lang,
        span=format_month_range(months[0], months[-1], lang),
        months=count_text("n_months", len(months), lang),
        filters=view.description,
    )
    return figure, caption


# --- collection and DSO ----------------------------------------------------------------------------


def collection_figures(view: View) -> tuple[go.Figure | None, go.Figure | None, str]:
    frame, span = registry_trend(view, ("collection_rate", "dso"))
    figures = []
    for name in ("collection_rate", "dso"):
        measure = MEASURES[name]
        rows = frame.filter(pl.col("measure") == name).select(
            "month", pl.lit(measure.label(view.lang)).alias("series"), "value"
        )
        figures.append(series_figure(rows, view.lang, unit=measure.unit, title=measure.label(view.lang), months=span))
    return figures[0], figures[1], trend_caption(view, span)


# --- block pipeline ------------------------------------------------------------------------------------


def pipeline_caption(view: View) -> str:
    return f"{t('debt_pipeline_note', view.lang)} · {view.description}"


def pipeline_figures(view: View) -> tuple[go.Figure | None, go.Figure | None, str]:
    """(customers per stage in the period, customers per stage and month over the trend span, its caption)."""
    lang = view.lang
    labels = labels_of("stage", q.BLOCK_STAGES, lang)
    stages = run(q.block_pipeline_select(view.filters, view.scope), view.scope)
    funnel = pipeline_figure(
        stages.select(pl.col("stage").replace_strict(labels).alias("label"), pl.col("customers").alias("value")),
        lang,
        title=t("debt_pipeline_title", lang),
    )
    _, span = trend_span(view)
    filters = replace(view.filters, start_month=span[0])
    monthly = run(q.block_pipeline_select(filters, view.scope, by_month=True), view.scope)
    monthly = monthly.sort("month", "stage_order").select(
        "month", pl.col("stage").replace_strict(labels).alias("series"), pl.col("customers").alias("value")
    )
    trend = series_figure(monthly, lang, unit="count", title=t("debt_pipeline_trend", lang), months=span)
    return funnel, trend, f"{t('debt_pipeline_note', lang)} · {trend_caption(view, span)}"


# --- frequent debtors ------------------------------------------------------------------------------------


def frequent_debtor_cards(view: View, outstanding: KpiCard) -> list[KpiCard]:
    """Debt the frequent debtors hold, its share of all outstanding debt (the outstanding_debt
    card's value and comparison), how many were cut off."""
    summary = run(q.frequent_debtor_summary_select(view.filters, view.scope), view.scope).row(0, named=True)
    previous = None
    if has_comparison(view):
        previous = run(q.frequent_debtor_summary_select(view.filters.comparison_filters(), view.scope), view.scope).row(
            0, named=True
        )
    share = summary["debt_held_vnd"] / outstanding.value if outstanding.value else None
    previous_share = None
    if previous and outstanding.previous:
        previous_share = previous["debt_held_vnd"] / outstanding.previous
    return [
        KpiCard(DEBT_HELD, summary["debt_held_vnd"], previous["debt_held_vnd"] if previous else None),
        KpiCard(DEBT_HELD_SHARE, share, previous_share),
        KpiCard(CHURNED, summary["churned_involuntary"], previous["churned_involuntary"] if previous else None),
    ]


def frequent_debtor_trend(view: View) -> tuple[go.Figure | None, str]:
    frame, span = registry_trend(view, ("frequent_debtors",))
    measure = MEASURES["frequent_debtors"]
    rows = frame.select("month", pl.lit(measure.label(view.lang)).alias("series"), "value")
    return series_figure(rows, view.lang, unit="count", title=measure.label(view.lang), months=span), trend_caption(
        view, span
    )


def frequent_debtor_query(view: View):
    return q.frequent_debtor_list_select(view.filters, view.scope, view.lang, list_labels(view.lang))


def largest_debtor_query(view: View):
    return q.largest_debtors_select(view.filters, view.scope, view.lang, list_labels(view.lang))


def organisations_in_view(view: View) -> bool:
    return not view.filters.segments or bool(set(view.filters.segments) & set(q.ORGANISATION_SEGMENTS))


def list_labels_for(lang: str) -> dict[str, str]:
    columns = {
        "customer_id": "col_customer_id",
        "full_name": "col_full_name",
        "phone": "col_phone",
        "province": "province",
        "segment": "segment",
        "plan": "plan",
        "late_bills": "col_late_bills",
        "debt_vnd": "col_debt_vnd",
        "debt_90_plus_vnd": "col_debt_90_plus_vnd",
        "oldest_days_past_due": "col_oldest_days",
        "unpaid_bills": "col_unpaid_bills",
        "churned_on": "col_churned_on",
        "churn_type": "col_churn_type",
        "is_key_account": "col_key_account",
    }
    return {column: t(key, lang) for column, key in columns.items()}


def money_columns(lang: str) -> dict:
    """Money in the lists with the reader's thousands separators (the file keeps raw numbers)."""
    import streamlit as st

    return {
        t(key, lang): st.column_config.NumberColumn(format="localized")
        for key in ("col_debt_vnd", "col_debt_90_plus_vnd")
    }
