"""Shared fixtures: small seeded warehouses on DuckDB and PostgreSQL.

Every test warehouse is seeded by the same function the CLI uses
(data_seed.seed_warehouse), from a fixed seed and a fixed end month, so results
never depend on today's date or on run order.

PostgreSQL: locally, tests that need it skip with a reason when no server answers;
on CI (CI=true) they fail instead, so a missing server can never pass silently.
"""

import os
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, text

TEST_SEED = 20261124
TEST_END_MONTH = date(2026, 10, 1)
TEST_CUSTOMERS = 20_000
TEST_MONTHS = 36
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
ON_CI = os.environ.get("CI", "").lower() == "true"


def pg_available() -> str | None:
    """None if PostgreSQL answers, else the reason it does not."""
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means "not reachable"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(error).__name__}"


def require_postgres() -> None:
    reason = pg_available()
    if reason is None:
        return
    if ON_CI:
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


def seed(url: str, customers: int = TEST_CUSTOMERS, months: int = TEST_MONTHS, seed_number: int = TEST_SEED) -> None:
    from data_seed import seed_warehouse

    seed_warehouse(url, customers=customers, months=months, seed=seed_number, end_month=TEST_END_MONTH)


@pytest.fixture(scope="session")
def duck_url(tmp_path_factory) -> str:
    """A small seeded DuckDB warehouse shared by the session (read it, never write it)."""
    url = f"duckdb:///{tmp_path_factory.mktemp('duck') / 'warehouse.duckdb'}"
    seed(url)
    return url


@pytest.fixture()
def empty_duck_url(tmp_path) -> str:
    """A path for a fresh DuckDB warehouse a test may write."""
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


def create_pg_database() -> str:
    name = f"crm_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A small seeded PostgreSQL warehouse in its own database, dropped at the end."""
    require_postgres()
    url = create_pg_database()
    try:
        seed(url)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture()
def empty_pg_url() -> str:
    """A fresh, empty PostgreSQL database a test may write; dropped afterwards."""
    require_postgres()
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse_url(request) -> str:
    """Both seeded warehouses, for tests that must hold on each dialect."""
    return request.getfixturevalue("duck_url" if request.param == "duckdb" else "pg_url")


@pytest.fixture(autouse=True)
def clear_streamlit_caches():
    """Streamlit caches are process-wide: clear them around every test, so no result
    depends on which test ran before (see dashboard/frame/warehouse.py for what is cached)."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


# --- access control: logged-in users for AppTest (issue 4) ---------------------------
# The frame shows only the login form until someone is logged in. AppTest tests log in by
# putting a session into st.session_state before the first run, exactly what the login
# form does after a correct password (dashboard.access.auth.start_session). There is no switch
# that turns login off: this only works from inside the test process.

DEMO_PASSWORD_ROUNDS = 4  # bcrypt cost for test users: fast, still a real hash


@pytest.fixture()
def demo_users(tmp_path, monkeypatch) -> dict:
    """CRM_VAR_DIR=tmp_path (users file, login state, audit log) holding the five demo
    users of dashboard.access.users.DEMO_USERS: {username: User}. Passwords: "<username>-demo"."""
    from dashboard.access.users import seed_demo

    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    return {user.username: user for user, _, _ in seed_demo(rounds=DEMO_PASSWORD_ROUNDS)}


@pytest.fixture(scope="module")
def connections():
    """One open connection per warehouse URL, for a test module (see connect)."""
    opened = {}
    yield opened
    for engine, connection in opened.values():
        connection.close()
        engine.dispose()


def connect(connections, url: str):
    """The module's open connection to `url` (DuckDB wants one Connection, not an engine per query)."""
    if url not in connections:
        engine = create_engine(url)
        connections[url] = (engine, engine.connect())
    return connections[url][1]


def log_in(app, username: str = "executive"):
    """Log `username` (from the users file of CRM_VAR_DIR) into an AppTest before it runs."""
    from dashboard.access.audit import vietnam_now
    from dashboard.access.auth import start_session
    from dashboard.access.login import login_details
    from dashboard.access.users import find_account

    account = find_account(username)
    assert account is not None, f"no user {username!r} in the test users file (use the demo_users fixture)"
    start_session(app.session_state, account.user, vietnam_now(), **login_details(account))
    return app
