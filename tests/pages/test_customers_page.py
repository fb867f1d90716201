"""The Customers page: every figure it shows equals an independent computation from the
warehouse (tests/customers_churn_reference.py), for two filter combinations; the article's
effects are visible in its data; it renders in vi and en with default, one-province and
empty filters; the drill-down list pages, masks and downloads exactly the filtered rows.

The page's numbers are tested through the data functions it calls (AppTest has no chart
accessors: the frames that feed the charts are asserted), and its metric values through
AppTest of the real app (dashboard/app.py, logged in as a demo user).
"""

import csv
import io
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access import audit
from dashboard.charts.components import card_value
from dashboard.charts.paged_list import PAGE_SIZE, export_bytes, export_frame, fetch_page
from dashboard.frame.filter_options import load_filter_options
from dashboard.frame.filter_text import describe_filters
from dashboard.frame.session import View
from dashboard.text.formatting import format_delta
from pages.customers import data as customers_data
from queries.customers import AREA_MEASURES, MIX_DIMENSIONS
from queries.filters import Filters, Scope
from tests import customers_churn_reference as ref
from tests.conftest import log_in

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
TIMEOUT = 120
CASES = {
    # the default view: the last complete month, the whole country, an executive
    "country_last_month": (Filters(date(2026, 10, 1), date(2026, 10, 1)), Scope(user="exec")),
    # half a year of the south under a regional manager (01, 79, 92 → 79 and 92 in the south),
    # two segments and three age bands, against the same half-year of 2025
    "south_h1_manager_last_year": (
        Filters(
            date(2026, 4, 1),
            date(2026, 9, 1),
            "last_year",
            regions=("Nam",),
            segments=("individual", "enterprise"),
            age_bands=("18-24", "25-34", "65+"),
        ),
        Scope(role="regional_manager", provinces=frozenset({"01", "79", "92"}), user="lan"),
    ),
}
EXECUTIVE = Scope(role="executive", user="executive")
ANALYST = Scope(role="analyst", mask_personal_data=True, user="analyst")
MASKED_PHONE = re.compile(r"^\d{3}\*+\d{3}$")


@pytest.fixture()
def raw(duck_url):
    """Raw tables read before the dashboard opens its own read-only engine on the file."""
    return ref.raw_tables(duck_url)


@pytest.fixture()
def warehouse(duck_url, raw, monkeypatch, tmp_path) -> str:
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    return duck_url


def make_view(filters: Filters, scope: Scope, lang: str = "vi") -> View:
    """The View the frame would publish for these filters and this scope."""
    options = load_filter_options(scope)
    return View(filters, scope, lang, options, describe_filters(filters, options, lang, scope))


def assert_close(got, want, what):
    assert ref.close(got, want), f"{what}: got {got}, expected {want}"


# --- the numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_kpi_cards(warehouse, raw, case):
    filters, scope = CASES[case]
    cards = customers_data.kpi_cards(make_view(filters, scope))
    assert [card.measure.name for card in cards] == list(customers_data.CARD_MEASURES)
    for card in cards:
        name = card.measure.name
        assert_close(card.value, ref.registry_total(raw, name, filters, scope), name)
        assert_close(card.previous, ref.registry_total(raw, name, filters.comparison_filters(), scope), name)
        assert len(card.trend) == 12, name
        if name in ("active_customers", "arpu") and not filters.segments:
            assert card.target is not None, name
        else:
            assert card.target is None, name  # no target for customer slices


@pytest.mark.parametrize("case", list(CASES))
def test_mix_by_every_dimension(warehouse, raw, case):
    filters, scope = CASES[case]
    view = make_view(filters, scope)
    for dimension in MIX_DIMENSIONS:
        frame = customers_data.mix_frame(view, dimension)
        now = ref.mix(raw, filters, scope, dimension)
        before = ref.mix(raw, filters.comparison_filters(), scope, dimension)
        assert set(frame["member"].to_list()) == set(now) | set(before), dimension
        for row in frame.iter_rows(named=True):
            member = row["member"]
            assert_close(row["customers"], now.get(member, (0.0, None))[0], f"{dimension}/{member}")
            assert_close(row["share"], now.get(member, (None, None))[1], f"{dimension}/{member} share")
            assert_close(row["customers_comparison"], before.get(member, (None, None))[0], f"{dimension}/{member} cmp")
            assert row["label"] and row["label"] != "—" or member is None
        if dimension == "province_code":
            assert frame["customers"].to_list() == sorted(frame["customers"].to_list(), reverse=True)
        elif dimension in customers_data.MEMBER_ORDER:
            order = customers_data.MEMBER_ORDER[dimension]
            present = [member for member in frame["member"].to_list() if member in order]
            assert present == [member for member in order if member in present], dimension


@pytest.mark.parametrize("case", list(CASES))
def test_value_by_segment_and_arpu(warehouse, raw, case):
    filters, scope = CASES[case]
    view = make_view(filters, scope)
    frame = customers_data.segment_value_frame(view)
    expected = ref.segment_value(raw, filters, scope)
    assert set(frame["segment"].to_list()) == set(expected)
    for row in frame.iter_rows(named=True):
        for column in ("customers", "customer_share", "revenue", "revenue_share", "arpu"):
            assert_close(row[column], expected[row["segment"]][column], f"{row['segment']} {column}")
    for dimension in customers_data.ARPU_DIMENSIONS:
        arpu = customers_data.arpu_frame(view, dimension)
        wanted = ref.arpu_by(raw, filters, scope, dimension)
        assert set(arpu["member"].to_list()) == set(wanted), dimension
        for member, value in arpu.select("member", "value").iter_rows():
            assert_close(value, wanted[member], f"arpu {dimension}/{member}")


@pytest.mark.parametrize("case", list(CASES))
def test_the_articles_classification(warehouse, raw, case):
    filters, scope = CASES[case]
    view = make_view(filters, scope)
    cards = {card.measure.name: card for card in customers_data.class_cards(view)}
    assert list(cards) == list(customers_data.CLASS_NAMES)
    now = ref.big_customers(raw, filters, scope).row(0, named=True)
    before = ref.big_customers(raw, filters.comparison_filters(), scope).row(0, named=True)
    for name in ("key_accounts", "top_revenue", "big_customers"):
        assert (cards[name].value, cards[name].previous) == (now[name], before[name]), name
    key_trend = ref.key_accounts_trend(raw, filters, scope, 12)
    assert list(cards["key_accounts"].trend) == [key_trend[month] for month in sorted(key_trend)]
    for name in customers_data.CLASS_REGISTRY:
        assert_close(cards[name].value, ref.registry_total(raw, name, filters, scope), name)

    by_province = customers_data.class_by_province_frame(view)
    big = ref.big_customers(raw, filters, scope, ("province_code",))
    lookup = {row["province_code"]: row for row in big.iter_rows(named=True)}
    registry = {
        name: ref.as_dict(ref.registry(raw, name, filters, scope, ("province_code",)), "province_code")
        for name in customers_data.CLASS_REGISTRY
    }
    expected_codes = set(lookup) | {code for values in registry.values() for code in values}
    assert set(by_province["province_code"].to_list()) == expected_codes
    for row in by_province.iter_rows(named=True):
        code = row["province_code"]
        for name in ("key_accounts", "top_revenue", "big_customers"):
            assert row[name] == (lookup[code][name] if code in lookup else 0.0), (code, name)
        for name in customers_data.CLASS_REGISTRY:
            assert row[name] == (registry[name].get(code) or 0.0), (code, name)
    assert by_province["big_customers"].to_list() == sorted(by_province["big_customers"].to_list(), reverse=True)
    bars = customers_data.class_bar_frame(by_province, "frequent_debtors")
    assert bars.columns == ["label", "value"] and bars["value"].to_list() == by_province["frequent_debtors"].to_list()


@pytest.mark.parametrize("case", list(CASES))
def test_remote_area_view(warehouse, raw, case):
    filters, scope = CASES[case]
    view = make_view(filters, scope, "en")
    frame = customers_data.area_frame(view)
    assert frame["area_type"].to_list() == ["urban", "rural", "remote"]
    assert frame["label"].to_list() == ["Urban", "Rural", "Remote"]
    for name in AREA_MEASURES:
        expected = ref.as_dict(ref.registry(raw, name, filters, scope, ("area_type",)), "area_type")
        for area, value in frame.select("area_type", name).iter_rows():
            assert_close(value, expected.get(area), f"{name}/{area}")
    table = customers_data.area_table(frame, "en")
    assert table.columns == ["Indicator", "Urban", "Rural", "Remote"] and table.height == len(AREA_MEASURES)


def test_the_articles_effects_are_in_the_page_data(warehouse):
    view = make_view(*CASES["country_last_month"])
    value = {row["segment"]: row for row in customers_data.segment_value_frame(view).iter_rows(named=True)}
    shares = {segment: row["revenue_share"] for segment, row in value.items()}
    assert max(shares, key=shares.get) == "individual", "individuals bring the largest share of revenue"
    assert value["individual"]["customer_share"] > value["individual"]["revenue_share"]
    assert value["enterprise"]["revenue_share"] > 2 * value["enterprise"]["customer_share"]
    arpu = dict(customers_data.arpu_frame(view, "plan").select("member", "value").iter_rows())
    assert arpu["postpaid"] > 2 * arpu["prepaid"], "postpaid ARPU is several times prepaid"
    areas = customers_data.area_frame(view).filter(pl.col("area_type") == "remote").row(0, named=True)
    assert areas["active_customers"] > 0 and areas["revenue"] > 0, "the service reaches remote areas"


# --- the page in the app --------------------------------------------------------------------------


def open_page(params: dict, user: str = "executive", page: str = "customers") -> AppTest:
    """The real app, logged in as `user`, on the page (reached through the navigation)."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params.update(params)
    log_in(app, user)
    app.run()
    app.switch_page(f"../pages/{page}/{page}.py").run()
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]
    return app


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_page_renders_default_one_province_and_empty(warehouse, raw, demo_users, lang):
    title = "Khách hàng" if lang == "vi" else "Customers"
    app = open_page({"lang": lang})
    assert [item.value for item in app.title] == [title]
    filters, scope = CASES["country_last_month"]
    metrics = {item.label.split(" :")[0]: item for item in app.metric}
    active = metrics["Khách hàng đang hoạt động" if lang == "vi" else "Active customers"]
    expected = ref.registry_total(raw, "active_customers", filters, scope)
    before = ref.registry_total(raw, "active_customers", filters.comparison_filters(), scope)
    assert active.value == card_value(expected, "count", lang)
    assert active.delta == format_delta(expected, before, "count", lang)
    assert len(app.metric) == len(customers_data.CARD_MEASURES) + len(customers_data.CLASS_NAMES)
    assert len(app.subheader) >= 5

    hanoi = open_page({"lang": lang, "province": "01"})
    in_hanoi = ref.registry_total(
        raw, "active_customers", Filters(date(2026, 10, 1), date(2026, 10, 1), provinces=("01",)), scope
    )
    assert hanoi.metric[0].value == card_value(in_hanoi, "count", lang)
    assert any(caption.value.startswith("Hà Nội · " if lang == "vi" else "Hanoi · ") for caption in hanoi.main.caption)

    empty = open_page({"lang": lang, "province": "01", "segment": "foreign", "plan": "postpaid", "area": "remote"})
    assert not empty.metric
    assert len(empty.info) == 1 and empty.info[0].value.startswith("Không có dữ liệu" if lang == "vi" else "No data")


def choose_province(app: AppTest, code: str) -> AppTest:
    app.radio(key="customers_drill_by").set_value("province_code").run()
    app.selectbox(key="customers_drill_province_code").set_value(code).run()
    assert not app.exception, [item.value for item in app.exception]
    return app


def list_table(app: AppTest):
    tables = [table.value for table in app.dataframe if "Customer id" in table.value.columns]
    assert len(tables) == 1
    return tables[0]


@pytest.mark.parametrize("user", ["executive", "analyst"])
def test_the_drill_down_lists_one_page_masked_for_the_analyst(warehouse, raw, demo_users, user):
    app = choose_province(open_page({"lang": "en"}, user), "79")
    table = list_table(app)
    filters, scope = CASES["country_last_month"]
    expected = ref.customer_list(raw, filters, scope, province="79")
    assert expected.height > PAGE_SIZE
    assert len(table) == PAGE_SIZE, "never more than a page of rows goes to the browser"
    assert table["Customer id"].tolist() == expected["customer_key"].to_list()[:PAGE_SIZE]
    captions = " ".join(caption.value for caption in app.main.caption)
    assert f"Rows 1–{PAGE_SIZE} of {expected.height:,}" in captions
    if user == "analyst":
        assert all(MASKED_PHONE.match(phone) for phone in table["Phone"])
        assert all("*" in name for name in table["Name"])
        assert "Names and phone numbers are masked" in captions
    else:
        assert table["Phone"].tolist() == expected["phone"].to_list()[:PAGE_SIZE]
        assert table["Name"].tolist() == expected["full_name"].to_list()[:PAGE_SIZE]
    app.number_input(key="customers_drill_list_page").set_value(2).run()
    second = list_table(app)
    assert second["Customer id"].tolist() == expected["customer_key"].to_list()[PAGE_SIZE : 2 * PAGE_SIZE]


def test_the_drill_down_is_refused_to_a_viewer(warehouse, demo_users):
    app = choose_province(open_page({"lang": "en"}, "viewer"), "79")
    assert not [table for table in app.dataframe if "Customer id" in table.value.columns]
    assert "Your role sees aggregate figures only, not lists of customers." in [item.value for item in app.info]


@pytest.mark.parametrize("case", list(CASES))
def test_downloads_hold_exactly_the_filtered_rows(warehouse, raw, case):
    filters, scope = CASES[case]
    for masked_scope in (scope, Scope(**{**scope.__dict__, "mask_personal_data": True})):
        view = make_view(filters, masked_scope, "en")
        for province, segment in (("79", None), (None, "enterprise")):
            query = customers_data.list_query(view, province_code=province, segment=segment)
            frame, capped = export_frame(query, masked_scope)
            expected = ref.customer_list(raw, filters, scope, province, segment)
            assert not capped and frame.height == expected.height > 0
            assert frame["customer_key"].to_list() == expected["customer_key"].to_list()
            assert frame["province_code"].to_list() == expected["province_code"].to_list()
            assert frame["revenue_12m"].to_list() == expected["revenue_12m"].to_list()
            assert frame["activated_on"].to_list() == expected["activated_on"].to_list()
            if masked_scope.mask_personal_data:
                assert all(MASKED_PHONE.match(phone) for phone in frame["phone"])
                assert frame["full_name"].to_list() != expected["full_name"].to_list()
            else:
                assert frame["phone"].to_list() == expected["phone"].to_list()
            page = fetch_page(query, masked_scope, 1)
            assert page.total == expected.height and page.rows.height == min(PAGE_SIZE, expected.height)


def test_the_csv_download_is_the_list_and_is_audited(warehouse, raw):
    filters, _ = CASES["country_last_month"]
    view = make_view(filters, EXECUTIVE, "vi")
    query = customers_data.list_query(view, segment="government")
    data = export_bytes(query, view, "csv", file_stem="customers_government")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    expected = ref.customer_list(raw, filters, EXECUTIVE, segment="government")
    assert [row["customer_key"] for row in rows] == expected["customer_key"].to_list()
    assert {row["segment"] for row in rows} == {"Cơ quan nhà nước"}
    assert {row["status"] for row in rows} <= {"Đang hoạt động", "Đã rời mạng"}
    (event,) = audit.read_events()
    assert event["event"] == "export" and event["user"] == "executive"
    assert event["detail"]["rows"] == len(rows) and event["detail"]["format"] == "csv"


def test_a_regional_manager_drills_only_into_own_provinces(warehouse):
    manager = Scope(role="regional_manager", provinces=frozenset({"01", "31"}), user="lan")
    view = make_view(Filters(date(2026, 10, 1), date(2026, 10, 1)), manager)
    assert customers_data.list_choices(view, "province_code") == ["01", "31"]
    outside = customers_data.list_query(view, province_code="79")
    assert fetch_page(outside, manager, 1).total == 0
