"""The drill-down from a province or a segment to the paged customer list.

A radio picks what to drill by, a selectbox picks the province or segment (only those in
view: the filters intersected with the role scope), then dashboard.charts.paged_list draws one
page at a time, masked for the role, with audited CSV/Excel downloads of the whole list
within the current filters. Roles without list rights see paged_list's notice.
"""

import streamlit as st

from dashboard.charts.paged_list import paged_list
from dashboard.frame.section import section
from dashboard.frame.session import View
from dashboard.text.labels import member_label
from dashboard.text.strings import t
from pages.customers.data import list_choices, list_labels, list_query

DRILL_DIMENSIONS = ("province_code", "segment")


@section
def customer_list_panel(view: View, *, key: str) -> None:
    lang = view.lang
    by_column, choice_column = st.columns([1, 2])
    with by_column:
        by = st.radio(
            t("cust_list_by", lang),
            DRILL_DIMENSIONS,
            format_func=lambda dimension: t("province" if dimension == "province_code" else "segment", lang),
            horizontal=True,
            key=f"{key}_by",
        )
    choices = list_choices(view, by)
    with choice_column:
        chosen = st.selectbox(
            t("cust_list_choose", lang),
            ["", *choices],
            format_func=lambda member: member_label(by, member, view) if member else t("cust_list_none", lang),
            key=f"{key}_{by}",
        )
    if not chosen:
        st.caption(t("cust_list_hint", lang))
        return
    query = list_query(
        view,
        province_code=chosen if by == "province_code" else None,
        segment=chosen if by == "segment" else None,
    )
    paged_list(
        query,
        view,
        key=f"{key}_list",
        file_stem=f"customers_{chosen}",
        labels=list_labels(lang),
    )
