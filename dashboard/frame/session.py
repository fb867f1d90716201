"""Per-session state, written only here: who the user is, the widget values, the view.

Streamlit dashboards rot when `st.session_state` is written from many places; every
write of this app goes through a function below, and pages only read the View the
frame published.

`current_scope()` is the ONE place the user's role scope comes from: the logged-in
user's (dashboard.access.roles.scope_for), or NO_ACCESS — which matches no province — before
login. Everything that touches data (queries, option lists, the map, downloads, "what
changed") receives the scope from the View built with it; nothing queries without one.
Login state itself lives under st.session_state["auth"] (dashboard/access/auth.py).
"""

from dataclasses import dataclass
from datetime import date

import streamlit as st

from dashboard.access.auth import SESSION_KEY, current_user
from dashboard.access.roles import NO_ACCESS, scope_for
from dashboard.frame.filter_options import FilterOptions, default_filters
from dashboard.frame.url_state import shown_text
from dashboard.text.markdown_text import plain
from dashboard.text.strings import DEFAULT_LANGUAGE, LANGUAGES
from queries.filters import Filters, Scope

LANGUAGE_KEY = "lang"
# Filters field -> widget key. Every filter widget has a key, so its value survives
# page switches (the frame renders them on every page) and can be seeded from a link.
WIDGET_KEYS = {
    "period": "f_period",
    "comparison": "f_comparison",
    "regions": "f_regions",
    "provinces": "f_provinces",
    "segments": "f_segments",
    "age_bands": "f_age_bands",
    "plans": "f_plans",
    "area_types": "f_area_types",
}
VIEW_KEY = "_view"
PERIOD_SEED_KEY = "_period_seed"
APP_RERUN_KEY = "_app_rerun"  # a section's callback changed the frame's filters
BOUND_SCOPE_KEY = "_bound_scope"  # the scope the widget values below were chosen under


@dataclass(frozen=True)
class View:
    """What a page needs to draw itself, built by the frame on every run."""

    filters: Filters
    scope: Scope
    lang: str
    options: FilterOptions
    description: str  # human description of the filters, for captions


def current_scope() -> Scope:
    """The logged-in user's scope (role and provinces re-read from the users file or the
    identity provider on every run by dashboard.access.login.require_login); NO_ACCESS before login."""
    user = current_user(st.session_state)
    return NO_ACCESS if user is None else scope_for(user)


def scope_key(scope: Scope) -> str:
    """What a scope may see, as text (sorted: a frozenset's order is not stable)."""
    provinces = "*" if scope.provinces is None else ",".join(sorted(scope.provinces))
    return f"{scope.role}|{provinces}|{scope.can_list_customers}|{scope.mask_personal_data}|{scope.user}"


def bind_to_scope(scope: Scope) -> None:
    """Forget every choice made under another scope (another user in this browser tab, or
    the same user's provinces changed): filters, page widgets, lists, the published view.
    The next run seeds the filters from the link again, which drops what is now outside."""
    key = scope_key(scope)
    if st.session_state.get(BOUND_SCOPE_KEY) == key:
        return
    for name in list(st.session_state):
        if name not in (SESSION_KEY, LANGUAGE_KEY):
            del st.session_state[name]
    st.session_state[BOUND_SCOPE_KEY] = key


def seed_language(url_lang: str | None) -> None:
    """Before the switch is drawn: the link's language when a session starts (else Vietnamese)."""
    if st.session_state.get(LANGUAGE_KEY) not in LANGUAGES:
        st.session_state[LANGUAGE_KEY] = url_lang if url_lang in LANGUAGES else DEFAULT_LANGUAGE


def needs_seeding() -> bool:
    """True at the start of a session (or after a run that never drew the filters)."""
    return WIDGET_KEYS["comparison"] not in st.session_state


def period_seed(default: tuple[date, date]) -> tuple[date, date]:
    return st.session_state.get(PERIOD_SEED_KEY, default)


def seed_widgets(filters: Filters) -> None:
    """Put the view a link asks for into the filter widgets, before they are drawn."""
    _write_filters(filters)


def _write_filters(filters: Filters) -> None:
    # The period slider takes its start value from PERIOD_SEED_KEY (see sidebar); dropping
    # its widget state makes it start again from there.
    st.session_state[PERIOD_SEED_KEY] = (filters.start_month, filters.end_month)
    st.session_state.pop(WIDGET_KEYS["period"], None)
    st.session_state[WIDGET_KEYS["comparison"]] = filters.comparison
    for field_name in ("regions", "provinces", "segments", "age_bands", "plans", "area_types"):
        st.session_state[WIDGET_KEYS[field_name]] = list(getattr(filters, field_name))


def reset_filters(options: FilterOptions) -> None:
    """Callback of the reset button: back to the default view (language kept)."""
    _write_filters(default_filters(options))


def choose_provinces(codes: tuple[str, ...]) -> None:
    """Callback of the map and the province picker: filter the whole dashboard to these.

    The regions filter is cleared so the cascade cannot hide the chosen province.
    """
    st.session_state[WIDGET_KEYS["regions"]] = []
    st.session_state[WIDGET_KEYS["provinces"]] = list(codes)
    # Called from within a section (the map), whose own rerun would leave the sidebar and the
    # rest of the page on the old filter: the section runs the whole app instead.
    st.session_state[APP_RERUN_KEY] = True


def take_app_rerun_request() -> bool:
    """Whether a callback asked for the whole app to run (and forget that it asked)."""
    return bool(st.session_state.pop(APP_RERUN_KEY, False))


def seed_page_choice(key: str, param: str, allowed: tuple[str, ...], default: str) -> str | None:
    """A page's own widget (e.g. the map's KPI) starts from its URL parameter when valid.

    Returns the rejected "param=value" when the link asked for something unknown, for the notice.
    """
    if st.session_state.get(key) in allowed:
        return None
    wanted = st.query_params.get(param)
    st.session_state[key] = wanted if wanted in allowed else default
    # Shown in a markdown notice: a crafted value must read as text (not as a link, an image or
    # reordered by a right-to-left override), and short.
    return plain(f"{param}={shown_text(wanted)}") if wanted and wanted not in allowed else None


def remember_page_choice(param: str, value: str) -> None:
    """Keep a page's own choice in the link (url_state.PAGE_PARAMS lists these parameters)."""
    if st.query_params.get(param) != value:
        st.query_params[param] = value


def sync_province_picker(key: str, provinces: tuple[str, ...]) -> None:
    """The picker under the map mirrors the province filter (one province, or none)."""
    st.session_state[key] = provinces[0] if len(provinces) == 1 else ""


def period_from_widget(value: object, fallback: tuple[date, date]) -> tuple[date, date]:
    if isinstance(value, tuple | list) and len(value) == 2:
        return value[0], value[1]
    return fallback


def publish_view(view: View) -> None:
    st.session_state[VIEW_KEY] = view


def current_view() -> View:
    """The View of this run (pages call this; the frame published it before running them)."""
    return st.session_state[VIEW_KEY]


def published_view() -> View | None:
    """The View of this run, or None outside the frame (a component drawn by a test script)."""
    return st.session_state.get(VIEW_KEY)


def list_page(key: str, signature: str, pages: int) -> None:
    """Before a paged list draws its page chooser (widget `key`): back to page 1 when the
    list itself changed (filters, language), and never past the last page."""
    signature_key = f"{key}__signature"
    if st.session_state.get(signature_key) != signature:
        st.session_state[signature_key] = signature
        st.session_state[key] = 1
    current = st.session_state.get(key)
    if not isinstance(current, int) or not 1 <= current <= pages:
        st.session_state[key] = min(max(1, current if isinstance(current, int) else 1), pages)
