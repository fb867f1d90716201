"""A warehouse imported from a partial extract (customers and churn events, no revenue) is not
"empty": the months come from the facts present, the pages that have data show it, and the
figures equal an independent count from the imported files."""

import shutil
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine
from streamlit.testing.v1 import AppTest

from dashboard.text.formatting import format_month
from data_seed.importer import import_directory
from queries.dimensions import month_range_select
from queries.filters import add_months
from queries.run import run
from tests.conftest import TEST_END_MONTH, TEST_SEED, log_in
from tests.warehouse_files import export_warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[3]
APP = str(PROJECT_ROOT / "dashboard" / "app.py")
TIMEOUT = 120
PAGES = (
    "../pages/overview/overview.py",
    "../pages/customers/customers.py",
    "../pages/complaints/complaints.py",
    "../pages/debt/debt.py",
    "../pages/churn/churn.py",
    "../pages/review/review.py",
)
NO_DATA_YET = ("Kho dữ liệu chưa có dữ liệu", "The data warehouse holds no data yet")


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    """customers.csv and churn_events.csv of a small seeded warehouse, nothing else."""
    from data_seed import seed_warehouse

    source = f"duckdb:///{tmp_path_factory.mktemp('source') / 'source.duckdb'}"
    seed_warehouse(source, customers=2_000, months=12, seed=TEST_SEED, end_month=TEST_END_MONTH)
    everything = export_warehouse(source, tmp_path_factory.mktemp("all"), "csv")
    partial = tmp_path_factory.mktemp("partial")
    for name in ("customers", "churn_events"):
        shutil.copy(everything / f"{name}.csv", partial / f"{name}.csv")
    return partial


@pytest.fixture()
def partial_warehouse(extract, empty_duck_url, monkeypatch, demo_users) -> str:
    assert import_directory(extract, empty_duck_url) == 0
    monkeypatch.setenv("WAREHOUSE_URL", empty_duck_url)
    return empty_duck_url


def open_app(page: str, params: dict) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params.update(params)
    log_in(app, "executive")
    app.run()
    if page != PAGES[0]:
        app.switch_page(page).run()
    return app


@pytest.mark.parametrize("page", PAGES)
def test_no_page_says_the_warehouse_is_empty(partial_warehouse, page):
    app = open_app(page, {"lang": "en"})
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]
    texts = [item.value for item in (*app.warning, *app.info, *app.markdown)]
    assert not any(text.startswith(NO_DATA_YET) for text in texts), texts
    assert any(item.value.startswith("Data through 31/10/2026") for item in app.sidebar.caption)


def test_months_run_from_the_first_churn_to_data_through(partial_warehouse, extract):
    churned_on = pl.read_csv(extract / "churn_events.csv", try_parse_dates=True).get_column("churned_on")
    first = churned_on.min().replace(day=1)
    expected = []
    month = first
    while month <= TEST_END_MONTH:
        expected.append(format_month(month, "vi"))
        month = add_months(month, 1)
    app = open_app(PAGES[0], {})
    assert not app.exception and not app.warning, [item.value for item in app.warning]
    assert app.select_slider(key="f_period").options == expected


def test_the_pages_show_the_imported_figures(partial_warehouse, extract):
    churn = pl.read_csv(extract / "churn_events.csv", try_parse_dates=True)
    customers = pl.read_csv(extract / "customers.csv", try_parse_dates=True)
    october = churn.filter(pl.col("churned_on").dt.truncate("1mo") == TEST_END_MONTH).height
    # Active at the end of October: activated by then, not churned by then.
    end = add_months(TEST_END_MONTH, 1)
    active = customers.filter(
        (pl.col("activated_on") < end) & (pl.col("churned_on").is_null() | (pl.col("churned_on") >= end))
    ).height
    churn_page = open_app("../pages/churn/churn.py", {"lang": "en"})
    metrics = {metric.label: metric.value for metric in churn_page.metric}
    assert metrics["Churned customers"] == f"{october:,}"
    overview = open_app(PAGES[0], {"lang": "en"})
    metrics = {metric.label.split(" :")[0]: metric.value for metric in overview.metric}
    assert metrics["Active customers"] == f"{active:,}"


@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_month_range_without_revenue_on_both_dialects(extract, backend, request):
    url = request.getfixturevalue("empty_duck_url" if backend == "duckdb" else "empty_pg_url")
    assert import_directory(extract, url) == 0
    churned_on = pl.read_csv(extract / "churn_events.csv", try_parse_dates=True).get_column("churned_on")
    engine = create_engine(url)
    try:
        months = run(month_range_select(), engine)
    finally:
        engine.dispose()
    assert months.row(0) == (churned_on.min().replace(day=1), None)
