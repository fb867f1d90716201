"""SQL injection (and markdown injection) through every filter URL parameter, the login
form and the query layer: nothing extra is shown, nothing breaks, the tables stay intact.

Values from a link are matched against fixed lists before they reach a query, and the
query layer binds every value as a parameter: an injection string can at most be
reported as ignored, and if it reached a select it would match nothing.
"""

from datetime import date

import duckdb
import pytest
from sqlalchemy.dialects import postgresql
from streamlit.testing.v1 import AppTest

from dashboard.frame.url_state import FILTER_PARAMS, PAGE_PARAMS
from queries.engine import duckdb_path, make_engine
from queries.filters import Filters, Scope
from queries.metrics import MEASURES, measure_select
from queries.overview import overview_selects
from queries.run import run
from tests.conftest import log_in
from tests.dashboard.access.test_access_pages import APP, PAGES, assert_clean, leaked_provinces, metric_values

INJECTIONS = (
    "01') OR 1=1 --",
    "'; DROP TABLE customers; --",
    '79" OR "1"="1',
)
# Every parameter the frame or a page reads from the link.
PARAMS = (*FILTER_PARAMS, *sorted(PAGE_PARAMS))
# A valid value per list parameter, to check the valid part of a tampered list still applies.
VALID = {
    "region": "bac",
    "province": "01",
    "segment": "enterprise",
    "age": "25-34",
    "plan": "postpaid",
    "area": "urban",
}
TABLES = ("customers", "revenue_monthly", "bills", "complaints", "churn_events", "provinces", "warehouse_meta")


def table_counts(duck_url: str) -> dict[str, int]:
    with duckdb.connect(str(duckdb_path(duck_url)), read_only=True) as connection:
        return {table: connection.execute(f"select count(*) from {table}").fetchone()[0] for table in TABLES}


@pytest.fixture()
def users(demo_users, duck_url, monkeypatch) -> dict:
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    return demo_users


def open_as(username: str, params: dict, page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update(params)
    log_in(app, username).run()
    return app.switch_page(page).run() if page and page != PAGES[0][0] else app


@pytest.fixture(scope="module")
def counts_before(duck_url) -> dict[str, int]:
    return table_counts(duck_url)


@pytest.mark.parametrize("username", ["manager", "executive"])
def test_injection_in_every_url_parameter_at_once(users, counts_before, duck_url, username):
    import streamlit as st

    baseline = open_as(username, {})
    expected = metric_values(baseline)
    defaults = baseline.session_state["_view"].filters
    for injection in INJECTIONS:
        app = open_as(username, {param: injection for param in PARAMS})
        assert_clean(app)
        assert app.session_state["_view"].filters == defaults
        assert metric_values(app) == expected
        notice = " ".join(item.value for item in app.warning)
        for param in (*FILTER_PARAMS, "map"):  # the frame's parameters and the Overview's own
            assert f"{param}=" in notice, param
        if username == "manager":
            assert leaked_provinces(app) == {}
    st.cache_resource.clear()  # close the app's engine before reading the file directly
    assert table_counts(duck_url) == counts_before


def test_injection_on_every_page(users, counts_before, duck_url):
    """Page parameters are checked by the page that reads them: every page, every parameter."""
    import streamlit as st

    for page, _ in PAGES:
        app = open_as("manager", {param: INJECTIONS[0] for param in PARAMS}, page)
        assert_clean(app)
        assert app.session_state["_view"].filters == Filters(date(2026, 10, 1), date(2026, 10, 1))
        assert leaked_provinces(app) == {}, page
    st.cache_resource.clear()
    assert table_counts(duck_url) == counts_before


def test_injection_after_a_valid_value_keeps_the_valid_value(users, counts_before, duck_url):
    import streamlit as st

    for param, valid in VALID.items():
        clean = open_as("manager", {param: valid, "lang": "en"})
        tampered = open_as("manager", {param: f"{valid},{INJECTIONS[0]},{INJECTIONS[1]}", "lang": "en"})
        assert_clean(tampered)
        assert tampered.session_state["_view"].filters == clean.session_state["_view"].filters, param
        assert metric_values(tampered) == metric_values(clean), param
        assert tampered.query_params[param] == valid, param  # the link is rewritten to what applies
    st.cache_resource.clear()
    assert table_counts(duck_url) == counts_before


def test_a_crafted_value_is_shown_as_text_not_as_markdown(users):
    app = open_as("executive", {"map": "[click](http://evil.example/x)", "segment": "![x](http://evil.example/i.png)"})
    assert_clean(app)
    notices = [item.value for item in app.warning]
    assert len(notices) == 2
    for notice in notices:
        assert "](http" not in notice  # no link or image survives: the brackets are escaped
        assert "\\[" in notice and "\\(" in notice


def test_injection_in_the_login_form(users):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["lang"] = "en"
    app.run()
    for username, password in (("' OR 1=1 --", "x' OR '1'='1"), ("manager' --", "anything-at-all")):
        app.text_input(key="login_username").input(username)
        app.text_input(key="login_password").input(password)
        app.button[0].click().run()
        assert not app.exception
        assert [item.value for item in app.error] == ["Wrong username or password."]
        assert not app.metric


def test_the_query_layer_binds_injection_strings(duck_url, counts_before):
    """Filters holding injection strings in every field (as if the URL parser let them
    through): the SQL text never contains them, and the selects return only empty results."""
    scope = Scope(role="regional_manager", provinces=frozenset({"01", "31"}), user="m")
    for injection in INJECTIONS:
        filters = Filters(
            date(2026, 10, 1),
            date(2026, 10, 1),
            regions=(injection,),
            provinces=(injection,),
            segments=(injection,),
            age_bands=(injection,),
            plans=(injection,),
            area_types=(injection,),
        )
        selects = {f"measure {name}": measure_select(name, filters, scope) for name in MEASURES}
        selects |= overview_selects(filters, scope)
        engine = make_engine(duck_url, read_only=True)
        try:
            with engine.connect() as connection:
                for label, query in selects.items():
                    sql = str(query.compile(dialect=postgresql.dialect()))
                    assert injection not in sql and "DROP" not in sql, label
                    frame = run(query, connection)
                    if "value" in frame.columns and label.startswith("measure"):
                        assert all(value in (None, 0) for value in frame["value"].to_list()), label
        finally:
            engine.dispose()
    assert table_counts(duck_url) == counts_before
