"""The Data loads page: admins read the load log (every load, refused ones too); no other role
has the page; the sidebar says when the data was last loaded."""

import json
import shutil
from datetime import date, datetime

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.text.formatting import format_datetime, format_number
from data_seed import seed_warehouse
from data_seed.export import export_months
from data_seed.monthly import load_month
from tests.conftest import log_in
from tests.page_helpers import APP, TIMEOUT, assert_clean, read_tables

END = date(2026, 10, 1)


@pytest.fixture(scope="module")
def logged_warehouse(tmp_path_factory) -> str:
    """Two months loaded month by month, and one refused attempt (a gap) between them."""
    base = tmp_path_factory.mktemp("loads")
    source = f"duckdb:///{base / 'source.duckdb'}"
    seed_warehouse(source, customers=1_000, months=2, seed=5, end_month=END)
    export_months(source, base / "extracts")
    url = f"duckdb:///{base / 'warehouse.duckdb'}"
    assert load_month(base / "extracts" / "2026-09", url, date(2026, 9, 1)) == 0
    assert load_month(base / "extracts" / "2026-10", url, date(2026, 12, 1)) == 1  # a gap: refused
    assert load_month(base / "extracts" / "2026-10", url, END) == 0
    shutil.rmtree(base / "extracts")
    return url


@pytest.fixture()
def warehouse(logged_warehouse, demo_users, monkeypatch) -> str:
    monkeypatch.setenv("WAREHOUSE_URL", logged_warehouse)
    return logged_warehouse


def opened(user: str, page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    log_in(app, user)
    if page:
        app.switch_page(page)
    app.run()
    return app


def test_admin_reads_every_load_latest_first(warehouse):
    log = read_tables(warehouse, ("load_log",))["load_log"].sort("finished_at", descending=True)
    app = opened("admin", "../pages/loads/loads.py")
    assert_clean(app)
    shown = app.dataframe[0].value
    assert len(shown) == log.height == 4  # the empty warehouse made for the first month, 2 months, 1 refusal
    assert shown["Kết quả"].tolist() == ["Đã nạp", "Bị từ chối", "Đã nạp", "Đã nạp"]
    assert shown["Tháng"].tolist()[:3] == ["T10/2026", "T12/2026", "T9/2026"]
    assert "would leave a gap" in shown["Ghi chú"].iloc[1]
    files = json.loads(log.item(0, "files"))
    expected_rows = format_number(sum(entry["rows"] for entry in files), "vi")
    assert shown["Số dòng đọc"].iloc[0] == expected_rows and {entry["table"] for entry in files} >= {"revenue_monthly"}


@pytest.mark.parametrize("user", ["executive", "analyst", "manager", "viewer"])
def test_no_other_role_reaches_the_page(warehouse, user):
    """For anyone but an admin the page is not registered: its address opens the Overview."""
    app = opened(user, "../pages/loads/loads.py")
    assert not app.exception
    assert [title.value for title in app.title] != ["Nạp dữ liệu"]
    assert not any("Kết quả" in table.value.columns for table in app.dataframe)


def test_the_sidebar_says_when_the_data_was_last_loaded(warehouse):
    meta = dict(read_tables(warehouse, ("warehouse_meta",))["warehouse_meta"].iter_rows())
    app = opened("executive")
    loaded = format_datetime(datetime.fromisoformat(meta["loaded_at"]), "vi")
    assert any(f"nạp lần cuối {loaded}" in caption.value for caption in app.sidebar.caption)
