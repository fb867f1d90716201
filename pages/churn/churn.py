"""Churn: how many leave and how fast, to which competitor, why, who stays; win-back and debt."""

import streamlit as st

from dashboard.charts.components import breakdown_bar, data_table, kpi_cards, trend_line
from dashboard.charts.flow_chart import flow_chart
from dashboard.charts.heatmap import heatmap
from dashboard.charts.series_chart import series_chart
from dashboard.frame.section import section
from dashboard.frame.session import current_view
from dashboard.text.formatting import format_month
from dashboard.text.labels import dimension_label, member_label
from dashboard.text.strings import t
from pages.churn import data
from queries.metrics import MEASURES


@section
def flow_section() -> None:
    """Where the leavers went, from the breakdown the radio picks: reruns alone."""
    source = st.radio(
        t("churn_flow_from", lang),
        data.FLOW_SOURCES,
        horizontal=True,
        key="churn_flow_from",
        format_func=lambda name: dimension_label(name, lang),
    )
    flow_chart(
        data.flow_frame(view, source),
        lang,
        t("churn_flow_title", lang, source=dimension_label(source, lang).lower()),
        caption,
        key="churn_flow",
        source_label=lambda member: member_label(source, member, view),
        target_label=lambda code: data.competitor_label(code, lang),
    )


view = current_view()
lang, caption = view.lang, view.description
cards = data.kpi_cards(view)
if data.selects_nothing(cards):
    st.info(t("no_data", lang, filters=caption))
    st.stop()
kpi_cards(cards, lang, view.filters.comparison, caption)
wider = data.trend_caption(view)

st.subheader(t("churn_by_plan_type", lang))
plan_types = data.plan_type_frame(view, cards)
data_table(
    data.plan_type_table(plan_types, lang),
    lang,
    caption,
    "churn_by_plan_type",
    key="churn_plan_type",
    download=plan_types,
)

st.subheader(t("churn_trend", lang))
left, right = st.columns(2)
with left:
    series_chart(
        data.churn_trend_frame(view),
        "percent",
        lang,
        t("churn_trend_title", lang),
        data.churn_series_labels(lang),
        wider,
        key="churn_trend",
        target=data.target_trend_frame(view),
    )
with right:
    series_chart(
        data.plan_trend_frame(view),
        "percent",
        lang,
        t("churn_plan_trend_title", lang),
        data.plan_series_labels(lang),
        wider,
        key="churn_plan_trend",
    )

st.subheader(t("churn_ports", lang))
left, right = st.columns(2)
with left:
    series_chart(
        data.competitor_trend_frame(view),
        "count",
        lang,
        t("churn_port_outs_by_competitor", lang),
        data.competitor_series_labels(lang),
        wider,
        key="churn_competitor_trend",
        kind="bar",
    )
with right:
    series_chart(
        data.port_trend_frame(view),
        "count",
        lang,
        t("churn_port_trend_title", lang),
        data.port_series_labels(lang),
        wider,
        key="churn_port_trend",
    )
left, right = st.columns(2)
with left:
    flow_section()
with right:
    balance = data.port_balance_frame(view)
    st.markdown(f"**{t('churn_port_balance', lang)}**")
    data_table(
        data.port_balance_table(balance, lang), lang, caption, "port_balance", key="churn_balance", download=balance
    )

st.subheader(t("churn_reasons", lang))
breakdown_bar(
    data.reasons_frame(view),
    MEASURES["churned_customers"],
    lang,
    "label",
    t("reason", lang),
    caption,
    key="churn_reasons",
)

st.subheader(t("churn_who", lang))
for row in (data.WHO_DIMENSIONS[:2], data.WHO_DIMENSIONS[2:]):
    for column, dimension in zip(st.columns(2), row, strict=True):
        with column:
            breakdown_bar(
                data.churn_by_frame(view, dimension),
                MEASURES["churn_rate"],
                lang,
                "label",
                dimension_label(dimension, lang),
                caption,
                key=f"churn_by_{dimension}",
            )

st.subheader(t("churn_cohorts", lang))
if not data.cohorts_readable(view):
    st.info(data.cohort_note(view))
    st.caption(wider)
else:
    left, right = st.columns(2)
    with left:
        heatmap(
            data.cohort_frame(view),
            "cohort",
            "months_after",
            "percent",
            1,
            lang,
            t("churn_cohort_title", lang),
            wider,
            key="churn_cohorts",
            row_label=lambda month: format_month(month, lang),
            row_title=t("cohort", lang),
            column_title=t("months_after", lang),
        )
    with right:
        series_chart(
            data.survival_frame(view),
            "percent",
            lang,
            t("churn_survival_title", lang),
            data.segment_series_labels(lang),
            data.survival_caption(view),
            key="churn_survival",
            x="months_after",
            x_title=t("months_after", lang),
        )

st.subheader(t("churn_debt", lang))
kpi_cards(data.debt_cards(view), lang, view.filters.comparison, caption)
left, right = st.columns(2)
with left:
    trend_line(data.winback_trend_frame(view), MEASURES["winback_rate"], lang, wider, key="churn_winback")
with right:
    series_chart(
        data.port_requests_frame(view),
        "count",
        lang,
        t("churn_port_requests", lang),
        data.port_requests_labels(lang),
        wider,
        key="churn_port_requests",
        kind="bar",
    )
