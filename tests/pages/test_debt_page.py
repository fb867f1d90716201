"""The Debt page through the running app (AppTest) on the seeded DuckDB warehouse.

- renders in Vietnamese and English with the default view, one province, and a filter
  that selects nothing (prepaid lines have no bills: a localised no-data message);
- the cards show numbers equal to an independent Polars computation from the raw tables;
- the frequent-debtor list pages in the warehouse (page 2 is the next 50 of the same
  order), is masked for the analyst and refused for the viewer; the largest debtors are
  enterprise and government accounts, largest first.
"""

from datetime import date

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts.components import card_value
from dashboard.text.strings import t
from queries.rules import FREQUENT_DEBTOR_LATE_BILLS, FREQUENT_DEBTOR_WINDOW_MONTHS
from tests import page_helpers as pages
from tests.page_helpers import assert_clean, read_tables, table_with

PAGE = "../pages/debt/debt.py"
SECTIONS = ("debt_ageing", "debt_trend", "debt_collection", "debt_pipeline", "debt_frequent", "debt_largest")
AS_OF = date(2026, 10, 31)


@pytest.fixture(autouse=True)
def users(demo_users):
    return demo_users


@pytest.fixture(scope="module")
def raw(duck_url) -> dict[str, pl.DataFrame]:
    return read_tables(duck_url, ("customers", "bills"))


@pytest.fixture()
def warehouse(duck_url, raw, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    return duck_url


def open_page(params: dict, user: str = "executive") -> AppTest:
    return pages.open_page(PAGE, params, user)


def metrics_of(app: AppTest) -> dict[str, str]:
    return {metric.label.split(" :")[0]: metric.value for metric in app.metric}


def customers_in(raw, province: str | None) -> pl.DataFrame:
    customers = raw["customers"]
    return customers.filter(pl.col("province_code") == province) if province else customers


def expected_debt(raw, province: str | None = None) -> pl.DataFrame:
    """Per customer: debt as of 31/10/2026 (due before, billed − paid by then)."""
    paid = pl.when(pl.col("paid_on") <= AS_OF).then(pl.col("paid_vnd")).otherwise(0)
    rows = raw["bills"].filter(pl.col("due_on") < AS_OF).with_columns((pl.col("billed_vnd") - paid).alias("unpaid"))
    rows = rows.filter(pl.col("unpaid") > 0).join(
        customers_in(raw, province).select("customer_id", "segment"), on="customer_id"
    )
    return rows.group_by("customer_id", "segment").agg(pl.col("unpaid").sum().cast(pl.Float64).alias("debt"))


def expected_debtors(raw, province: str | None = None) -> pl.DataFrame:
    """customer_id, late_bills, debt: ordered like the list (most debt, most late bills, id)."""
    window_start = date(2025, 11, 1)
    assert FREQUENT_DEBTOR_WINDOW_MONTHS == 12
    on_time = pl.when(pl.col("paid_on") <= pl.col("due_on")).then(pl.col("paid_vnd")).otherwise(0)
    late = raw["bills"].filter(
        (pl.col("due_on") >= window_start) & (pl.col("due_on") < AS_OF) & (pl.col("billed_vnd") > on_time)
    )
    debtors = late.group_by("customer_id").agg(pl.len().alias("late_bills"))
    debtors = debtors.filter(pl.col("late_bills") >= FREQUENT_DEBTOR_LATE_BILLS)
    debtors = debtors.join(customers_in(raw, province).select("customer_id"), on="customer_id")
    debt = expected_debt(raw, province).select("customer_id", "debt")
    debtors = debtors.join(debt, on="customer_id", how="left").with_columns(pl.col("debt").fill_null(0.0))
    return debtors.sort(["debt", "late_bills", "customer_id"], descending=[True, True, False])


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("province", [None, "79"])
def test_page_renders_with_true_numbers(warehouse, raw, lang, province):
    params = {"lang": lang, **({"province": province} if province else {})}
    app = open_page(params)
    assert_clean(app)
    assert [item.value for item in app.title] == [t("page_debt", lang)]
    assert [item.value for item in app.subheader if item.value != t("filters", lang)] == [
        t(key, lang) for key in SECTIONS
    ]
    metrics = metrics_of(app)
    outstanding = expected_debt(raw, province)["debt"].sum()
    debtors = expected_debtors(raw, province)
    label = "Outstanding debt" if lang == "en" else "Nợ cước quá hạn"
    assert metrics[label] == card_value(outstanding, "vnd", lang)
    debtor_label = "Frequent debtors" if lang == "en" else "Khách hàng thường xuyên nợ cước"
    assert metrics[debtor_label] == card_value(debtors.height, "count", lang)
    assert metrics[t("debt_held", lang)] == card_value(debtors["debt"].sum(), "vnd", lang)
    listed = table_with(app, t("col_late_bills", lang))
    assert listed[t("col_customer_id", lang)].to_list() == debtors["customer_id"].to_list()[:50]
    captions = [item.value for item in app.main.caption]
    assert any("36" in caption and caption.startswith(("T11/2023", "Nov 2023")) for caption in captions)


def test_prepaid_only_says_no_data(warehouse):
    for lang in ("vi", "en"):
        app = open_page({"lang": lang, "plan": "prepaid"})
        assert_clean(app)
        assert len(app.info) == 1 and app.info[0].value.startswith("Không có dữ liệu" if lang == "vi" else "No data")
        assert not app.metric


def test_frequent_debtor_list_pages_and_masks(warehouse, raw):
    debtors = expected_debtors(raw)["customer_id"].to_list()
    assert len(debtors) > 100
    app = open_page({"lang": "en"})
    app.number_input(key="debt_frequent_list_page").set_value(2).run()
    assert_clean(app)
    page_two = table_with(app, t("col_late_bills", "en"))
    assert page_two[t("col_customer_id", "en")].to_list() == debtors[50:100]
    assert any(item.value.startswith(f"Rows 51–100 of {len(debtors):,}") for item in app.main.caption)
    phones = set(raw["customers"]["phone"].to_list())
    analyst = open_page({"lang": "en"}, user="analyst")
    masked = table_with(analyst, t("col_late_bills", "en"))
    assert masked[t("col_customer_id", "en")].to_list() == debtors[:50]
    assert not set(masked[t("col_phone", "en")].to_list()) & phones
    viewer = open_page({"lang": "en"}, user="viewer")
    assert [item.value for item in viewer.info].count(t("list_refused", "en")) == 2  # both lists


def test_largest_debtors_are_organisations_largest_first(warehouse, raw):
    app = open_page({"lang": "en"})
    largest = table_with(app, t("col_key_account", "en"))
    expected = (
        expected_debt(raw)
        .filter(pl.col("segment").is_in(["enterprise", "government"]))
        .sort(["debt", "customer_id"], descending=[True, False])
    )
    assert largest[t("col_customer_id", "en")].to_list() == expected["customer_id"].to_list()[:50]
    assert set(largest[t("segment", "en")].to_list()) <= {"Enterprise", "Government"}
    individuals = open_page({"lang": "en", "segment": "individual"})
    assert t("debt_largest_none", "en") in [item.value for item in individuals.info]


@pytest.mark.postgres
def test_page_renders_on_postgresql(pg_url, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", pg_url)
    app = open_page({"lang": "en", "province": "79"})
    assert_clean(app)
    assert len(app.metric) == 9  # five headline cards, four about the frequent debtors
    assert all(metric.value != "—" for metric in app.metric)


def test_downloads_hold_the_whole_list_masked_for_the_analyst(warehouse, raw):
    """The file behind the download button: every frequent debtor in the list's order, with
    the analyst's masks (dashboard/paged_list.export_frame, the function the button calls)."""
    from dashboard.charts import paged_list
    from dashboard.frame.filter_options import FilterOptions, ProvinceOption, month_range
    from dashboard.frame.session import View
    from pages.debt import data as debt_data
    from queries.filters import Filters, Scope

    options = FilterOptions(
        months=month_range(date(2023, 11, 1), date(2026, 10, 1)),
        provinces=(ProvinceOption("01", "Hà Nội", "Hanoi", "Bắc", 21.0, 105.7),),
        data_through=AS_OF,
    )
    analyst = Scope(role="analyst", mask_personal_data=True, user="ana")
    view = View(Filters(date(2026, 10, 1), date(2026, 10, 1)), analyst, "vi", options, "test")
    frame, capped = paged_list.export_frame(
        debt_data.frequent_debtor_query(view), analyst, labels=debt_data.list_labels_for("vi")
    )
    debtors = expected_debtors(raw)
    assert not capped
    assert frame[t("col_customer_id", "vi")].to_list() == debtors["customer_id"].to_list()
    assert frame[t("col_debt_vnd", "vi")].to_list() == debtors["debt"].to_list()
    assert not set(frame[t("col_phone", "vi")].to_list()) & set(raw["customers"]["phone"].to_list())
