"""One figure with its caption, or a short localised note when the filters leave it empty.

Every chart of a topic page goes through `chart_or_note`, so an empty combination of
filters never draws an empty axis frame (which reads like a broken page) and every
chart carries the filter description under it (a caption says what is shown).
"""

import plotly.graph_objects as go
import streamlit as st

from dashboard.text.strings import t

PLOTLY_CONFIG = {"displaylogo": False}


def chart_or_note(figure: go.Figure | None, caption: str, lang: str, *, key: str) -> None:
    """Draw `figure` and `caption`; when figure is None (nothing to show) a note instead."""
    if figure is None:
        st.info(t("chart_no_data", lang, filters=caption))
        return
    st.plotly_chart(figure, key=key, config=PLOTLY_CONFIG)
    st.caption(caption)
