"""The paged customer list (dashboard/charts/paged_list.py) against the seeded DuckDB warehouse.

Checked against an independent count straight from the file: paging (one page of rows,
no overlap), masking for the analyst, refusal for viewer and admin (no query run),
downloads equal to the filtered rows, the cap, and the audit line each download writes.
"""

import functools
import io
from datetime import date

import duckdb
import openpyxl
import polars as pl
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboard.access import audit
from dashboard.access.masking import MASKED_VALUE
from dashboard.charts import paged_list
from dashboard.frame.filter_options import FilterOptions, ProvinceOption, month_range
from dashboard.frame.session import View
from queries.engine import duckdb_path
from queries.filters import Filters, Scope, customer_conditions
from queries.tables import customers, provinces

FILTERS = Filters(start_month=date(2026, 10, 1), end_month=date(2026, 10, 1), segments=("enterprise",))
OPTIONS = FilterOptions(
    months=month_range(date(2023, 11, 1), date(2026, 10, 1)),
    provinces=(ProvinceOption("01", "Hà Nội", "Hanoi", "Bắc", 21.0, 105.7),),
    data_through=date(2026, 10, 31),
)
EXECUTIVE = Scope(role="executive", user="exec")
ANALYST = Scope(role="analyst", mask_personal_data=True, user="ana")
MANAGER = Scope(role="regional_manager", provinces=frozenset({"01", "31"}), user="lan")
VIEWER = Scope(role="viewer", can_list_customers=False, mask_personal_data=True, user="vi")
ADMIN = Scope(role="admin", can_list_customers=False, mask_personal_data=True, user="ad")


def customer_list(filters: Filters, scope: Scope):
    c = customers.c
    return (
        select(c.customer_id, c.full_name, c.phone, c.province_code, c.segment)
        .where(customer_conditions(filters, scope, customers, provinces))
        .order_by(c.customer_id)
    )


def view_for(scope: Scope, filters: Filters = FILTERS) -> View:
    return View(filters=filters, scope=scope, lang="en", options=OPTIONS, description="test list")


@functools.cache
def expected_ids(duck_url: str, provinces_in: tuple[str, ...] | None = None) -> list[int]:
    """Enterprise customers (in these provinces), by id: straight from the file (read before
    the app opens its own read-only engine on it: DuckDB refuses a second configuration)."""
    sql = "select customer_id from customers where segment = 'enterprise'"
    if provinces_in:
        sql += " and province_code in (" + ",".join(f"'{code}'" for code in provinces_in) + ")"
    with duckdb.connect(str(duckdb_path(duck_url)), read_only=True) as connection:
        return [row[0] for row in connection.execute(sql + " order by customer_id").fetchall()]


@pytest.fixture()
def warehouse(duck_url, monkeypatch, tmp_path):
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    expected_ids(duck_url), expected_ids(duck_url, ("01", "31"))
    return duck_url


def test_pages_come_from_the_warehouse_one_at_a_time(warehouse):
    query = customer_list(FILTERS, MANAGER)
    wanted = expected_ids(warehouse, ("01", "31"))
    first = paged_list.fetch_page(query, MANAGER, 1, page_size=50)
    second = paged_list.fetch_page(query, MANAGER, 2, page_size=50)
    last = paged_list.fetch_page(query, MANAGER, 10_000, page_size=50)  # past the end: the last page
    assert first.total == len(wanted) > 100
    assert first.pages == -(-len(wanted) // 50)
    assert first.rows.height == 50 and second.rows.height == 50
    assert first.rows["customer_id"].to_list() == wanted[:50]
    assert second.rows["customer_id"].to_list() == wanted[50:100]
    assert last.page == first.pages
    assert last.rows["customer_id"].to_list() == wanted[(first.pages - 1) * 50 :]
    assert set(first.rows["province_code"]) <= {"01", "31"}


def test_the_page_select_limits_in_the_warehouse():
    sql = str(paged_list.page_select(customer_list(FILTERS, EXECUTIVE), 3, 50).compile())
    assert "LIMIT" in sql and "OFFSET" in sql


def test_an_unordered_select_is_refused(warehouse):
    with pytest.raises(ValueError, match="ordered"):
        paged_list.fetch_total(select(customers.c.customer_id), EXECUTIVE)


def test_the_analyst_sees_names_and_phones_masked(warehouse):
    query = customer_list(FILTERS, ANALYST)
    plain = paged_list.fetch_page(query, EXECUTIVE, 1).rows
    masked = paged_list.fetch_page(query, ANALYST, 1, personal_columns=("segment",)).rows
    assert plain["customer_id"].to_list() == masked["customer_id"].to_list()
    for name, phone, shown_name, shown_phone in zip(
        plain["full_name"], plain["phone"], masked["full_name"], masked["phone"], strict=True
    ):
        assert shown_phone == phone[:3] + "****" + phone[-3:]
        assert shown_name != name and shown_name.split()[0] == name.split()[0] and "*" in shown_name
    assert set(masked["segment"]) == {MASKED_VALUE}  # a caller-marked personal column


@pytest.mark.parametrize("scope", [VIEWER, ADMIN], ids=["viewer", "admin"])
def test_roles_without_lists_get_nothing(warehouse, scope):
    query = customer_list(FILTERS, scope)
    with pytest.raises(paged_list.ListRefused):
        paged_list.fetch_page(query, scope, 1)
    with pytest.raises(paged_list.ListRefused):
        paged_list.export_bytes(query, view_for(scope), "csv", file_stem="x")
    assert audit.read_events() == []


def test_the_download_is_the_whole_filtered_list_and_is_audited(warehouse):
    view = view_for(MANAGER)
    query = customer_list(FILTERS, MANAGER)
    data = paged_list.export_bytes(query, view, "csv", file_stem="enterprise", labels={"full_name": "Name"})
    assert data.startswith("\ufeff".encode())
    frame = pl.read_csv(io.BytesIO(data[3:]), schema_overrides={"phone": pl.String, "province_code": pl.String})
    assert frame["customer_id"].to_list() == expected_ids(warehouse, ("01", "31"))
    assert "Name" in frame.columns and set(frame["province_code"]) == {"01", "31"}
    (event,) = audit.read_events()
    assert event["event"] == "export" and event["user"] == "lan"
    assert event["filters"]["segments"] == ["enterprise"]
    assert event["description"] == "test list"
    assert event["detail"]["format"] == "csv" and event["detail"]["rows"] == frame.height
    assert event["detail"]["capped"] is False and event["detail"]["role"] == "regional_manager"


def test_the_excel_download_is_masked_for_the_analyst_and_capped(warehouse):
    view = view_for(ANALYST)
    query = customer_list(FILTERS, ANALYST)
    data = paged_list.export_bytes(query, view, "xlsx", file_stem="enterprise", cap=120)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == 120
    phones = [row[header.index("phone")] for row in body]
    assert all("****" in phone for phone in phones)
    ids = [row[header.index("customer_id")] for row in body]
    assert ids == expected_ids(warehouse)[:120]
    (event,) = audit.read_events()
    assert event["detail"] | {"capped": True, "rows": 120, "format": "xlsx", "masked": True} == event["detail"]


def list_script(scope_fields: dict, page_size: int, export_cap: int) -> None:
    """A page with one list (AppTest runs this body as the script)."""
    from datetime import date

    from sqlalchemy import select

    from dashboard.charts.paged_list import paged_list
    from dashboard.frame.filter_options import FilterOptions, month_range
    from dashboard.frame.session import View
    from queries.filters import Filters, Scope, customer_conditions
    from queries.tables import customers, provinces

    scope = Scope(**scope_fields)
    filters = Filters(start_month=date(2026, 10, 1), end_month=date(2026, 10, 1), segments=("enterprise",))
    options = FilterOptions(month_range(date(2026, 1, 1), date(2026, 10, 1)), (), date(2026, 10, 31))
    view = View(filters=filters, scope=scope, lang="en", options=options, description="test list")
    c = customers.c
    query = (
        select(c.customer_id, c.full_name, c.phone, c.province_code)
        .where(customer_conditions(filters, scope, customers, provinces))
        .order_by(c.customer_id)
    )
    paged_list(query, view, key="test_list", file_stem="test", page_size=page_size, export_cap=export_cap)


def open_list(scope: Scope, page_size: int = 50, export_cap: int = 100_000) -> AppTest:
    fields = {
        "role": scope.role,
        "provinces": scope.provinces,
        "can_list_customers": scope.can_list_customers,
        "mask_personal_data": scope.mask_personal_data,
        "user": scope.user,
    }
    app = AppTest.from_function(list_script, args=(fields, page_size, export_cap), default_timeout=60)
    app.run()
    assert not app.exception, [item.value for item in app.exception]
    return app


def test_the_widget_pages_through_the_list(warehouse):
    wanted = expected_ids(warehouse, ("01", "31"))
    app = open_list(MANAGER)
    table = app.dataframe[0].value
    assert len(table) == 50 and table["customer_id"].tolist() == wanted[:50]
    assert f"Rows 1–50 of {len(wanted):,}" in app.caption[0].value
    app.number_input(key="test_list_page").set_value(3).run()
    assert app.dataframe[0].value["customer_id"].tolist() == wanted[100:150]
    assert "Rows 101–150" in app.caption[0].value


def test_the_widget_notes_the_cap_and_the_masking(warehouse):
    app = open_list(ANALYST, export_cap=10)
    captions = " ".join(caption.value for caption in app.caption)
    assert "Names and phone numbers are masked" in captions
    assert "The download holds the first 10 of" in captions
    assert all("****" in phone for phone in app.dataframe[0].value["phone"])


@pytest.mark.parametrize("scope", [VIEWER, ADMIN], ids=["viewer", "admin"])
def test_the_widget_refuses_roles_without_lists(warehouse, scope):
    app = open_list(scope)
    assert not app.dataframe
    assert [item.value for item in app.info] == ["Your role sees aggregate figures only, not lists of customers."]
