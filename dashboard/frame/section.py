"""A section of a page that reruns on its own when one of its own controls changes.

A breakdown radio, a class picker, a tab or a list's page number changes one section, so
only that section should run again (st.fragment), not the frame and every query and figure
of the page. A section rerun skips the frame, so the frame's guarantees are restated here:

- a callback of the section that changed the frame's filters (the map's click) runs the
  whole app, so the sidebar and every section follow;
- the login is still current (idle and absolute limits, the account unchanged): otherwise
  the whole app runs again and the frame's login gate says why;
- the section's queries share one time bound and may serve last-known figures under a
  warning that says from when, like a page run;
- a warehouse that is down, empty or too slow gets the frame's localised message inside
  the section, never a traceback.

On a full run the section runs inside the frame's own page run and changes nothing.
"""

import functools
from collections.abc import Callable
from typing import ParamSpec

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard.access.login import login_still_current
from dashboard.frame import warehouse
from dashboard.frame.problems import too_slow, warehouse_problem
from dashboard.frame.session import current_view, take_app_rerun_request
from dashboard.text.formatting import format_datetime
from dashboard.text.strings import t

Params = ParamSpec("Params")


def _section_rerun() -> bool:
    """Whether this script run reruns sections only (not the whole app)."""
    context = get_script_run_ctx()
    return bool(context is not None and context.fragment_ids_this_run)


def section(body: Callable[Params, None]) -> Callable[Params, None]:
    """Decorate a function that draws one section (its controls inside it)."""

    @st.fragment
    @functools.wraps(body)
    def run(*args: Params.args, **kwargs: Params.kwargs) -> None:
        if not _section_rerun() or warehouse.in_page_run():  # part of a full run: the frame did the below
            body(*args, **kwargs)
            return
        if take_app_rerun_request() or not login_still_current():
            st.rerun(scope="app")
        lang = current_view().lang
        stale = st.empty()

        def figures_are_stale(since) -> None:
            stale.warning(t("stale_figures", lang, time=format_datetime(since, lang)))

        with warehouse.page_run(on_stale=figures_are_stale):
            try:
                body(*args, **kwargs)
            except (warehouse.WarehouseUnavailable, warehouse.WarehouseEmpty) as error:
                warehouse_problem(error, lang)
            except warehouse.QueryTimeout:
                too_slow(lang, st)

    return run
