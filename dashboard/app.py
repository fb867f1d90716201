"""Entry point and frame: page config, navigation, language, global filters, the URL.

`streamlit run dashboard/app.py`. On every run the frame
1. sets the language (switch > link > Vietnamese);
2. asks for a login (dashboard/login.require_login: the form, or single sign-on) and
   stops there until someone is logged in, before anything touches the warehouse; the
   same call ends an expired session on every run;
3. finds the user's scope (dashboard/session.current_scope: the one place), forgets
   choices made under another scope, and registers the pages;
4. reads what the filters may be set to from the warehouse, within the scope (or says
   clearly that it cannot be reached), seeds the filter widgets from the link when a
   session starts (a province outside the scope is dropped with a notice), draws them,
   and writes the resulting view back into the link;
5. publishes the View (filters, scope, language, options, description) and runs the
   page, which only composes components.
"""

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project root.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import streamlit as st  # noqa: E402

from dashboard import session  # noqa: E402
from dashboard.filter_options import load_filter_options  # noqa: E402
from dashboard.filter_text import describe_filters  # noqa: E402
from dashboard.formatting import format_date  # noqa: E402
from dashboard.gc_pauses import freeze_long_lived_objects  # noqa: E402
from dashboard.login import require_login  # noqa: E402
from dashboard.markdown_text import plain  # noqa: E402
from dashboard.sidebar import account_panel, filter_widgets, language_switch  # noqa: E402
from dashboard.strings import t  # noqa: E402
from dashboard.url_state import from_params, read_query_params, write_query_params  # noqa: E402
from dashboard.warehouse import WarehouseEmpty, WarehouseUnavailable  # noqa: E402

PAGES_DIR = PROJECT_ROOT / "pages"
# (file, title key, url path). No icons: :material/ icons fetch a web font, and emoji need
# a colour-emoji font that offline intranet machines often lack (they draw as empty boxes).
PAGES = (
    ("overview.py", "page_overview", "overview"),
    ("customers.py", "page_customers", "customers"),
    ("complaints.py", "page_complaints", "complaints"),
    ("debt.py", "page_debt", "debt"),
    ("churn.py", "page_churn", "churn"),
    ("review.py", "page_review", "review"),
)


def navigation(lang: str, *, logged_in: bool):
    """Register the pages. Before login they are registered too, but hidden and not run: the
    page the link names (/debt?province=…) is then still the one shown after login."""
    pages = [
        st.Page(PAGES_DIR / file, title=t(key, lang), icon="", url_path=path, default=index == 0)
        for index, (file, key, path) in enumerate(PAGES)
    ]
    return st.navigation(pages, position="sidebar" if logged_in else "hidden")


def warehouse_problem(error: Exception, lang: str) -> None:
    """A localised message instead of a traceback; the driver's first line for the technician."""
    if isinstance(error, WarehouseEmpty):
        st.warning(t("warehouse_empty", lang))
    else:
        st.error(t("warehouse_down", lang))
    st.caption(t("warehouse_down_detail", lang, detail=str(error) or type(error).__name__))


def link_notices(ignored: tuple[str, ...], outside_scope: tuple[str, ...], lang: str) -> None:
    """What the link asked for and did not get. Values are shown as typed (escaped: a link
    is outside input), provinces by code only: never the name of one outside the scope."""
    if outside_scope:
        st.warning(t("notice_outside_scope", lang, items=plain(", ".join(outside_scope))))
    others = [item for item in ignored if item not in outside_scope]
    if others:
        st.warning(t("notice_ignored_params", lang, items=plain(", ".join(others))))


def main() -> None:
    st.set_page_config(page_title=t("app_title", "vi"), layout="wide")
    link = read_query_params()
    session.seed_language((link.get("lang") or [None])[-1])
    lang = language_switch()
    user = require_login(lang)
    page = navigation(lang, logged_in=user is not None)
    if user is None:
        st.stop()  # nothing below runs, so nothing is read from the warehouse before login
    scope = session.current_scope()
    session.bind_to_scope(scope)
    st.title(page.title)

    try:
        options = load_filter_options(scope)
    except (WarehouseUnavailable, WarehouseEmpty) as error:
        account_panel(user, scope, None, lang)
        warehouse_problem(error, lang)
        st.stop()
    account_panel(user, scope, options, lang)
    if not options.provinces:
        st.warning(t("no_scope", lang))
        st.stop()

    ignored: tuple[str, ...] = ()
    outside_scope: tuple[str, ...] = ()
    if session.needs_seeding():
        state = from_params(link, options)
        session.seed_widgets(state.filters)
        ignored, outside_scope = state.ignored, state.outside_scope
    st.sidebar.caption(t("freshness", lang, date=format_date(options.data_through, lang)))
    filters = filter_widgets(options, lang)
    write_query_params(filters, lang)
    link_notices(ignored, outside_scope, lang)

    view = session.View(
        filters=filters,
        scope=scope,
        lang=lang,
        options=options,
        description=describe_filters(filters, options, lang, scope),
    )
    session.publish_view(view)
    try:
        page.run()
    except (WarehouseUnavailable, WarehouseEmpty) as error:
        warehouse_problem(error, lang)
    freeze_long_lived_objects()  # every module is imported now (dashboard/gc_pauses.py)


main()
