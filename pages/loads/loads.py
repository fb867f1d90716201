"""Data loads (admins): every load, import and generate the warehouse has seen, with what each
read and how it ended; refused and failed loads too (data_seed/load_log.py)."""

import streamlit as st

from dashboard.frame.session import current_view
from dashboard.text.strings import t
from pages.loads import data

view = current_view()
st.caption(t("loads_intro", view.lang))
loads = data.loads_frame(view)
if loads.is_empty():
    st.info(t("loads_none", view.lang))
else:
    st.dataframe(loads, hide_index=True)
