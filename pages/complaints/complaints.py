"""Complaints: how many and how fast we resolve them — volume and rate, handling times, SLA,
backlog and breaches, handling quality, care channels, remote areas."""

import streamlit as st

from dashboard.charts.chart_panel import chart_or_note
from dashboard.charts.components import data_table, kpi_cards
from dashboard.charts.measure_cards import registry_cards
from dashboard.charts.paged_list import paged_list
from dashboard.frame.section import section
from dashboard.frame.session import current_view
from dashboard.text.strings import t
from pages.complaints import care, data

BREAKDOWNS = ("category", "channel", "province_code", "segment")


@section
def breakdown_tabs() -> None:
    """One breakdown at a time: a tab is drawn when it is opened, and alone."""
    labels = [t(f"cx_by_{'province' if name == 'province_code' else name}", lang) for name in BREAKDOWNS]
    tabs = st.tabs(labels, key="cx_breakdown", on_change="rerun")
    for tab, dimension in zip(tabs, BREAKDOWNS, strict=True):
        if tab.open:
            with tab:
                chart_or_note(data.breakdown_figure(view, dimension), caption, lang, key=f"cx_by_{dimension}")


view = current_view()
lang, caption = view.lang, view.description
cards = registry_cards(view, data.HEADLINE_KPIS)
if data.nothing_selected(cards):
    st.info(t("no_data", lang, filters=caption))
    st.stop()
kpi_cards(cards, lang, view.filters.comparison, caption)

st.subheader(t("cx_volume", lang))
count_figure, rate_figure, trend_caption = data.volume_trend_figures(view)
left, right = st.columns(2)
with left:
    chart_or_note(count_figure, trend_caption, lang, key="cx_count_trend")
with right:
    chart_or_note(rate_figure, trend_caption, lang, key="cx_rate_trend")
breakdown_tabs()
chart_or_note(*data.category_trend_figure(view), lang, key="cx_category_trend")

st.subheader(t("cx_times", lang))
ack_figure, ack_caption, resolve_figure, resolve_caption = data.time_figures(view)
left, right = st.columns(2)
with left:
    chart_or_note(ack_figure, ack_caption, lang, key="cx_ack_histogram")
with right:
    chart_or_note(resolve_figure, resolve_caption, lang, key="cx_resolve_histogram")

st.subheader(t("cx_sla", lang))
left, right = st.columns([3, 2])
with left:
    chart_or_note(data.sla_figure(view, "category"), data.sla_caption(view), lang, key="cx_sla_category")
with right:
    chart_or_note(data.sla_figure(view, "sla_class"), data.sla_caption(view), lang, key="cx_sla_class")

st.subheader(t("cx_backlog", lang))
left, right = st.columns(2)
with left:
    chart_or_note(data.backlog_figure(view), caption, lang, key="cx_backlog_ageing")
with right:
    chart_or_note(*data.open_trend_figure(view), lang, key="cx_open_trend")
kpi_cards([data.breach_card(view)], lang, view.filters.comparison, f"{t('cx_breaches_help', lang)} · {caption}")
st.markdown(f"**{t('cx_breaches', lang)}**")
paged_list(
    data.breaches_query(view),
    view,
    key="cx_breaches",
    file_stem="sla_breaches",
    labels=data.breach_labels(lang),
    column_config=data.breach_columns(lang),
)

st.subheader(t("cx_quality", lang))
quality = [*registry_cards(view, data.QUALITY_KPIS), data.escalation_card(view)]
kpi_cards(quality, lang, view.filters.comparison, caption)
department_figure, departments = data.department_cost(view)
chart_or_note(department_figure, data.department_caption(departments, view), lang, key="cx_departments")
if not departments.is_empty():
    shown, raw = data.department_tables(departments, lang)
    data_table(shown, lang, caption, "complaints_by_departments", key="cx_departments_table", download=raw)

st.subheader(t("cx_care", lang))
left, right = st.columns(2)
with left:
    chart_or_note(*care.answer_rate_figure(view), lang, key="cx_answer_rate")
with right:
    chart_or_note(*care.care_trend_figure(view), lang, key="cx_care_trend")
st.markdown(f"**{t('cx_care_table', lang)}**")
shown, raw = care.care_tables(view)
data_table(shown, lang, care.care_caption(view), "care_channels", key="cx_care_table", download=raw)
st.markdown(f"**{t('cx_channel_table', lang)}**")
shown, raw = care.channel_tables(view)
data_table(shown, lang, caption, "complaints_by_channel", key="cx_channel_table", download=raw)

st.subheader(t("cx_remote", lang))
shown, raw = care.area_tables(view)
data_table(shown, lang, caption, "complaints_by_area", key="cx_area_table", download=raw)
