"""Debt (nợ cước): who owes us — outstanding debt and its ageing, the 36-month trend,
collection and DSO, the block pipeline, frequent debtors, the largest organisation debtors."""

import streamlit as st

from dashboard.charts.chart_panel import chart_or_note
from dashboard.charts.components import kpi_cards
from dashboard.charts.measure_cards import registry_cards
from dashboard.charts.paged_list import paged_list
from dashboard.frame.section import section
from dashboard.frame.session import current_view
from dashboard.text.strings import t
from pages.debt import data


@section
def ageing_tabs() -> None:
    """Ageing by one dimension at a time: a tab is drawn when it is opened, and alone."""
    labels = [t("province" if name == "province_code" else name, lang) for name in data.AGEING_DIMENSIONS]
    tabs = st.tabs(labels, key="debt_ageing_by", on_change="rerun")
    for tab, dimension in zip(tabs, data.AGEING_DIMENSIONS, strict=True):
        if tab.open:
            with tab:
                chart_or_note(data.ageing_figure(view, dimension), caption, lang, key=f"debt_ageing_{dimension}")


view = current_view()
lang, caption = view.lang, view.description
cards = registry_cards(view, data.HEADLINE_KPIS)
if data.nothing_selected(cards):
    st.info(data.nothing_due_note(view) or t("no_data", lang, filters=caption))
    st.stop()
kpi_cards(cards, lang, view.filters.comparison, caption)

st.subheader(t("debt_ageing", lang))
chart_or_note(data.ageing_figure(view), caption, lang, key="debt_ageing")
ageing_tabs()

st.subheader(t("debt_trend", lang))
chart_or_note(*data.ageing_trend_figure(view), lang, key="debt_trend")

st.subheader(t("debt_collection", lang))
collection_figure, dso_figure, trend_caption = data.collection_figures(view)
left, right = st.columns(2)
with left:
    chart_or_note(collection_figure, trend_caption, lang, key="debt_collection_rate")
with right:
    chart_or_note(dso_figure, trend_caption, lang, key="debt_dso")

st.subheader(t("debt_pipeline", lang))
funnel, pipeline_trend, pipeline_trend_caption = data.pipeline_figures(view)
left, right = st.columns(2)
with left:
    chart_or_note(funnel, data.pipeline_caption(view), lang, key="debt_pipeline")
with right:
    chart_or_note(pipeline_trend, pipeline_trend_caption, lang, key="debt_pipeline_trend")

st.subheader(t("debt_frequent", lang))
by_name = {card.measure.name: card for card in cards}
debtor_cards = [by_name["frequent_debtors"], *data.frequent_debtor_cards(view, by_name["outstanding_debt"])]
kpi_cards(debtor_cards, lang, view.filters.comparison, caption)
chart_or_note(*data.frequent_debtor_trend(view), lang, key="debt_frequent_trend")
st.markdown(f"**{t('debt_frequent_list', lang)}**")
paged_list(
    data.frequent_debtor_query(view),
    view,
    key="debt_frequent_list",
    file_stem="frequent_debtors",
    labels=data.list_labels_for(lang),
    column_config=data.money_columns(lang),
)

st.subheader(t("debt_largest", lang))
st.caption(t("debt_largest_help", lang))
if data.organisations_in_view(view):
    paged_list(
        data.largest_debtor_query(view),
        view,
        key="debt_largest",
        file_stem="largest_debtors",
        labels=data.list_labels_for(lang),
        column_config=data.money_columns(lang),
    )
else:
    st.info(t("debt_largest_none", lang))
