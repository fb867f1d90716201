"""Entry point and frame: page config, navigation, language, global filters, the URL.

`streamlit run dashboard/app.py`. On every run the frame
1. finds the user's scope (dashboard/session.current_scope: the one place);
2. sets the language (switch > link > Vietnamese) and registers the pages;
3. reads what the filters may be set to from the warehouse (or says clearly that it
   cannot be reached), seeds the filter widgets from the link when a session starts,
   draws them, and writes the resulting view back into the link;
4. publishes the View (filters, scope, language, options, description) and runs the
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
from dashboard.sidebar import filter_widgets, language_switch  # noqa: E402
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


def navigation(lang: str):
    pages = [
        st.Page(PAGES_DIR / file, title=t(key, lang), icon="", url_path=path, default=index == 0)
        for index, (file, key, path) in enumerate(PAGES)
    ]
    return st.navigation(pages, position="sidebar")


def warehouse_problem(error: Exception, lang: str) -> None:
    """A localised message instead of a traceback; the driver's first line for the technician."""
    if isinstance(error, WarehouseEmpty):
        st.warning(t("warehouse_empty", lang))
    else:
        st.error(t("warehouse_down", lang))
    st.caption(t("warehouse_down_detail", lang, detail=str(error) or type(error).__name__))


def main() -> None:
    st.set_page_config(page_title=t("app_title", "vi"), layout="wide")
    scope = session.current_scope()
    link = read_query_params()
    session.seed_language((link.get("lang") or [None])[-1])
    lang = language_switch()
    page = navigation(lang)
    st.title(page.title)

    try:
        options = load_filter_options(scope)
    except (WarehouseUnavailable, WarehouseEmpty) as error:
        warehouse_problem(error, lang)
        st.stop()

    ignored: tuple[str, ...] = ()
    if session.needs_seeding():
        state = from_params(link, options)
        session.seed_widgets(state.filters)
        ignored = state.ignored
    st.sidebar.caption(t("freshness", lang, date=format_date(options.data_through, lang)))
    filters = filter_widgets(options, lang)
    write_query_params(filters, lang)
    if ignored:
        st.warning(t("notice_ignored_params", lang, items=", ".join(ignored)))

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


main()
