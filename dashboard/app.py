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
   session starts (a province outside the scope is dropped with a notice, a legacy
   province code is mapped to its current province with a notice), draws them, and
   writes the resulting view back into the link;
5. publishes the View (filters, scope, language, options, description) and runs the
   page, which only composes components.
Steps 4 and 5 are one page run of dashboard/frame/warehouse.py: its queries share one time
bound (past it: "narrow the filters or try again", never a traceback), and when the
warehouse cannot be reached the last figures are shown under a warning that says from
when they are.
"""

# Started from the project root as `python -m streamlit run dashboard/app.py` (make run,
# the e2e tests, the benchmark): `python -m` puts the current directory, the project root,
# on sys.path, so `dashboard`, `pages` and `queries` import as packages. A bare
# `streamlit run` would only add dashboard/ and fail on the first import.
from datetime import datetime
from pathlib import Path

import streamlit as st

import dashboard.frame.preload  # noqa: F401  (before any page code: see its docstring)
from dashboard.access.login import require_login
from dashboard.access.roles import rights_for
from dashboard.frame import download_grace, session, warehouse
from dashboard.frame.filter_options import FilterOptions, load_filter_options
from dashboard.frame.filter_text import describe_filters
from dashboard.frame.gc_pauses import freeze_long_lived_objects
from dashboard.frame.problems import too_slow, warehouse_problem
from dashboard.frame.sidebar import account_panel, filter_widgets, language_switch
from dashboard.frame.url_state import UrlState, from_params, read_query_params, write_query_params
from dashboard.frame.warehouse import QueryTimeout, WarehouseEmpty, WarehouseUnavailable, warehouse_meta_values
from dashboard.text.formatting import format_date, format_datetime
from dashboard.text.markdown_text import plain
from dashboard.text.strings import t

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
# (file, title key, url path). No icons: :material/ icons fetch a web font, and emoji need
# a colour-emoji font that offline intranet machines often lack (they draw as empty boxes).
# The first is the default page, served at the root URL ("/"); it is registered a second
# time, hidden, under its own name, so that /overview?… opens it too (Streamlit gives the
# default page no other address and answers any unknown one with a "Page not found" dialog).
PAGES = (
    ("overview/overview.py", "page_overview", "overview"),
    ("customers/customers.py", "page_customers", "customers"),
    ("complaints/complaints.py", "page_complaints", "complaints"),
    ("debt/debt.py", "page_debt", "debt"),
    ("churn/churn.py", "page_churn", "churn"),
    ("review/review.py", "page_review", "review"),
)
# Registered for admins only (operations: who loaded what, and how it went).
ADMIN_PAGES = (("loads/loads.py", "page_loads", "loads"),)
MAX_NOTICE_ITEMS = 10  # a notice lists at most this many items from a link, then "and N more"


def navigation(lang: str, *, logged_in: bool, admin: bool = False):
    """Register the pages. Before login they are registered too, but hidden and not run: the
    page the link names (/debt?province=…) is then still the one shown after login. Admin
    pages exist only for admins once someone is logged in (for anyone else their address is
    an unknown page); before login they are registered like the others, so an admin's
    bookmark of /loads still lands there."""
    (default_file, default_key, default_path), *others = PAGES
    if admin or not logged_in:
        others = [*others, *ADMIN_PAGES]
    pages = [
        st.Page(PAGES_DIR / default_file, title=t(default_key, lang), icon="", url_path="", default=True),
        *(st.Page(PAGES_DIR / file, title=t(key, lang), icon="", url_path=path) for file, key, path in others),
        # Last: a page chosen by its file (st.switch_page) is the first registered with it.
        st.Page(
            PAGES_DIR / default_file, title=t(default_key, lang), icon="", url_path=default_path, visibility="hidden"
        ),
    ]
    return st.navigation(pages, position="sidebar" if logged_in else "hidden")


def notice_items(items: list[str], lang: str) -> str:
    """Items from a link for a notice: escaped for markdown, at most MAX_NOTICE_ITEMS of them.
    Each was already made showable (url_state.shown_text: no control characters, cut short)."""
    shown = ", ".join(items[:MAX_NOTICE_ITEMS])
    if len(items) > MAX_NOTICE_ITEMS:
        shown += " " + t("notice_more_items", lang, count=len(items) - MAX_NOTICE_ITEMS)
    return plain(shown)


def link_notices(state: UrlState | None, options: FilterOptions, lang: str) -> None:
    """What the link asked for and did not get, or got mapped. Values are shown as typed (made
    showable and escaped: a link is outside input), provinces outside the scope by code only:
    never the name of one outside the scope."""
    if state is None:
        return
    if state.outside_scope:
        st.warning(t("notice_outside_scope", lang, items=notice_items(list(state.outside_scope), lang)))
    others = [item for item in state.ignored if item not in state.outside_scope]
    if others:
        st.warning(t("notice_ignored_params", lang, items=notice_items(others, lang)))
    if state.mapped:
        # Only kept codes are listed: their current province is within the scope.
        mapped = [f"province={old} → {new} {options.province(new).name(lang)}" for old, new in state.mapped]
        st.info(t("notice_legacy_provinces", lang, items=notice_items(mapped, lang)))


def main() -> None:
    st.set_page_config(page_title=t("app_title", "vi"), layout="wide")
    download_grace.install()  # a file made on click outlives other sessions' runs
    link = read_query_params()
    session.seed_language((link.get("lang") or [None])[-1])
    lang = language_switch()
    user = require_login(lang)
    page = navigation(
        lang, logged_in=user is not None, admin=user is not None and rights_for(user.role).can_manage_users
    )
    if user is None:
        st.stop()  # nothing below runs, so nothing is read from the warehouse before login
    scope = session.current_scope()
    session.bind_to_scope(scope)
    session.take_app_rerun_request()  # this run is the whole app already
    st.title(page.title)
    # Warnings about the whole view go first, above anything the page draws, even when
    # they are only known later in the run.
    notices = st.container()
    stale = notices.empty()

    def figures_are_stale(since) -> None:
        stale.warning(t("stale_figures", lang, time=format_datetime(since, lang)))

    with warehouse.page_run(on_stale=figures_are_stale):
        frame_and_page(page, link, user, scope, lang, notices)
    freeze_long_lived_objects()  # every module is imported now (dashboard/frame/gc_pauses.py)


def freshness_text(options, lang: str) -> str:
    """Data through …, and when the warehouse was last loaded (warehouse_meta loaded_at)."""
    through = format_date(options.data_through, lang)
    loaded_at = warehouse_meta_values().get("loaded_at")
    try:
        loaded = datetime.fromisoformat(loaded_at) if loaded_at else None
    except ValueError:  # written by hand: say only what is certain
        loaded = None
    if loaded is None:
        return t("freshness", lang, date=through)
    return t("freshness_loaded", lang, date=through, time=format_datetime(loaded, lang))


def frame_and_page(page, link: dict[str, list[str]], user, scope, lang: str, notices) -> None:
    """Filters, link and page: everything that reads the warehouse."""
    try:
        options = load_filter_options(scope)
    except (WarehouseUnavailable, WarehouseEmpty, QueryTimeout) as error:
        account_panel(user, scope, None, lang)
        if isinstance(error, QueryTimeout):
            too_slow(lang, notices)
        else:
            warehouse_problem(error, lang)
        st.stop()
    account_panel(user, scope, options, lang)
    if not options.provinces:
        st.warning(t("no_scope", lang))
        st.stop()

    state = None
    if session.needs_seeding():
        state = from_params(link, options)
        session.seed_widgets(state.filters)
    st.sidebar.caption(freshness_text(options, lang))
    filters = filter_widgets(options, lang)
    write_query_params(filters, lang)
    link_notices(state, options, lang)

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
    except QueryTimeout:
        too_slow(lang, notices)


main()
