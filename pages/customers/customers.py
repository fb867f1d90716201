"""Customers: who they are, what they are worth, who is big, who owes, who left; the list."""

import streamlit as st

from dashboard.charts.compare_bar import grouped_bar
from dashboard.charts.components import breakdown_bar, data_table, kpi_cards
from dashboard.frame.section import section
from dashboard.frame.session import current_view
from dashboard.text.labels import dimension_label
from dashboard.text.strings import t
from pages.customers import data
from pages.customers.drill import customer_list_panel
from queries.customers import MIX_DIMENSIONS
from queries.metrics import MEASURES

view = current_view()
lang, caption = view.lang, view.description
SHARES = {name: MEASURES[name].label(lang) for name in ("customer_share", "revenue_share")}

cards = data.kpi_cards(view)
if data.selects_nothing(cards):
    st.info(t("no_data", lang, filters=caption))
    st.stop()
kpi_cards(cards, lang, view.filters.comparison, caption)


@section
def mix_section() -> None:
    dimension = st.radio(
        t("cust_mix_by", lang),
        MIX_DIMENSIONS,
        format_func=lambda name: dimension_label(name, lang),
        horizontal=True,
        key="customers_mix_by",
    )
    mix = data.mix_frame(view, dimension)
    grouped_bar(
        mix,
        "label",
        {"customers": t("this_period", lang), "customers_comparison": t("comparison_period", lang)},
        "count",
        lang,
        t("cust_mix_title", lang, dimension=dimension_label(dimension, lang).lower()),
        (t("cust_mix_services_note", lang) + " · " if dimension == "services" else "") + caption,
        key="customers_mix_chart",
        muted_last=True,
    )
    with st.expander(t("kpi_table", lang)):
        table = data.mix_table(mix, dimension, lang)
        data_table(table, lang, caption, f"customer_mix_{dimension}", key="customers_mix", download=mix)


@section
def arpu_section() -> None:
    arpu_by = st.radio(
        t("cust_arpu_by", lang),
        data.ARPU_DIMENSIONS,
        format_func=lambda name: dimension_label(name, lang),
        horizontal=True,
        key="customers_arpu_by",
    )
    arpu = data.arpu_frame(view, arpu_by)
    label = dimension_label(arpu_by, lang)
    breakdown_bar(arpu, MEASURES["arpu"], lang, "label", label, caption, key="customers_arpu")


@section
def class_section() -> None:
    by_province = data.class_by_province_frame(view)
    chosen = st.selectbox(
        t("cust_class_choose", lang),
        data.CLASS_NAMES,
        format_func=lambda name: data.class_measure(name).label(lang),
        key="customers_class",
    )
    bars = data.class_bar_frame(by_province, chosen)
    breakdown_bar(
        bars, data.class_measure(chosen), lang, "label", t("province", lang), caption, key="customers_class_chart"
    )
    with st.expander(t("cust_class_by_province", lang)):
        table = data.class_table(by_province, lang)
        data_table(table, lang, caption, "customer_classes_by_province", key="customers_classes", download=by_province)


st.subheader(t("cust_mix", lang))
mix_section()

st.subheader(t("cust_value", lang))
share_column, arpu_column = st.columns(2)
with share_column:
    segments = data.segment_value_frame(view)
    title = t("cust_share_vs_revenue", lang)
    grouped_bar(segments, "label", SHARES, "percent", lang, title, caption, key="customers_share_vs_revenue")
with arpu_column:
    arpu_section()

st.subheader(t("cust_classes", lang))
kpi_cards(data.class_cards(view), lang, view.filters.comparison, caption)
class_section()

st.subheader(t("cust_area", lang))
areas = data.area_frame(view)
chart_column, table_column = st.columns([2, 3])
with chart_column:
    title = t("cust_share_vs_revenue_area", lang)
    grouped_bar(areas, "label", SHARES, "percent", lang, title, caption, key="customers_area_chart")
with table_column:
    data_table(data.area_table(areas, lang), lang, caption, "customers_by_area", key="customers_area", download=areas)

st.subheader(t("cust_list", lang))
customer_list_panel(view, key="customers_drill")
