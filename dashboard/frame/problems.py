"""What the user is told when the warehouse cannot answer: localised, never a traceback."""

import streamlit as st

from dashboard.frame.warehouse import WarehouseEmpty
from dashboard.text.strings import t


def warehouse_problem(error: Exception, lang: str) -> None:
    """A localised message instead of a traceback; the driver's first line for the technician."""
    if isinstance(error, WarehouseEmpty):
        st.warning(t("warehouse_empty", lang))
    else:
        st.error(t("warehouse_down", lang))
    st.caption(t("warehouse_down_detail", lang, detail=str(error) or type(error).__name__))


def too_slow(lang: str, where) -> None:
    """The time bound was used up: narrow the filters or try again (written into `where`)."""
    where.warning(t("view_too_slow", lang))
