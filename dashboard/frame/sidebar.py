"""The global filters in the sidebar, shared by every page.

Each widget has a key (dashboard/frame/session.py WIDGET_KEYS) and no default of its own:
its value is seeded from the link when the session starts, and kept in session
state after that. Empty multiselects mean "all". Region cascades to provinces: the
province list only offers provinces of the chosen regions (Streamlit drops a chosen
province that is no longer offered).

Every option list comes from FilterOptions, which holds only what the user's scope
allows: regions without an allowed province and provinces outside the scope are never
offered, and a value that is not offered never reaches the Filters.
"""

import streamlit as st

from dashboard.access.login import logout_button
from dashboard.frame import session
from dashboard.frame.filter_options import FilterOptions, default_filters
from dashboard.frame.url_state import shown_text
from dashboard.text.formatting import format_month
from dashboard.text.markdown_text import plain
from dashboard.text.strings import LANGUAGES, age_band_label, t, value_label
from queries.filters import AGE_BAND_LABELS, COMPARISONS, Filters
from queries.tables import AREA_TYPES, PLANS, SEGMENTS

KEYS = session.WIDGET_KEYS
DISPLAY_NAME_CHARS = 80


def language_switch() -> str:
    """Vietnamese / English, at the top of the sidebar (its own labels never change)."""
    return st.sidebar.radio(
        "Ngôn ngữ / Language",
        LANGUAGES,
        format_func=lambda code: t(f"language_{code}", code),
        key=session.LANGUAGE_KEY,
        horizontal=True,
    )


def account_panel(user, scope, options: FilterOptions | None, lang: str) -> None:
    """Who is logged in, with which role (and, for a regional manager, which provinces), and
    the log-out button. `options` is None when the warehouse cannot be read."""
    role = value_label("role", user.role, lang)
    # The display name may come from an identity provider: shown as text, without control characters.
    name = plain(shown_text(user.name or user.username, DISPLAY_NAME_CHARS))
    st.sidebar.markdown(t("signed_in_as", lang, name=name, role=role))
    if scope.provinces is not None and options is not None:
        names = ", ".join(option.name(lang) for option in options.provinces) or "∅"
        st.sidebar.caption(t("scope_provinces", lang, provinces=names))
    with st.sidebar:
        logout_button(lang)


def _multiselect(label: str, options, format_func, key: str, lang: str) -> tuple[str, ...]:
    offered = list(options)
    chosen = st.sidebar.multiselect(
        label, offered, format_func=format_func, key=key, placeholder=t("placeholder_all", lang)
    )
    # Only offered values count (the query layer intersects with the scope anyway).
    return tuple(value for value in chosen if value in offered)


def _valid_period(period: tuple, options: FilterOptions, default: tuple) -> tuple:
    """A seeded period the data no longer covers (after a reload) falls back to the default."""
    return period if all(month in options.months for month in period) else default


def filter_widgets(options: FilterOptions, lang: str) -> Filters:
    """Draw the filters and return the Filters they describe."""
    sidebar = st.sidebar
    sidebar.subheader(t("filters", lang))
    defaults = default_filters(options)
    default_period = (defaults.start_month, defaults.end_month)
    period = sidebar.select_slider(
        t("period", lang),
        options=list(options.months),
        # The period is seeded through `value`, not session state: a range value is what
        # makes this a range slider, and Streamlit warns when both are set.
        value=_valid_period(session.period_seed(default_period), options, default_period),
        format_func=lambda month: format_month(month, lang),
        key=KEYS["period"],
    )
    comparison = sidebar.radio(
        t("comparison", lang),
        COMPARISONS,
        format_func=lambda value: t(f"comparison_{value}", lang),
        key=KEYS["comparison"],
        horizontal=True,
    )
    regions = _multiselect(
        t("region", lang), options.regions(), lambda value: value_label("region", value, lang), KEYS["regions"], lang
    )
    province_names = {option.code: option.name(lang) for option in options.provinces}
    provinces = _multiselect(
        t("provinces", lang),
        [option.code for option in options.provinces_in(regions)],
        lambda code: province_names.get(code, code),
        KEYS["provinces"],
        lang,
    )
    segments = _multiselect(
        t("segment", lang), SEGMENTS, lambda value: value_label("segment", value, lang), KEYS["segments"], lang
    )
    age_bands = _multiselect(
        t("age_band", lang), AGE_BAND_LABELS, lambda band: age_band_label(band, lang), KEYS["age_bands"], lang
    )
    plans = _multiselect(t("plan", lang), PLANS, lambda value: value_label("plan", value, lang), KEYS["plans"], lang)
    area_types = _multiselect(
        t("area_type", lang), AREA_TYPES, lambda value: value_label("area", value, lang), KEYS["area_types"], lang
    )
    sidebar.button(
        t("reset_filters", lang), key="f_reset", on_click=session.reset_filters, args=(options,), type="tertiary"
    )
    start, end = session.period_from_widget(period, default_period)
    return Filters(
        start_month=start,
        end_month=end,
        comparison=comparison or defaults.comparison,
        regions=regions,
        provinces=provinces,
        segments=segments,
        age_bands=age_bands,
        plans=plans,
        area_types=area_types,
    )
