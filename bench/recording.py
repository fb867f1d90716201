"""Render one page headless (Streamlit AppTest) and record every select it runs.

Every query of the dashboard reaches the warehouse through `queries.run._read` (the
frame's option lists, the page's measures, the map, "what changed"): wrapping that one
function records exactly what the page runs, with its time and row count, whatever the
page is made of. Streamlit's caches are cleared first, so nothing is served from a
previous render and the frame's own queries are recorded too.
"""

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st
from sqlalchemy import Select
from streamlit.testing.v1 import AppTest

import queries.run as query_runner
from bench.config import APP, RENDER_TIMEOUT_S, Variant
from dashboard.access.audit import vietnam_now
from dashboard.access.auth import start_session
from dashboard.access.users import find_account, seed_demo


@dataclass
class Statement:
    select: Select
    sql: str
    seconds: float
    rows: int


@dataclass
class Render:
    page: str
    variant: str
    seconds: float  # wall time of the whole render (queries + Python + Plotly), caches empty
    statements: list[Statement] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextmanager
def recording() -> Iterator[list[Statement]]:
    recorded: list[Statement] = []
    original = query_runner._read

    def recorded_read(select, connection):
        started = time.perf_counter()
        frame = original(select, connection)
        elapsed = time.perf_counter() - started
        sql = str(select.compile(dialect=connection.dialect))
        recorded.append(Statement(select, sql, elapsed, frame.height))
        return frame

    query_runner._read = recorded_read
    try:
        yield recorded
    finally:
        query_runner._read = original


def _clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def demo_users_dir() -> Path:
    """A private CRM_VAR_DIR holding the demo users (users file, audit log, lockout state),
    so the benchmark never touches var/ of a running dashboard."""
    directory = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    os.environ["CRM_VAR_DIR"] = str(directory)
    seed_demo(rounds=4)  # bcrypt cost kept low: the benchmark times pages, not logins
    return directory


def _login(app: AppTest, username: str = "executive") -> None:
    """Log the session in before the first run, as the login form does after a correct
    password (the tests' way: tests/conftest.py log_in)."""
    account = find_account(username)
    if account is None:
        raise RuntimeError(f"no user {username!r}: call demo_users_dir() first")
    start_session(app.session_state, account.user, vietnam_now())


def render(url: str, page: str, variant: Variant, page_file: str) -> Render:
    """Open the app with the variant's link, switch to the page and record its run."""
    os.environ["WAREHOUSE_URL"] = url
    app = AppTest.from_file(str(APP), default_timeout=RENDER_TIMEOUT_S)
    _login(app)
    app.query_params.update({"lang": "vi", **variant.params})
    result = Render(page, variant.name, 0.0)
    if page_file != "../pages/overview/overview.py":
        app.run()  # the default page first: switch_page needs a running app
        app.switch_page(page_file)
    _clear_caches()
    with recording() as statements:
        started = time.perf_counter()
        app.run()
        result.seconds = time.perf_counter() - started
    result.statements = statements
    result.errors = [str(item.value)[:300] for item in (*app.exception, *app.error)]
    return result
