"""Overview for executives: KPI cards, the province map, what changed."""

import streamlit as st

from dashboard.charts.components import data_table, kpi_cards, kpi_frames
from dashboard.charts.province_map import map_panel
from dashboard.charts.what_changed import what_changed_panel
from dashboard.frame.session import current_view
from dashboard.text.strings import t
from pages.overview import data
from queries.metrics import MEASURES

view = current_view()
cards = data.kpi_cards(view)
if data.selects_nothing(cards):
    st.info(t("no_data", view.lang, filters=view.description))
    st.stop()

kpi_cards(cards, view.lang, view.filters.comparison, view.description)
with st.expander(t("kpi_table", view.lang)):
    shown, raw = kpi_frames(cards, view.lang)
    data_table(shown, view.lang, view.description, "overview_kpis", key="overview_kpis", download=raw)
map_column, change_column = st.columns([3, 2], gap="large")
with map_column:
    map_panel(
        view,
        MEASURES,
        data.MAP_MEASURES,
        data.DEFAULT_MAP_MEASURE,
        lambda name: data.map_frame(view, name),
        key="overview_map",
    )
with change_column:
    what_changed_panel(view, MEASURES, data.movements_frame(view))
