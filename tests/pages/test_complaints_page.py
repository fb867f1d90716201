"""The Complaints page through the running app (AppTest) on the seeded DuckDB warehouse.

- renders in Vietnamese and English with the default view, one province over a year, and
  a filter that selects nothing (a localised no-data message, no metric);
- the cards show numbers equal to an independent Polars computation from the raw tables;
- the breaches list pages in the warehouse, newest first, masked for the analyst and
  refused for the viewer;
- the figures the page builds carry the warehouse's numbers (AppTest has no chart accessors).
"""

from datetime import date, datetime

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts.components import card_value
from dashboard.text.strings import t
from queries import rules
from tests import page_helpers as pages
from tests.page_helpers import assert_clean, read_tables, table_with

PAGE = "../pages/complaints/complaints.py"
HEADLINE = {
    "vi": [
        "Số khiếu nại",
        "Tỷ lệ khiếu nại (trên 100 khách hàng/quý)",
        "Tỷ lệ phản hồi trong 48 giờ",
        "Thời gian giải quyết (trung vị, giờ)",
        "Tỷ lệ giải quyết đúng hạn (SLA)",
        "Khiếu nại đang mở",
    ],
    "en": [
        "Complaints",
        "Complaint rate (per 100 customers per quarter)",
        "Acknowledged within 48 h",
        "Time to resolve (median, hours)",
        "Resolved within SLA",
        "Open complaints",
    ],
}
SECTIONS = ("cx_volume", "cx_times", "cx_sla", "cx_backlog", "cx_quality", "cx_care", "cx_remote")
YEAR_HANOI_HCMC = {"from": "2025-11", "to": "2026-10", "province": "01,79"}


@pytest.fixture(autouse=True)
def users(demo_users):
    return demo_users


@pytest.fixture(scope="module")
def raw(duck_url) -> dict[str, pl.DataFrame]:
    return read_tables(duck_url, ("customers", "complaints"))


@pytest.fixture()
def warehouse(duck_url, raw, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    return duck_url


def open_page(params: dict, user: str = "executive") -> AppTest:
    return pages.open_page(PAGE, params, user)


def label_of(metric) -> str:
    return metric.label.split(" :")[0]  # without the RAG mark


def expected_counts(raw, start: date, end_next: date, provinces: tuple[str, ...] | None) -> dict[str, int]:
    """complaint_count, open_complaints and breaches, straight from the raw rows."""
    customers = raw["customers"]
    if provinces:
        customers = customers.filter(pl.col("province_code").is_in(provinces))
    rows = raw["complaints"].join(customers.select("customer_id", "is_key_account"), on="customer_id")
    stop = datetime(end_next.year, end_next.month, 1)
    opened = rows.filter((pl.col("opened_at") >= datetime(start.year, start.month, 1)) & (pl.col("opened_at") < stop))
    still_open = rows.filter(
        (pl.col("opened_at") < stop) & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= stop))
    )
    target = (
        pl.when(pl.col("is_key_account"))
        .then(rules.SLA_TARGET_HOURS_KEY_ACCOUNT)
        .when(pl.col("category") == "billing")
        .then(rules.SLA_TARGET_HOURS_BILLING)
        .otherwise(rules.SLA_TARGET_HOURS_OTHER)
    )
    hours_open = (pl.lit(stop) - pl.col("opened_at")).dt.total_microseconds() / 3_600_000_000
    return {
        "complaint_count": opened.height,
        "open_complaints": still_open.height,
        "breaches": still_open.filter(hours_open > target).height,
        "breach_ids": still_open.filter(hours_open > target)
        .sort(["opened_at", "complaint_id"], descending=True)["complaint_id"]
        .to_list(),
    }


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_page_renders_with_the_default_view_and_true_numbers(warehouse, raw, lang):
    app = open_page({"lang": lang})
    assert_clean(app)
    assert [item.value for item in app.title] == [t("page_complaints", lang)]
    assert [item.value for item in app.subheader if item.value != t("filters", lang)] == [
        t(key, lang) for key in SECTIONS
    ]
    metrics = {label_of(metric): metric.value for metric in app.metric}
    assert list(metrics)[:6] == HEADLINE[lang]
    expected = expected_counts(raw, date(2026, 10, 1), date(2026, 11, 1), None)
    assert metrics[HEADLINE[lang][0]] == card_value(expected["complaint_count"], "count", lang)
    assert metrics[HEADLINE[lang][5]] == card_value(expected["open_complaints"], "count", lang)
    assert metrics[t("cx_breach_count", lang)] == card_value(expected["breaches"], "count", lang)
    assert t("cx_escalated", lang) in metrics
    assert len(app.tabs) == 4
    targets = t(
        "cx_sla_targets",
        lang,
        key_days=rules.SLA_TARGET_HOURS_KEY_ACCOUNT // 24,
        billing=rules.SLA_TARGET_HOURS_BILLING // 24,
        other=rules.SLA_TARGET_HOURS_OTHER // 24,
        filters="",
    ).rstrip(" ·")
    assert any(item.value.startswith(targets) for item in app.main.caption)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_one_province_over_a_year(warehouse, raw, lang):
    app = open_page({**YEAR_HANOI_HCMC, "lang": lang, "province": "01"})
    assert_clean(app)
    metrics = {label_of(metric): metric.value for metric in app.metric}
    expected = expected_counts(raw, date(2025, 11, 1), date(2026, 11, 1), ("01",))
    assert metrics[HEADLINE[lang][0]] == card_value(expected["complaint_count"], "count", lang)
    assert metrics[t("cx_breach_count", lang)] == card_value(expected["breaches"], "count", lang)
    hanoi = "Hà Nội" if lang == "vi" else "Hanoi"
    assert any(item.value.startswith(f"{hanoi} · ") for item in app.main.caption)


@pytest.fixture(scope="module")
def empty_selection(raw) -> dict[str, str]:
    """URL parameters of a province × segment × plan × area without any customer."""
    present = set(raw["customers"].select("province_code", "segment", "plan", "area_type").unique().iter_rows())
    for province in sorted({row[0] for row in present}):
        for segment in ("foreign", "government", "enterprise"):
            for plan in ("postpaid", "prepaid"):
                for area in ("remote", "rural", "urban"):
                    if (province, segment, plan, area) not in present:
                        return {"province": province, "segment": segment, "plan": plan, "area": area}
    raise AssertionError("every combination has customers")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_empty_filters_say_no_data(warehouse, empty_selection, lang):
    app = open_page({"lang": lang, **empty_selection})
    assert_clean(app)
    assert len(app.info) == 1 and app.info[0].value.startswith("Không có dữ liệu" if lang == "vi" else "No data")
    assert not app.metric


def test_breaches_list_pages_newest_first_and_masks_for_the_analyst(warehouse, raw):
    params = {"from": "2026-10", "to": "2026-10", "lang": "en"}
    expected = expected_counts(raw, date(2026, 10, 1), date(2026, 11, 1), None)
    app = open_page(params)
    table = table_with(app, t("col_complaint_id", "en"))
    assert table[t("col_complaint_id", "en")].to_list() == expected["breach_ids"][:50]
    assert any(
        item.value.startswith(f"Rows 1–{min(50, expected['breaches'])} of {expected['breaches']}")
        for item in app.main.caption
    )
    phones = set(raw["customers"]["phone"].to_list())
    assert set(table[t("col_phone", "en")].to_list()) <= phones  # the executive sees numbers
    analyst = open_page(params, user="analyst")
    masked = table_with(analyst, t("col_complaint_id", "en"))
    assert masked[t("col_complaint_id", "en")].to_list() == expected["breach_ids"][:50]
    assert not set(masked[t("col_phone", "en")].to_list()) & phones
    assert all("*" in phone for phone in masked[t("col_phone", "en")].to_list())
    viewer = open_page(params, user="viewer")
    assert t("list_refused", "en") in [item.value for item in viewer.info]


def test_sla_setting_moves_the_page(warehouse, monkeypatch):
    """The page's SLA share follows queries.rules: tighten the 'other' target, the card drops."""
    before = open_page({"lang": "en", "from": "2025-11", "to": "2026-10"})
    label = t("cx_breach_count", "en")
    sla_before = {label_of(metric): metric.value for metric in before.metric}["Resolved within SLA"]
    breaches_before = {label_of(metric): metric.value for metric in before.metric}[label]
    monkeypatch.setattr(rules, "SLA_TARGET_HOURS_OTHER", 24)
    after = open_page({"lang": "en", "from": "2025-11", "to": "2026-10"})
    metrics = {label_of(metric): metric.value for metric in after.metric}
    assert float(metrics["Resolved within SLA"].rstrip("%")) < float(sla_before.rstrip("%")) - 10
    assert int(metrics[label].replace(",", "")) > int(breaches_before.replace(",", ""))


@pytest.mark.postgres
def test_page_renders_on_postgresql(pg_url, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", pg_url)
    app = open_page({"lang": "en", "province": "79", "from": "2025-11", "to": "2026-10"})
    assert_clean(app)
    assert [label_of(metric) for metric in app.metric][:6] == HEADLINE["en"]
    assert all(metric.value != "—" for metric in app.metric[:6])
