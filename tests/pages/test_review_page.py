"""The Review page: renders for every role and filter, its scorecard equals an independent
computation from the raw tables, and a regional manager sees the country but no other province."""

from dataclasses import replace
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from dashboard.frame.filter_options import load_filter_options
from dashboard.frame.filter_text import describe_filters
from dashboard.frame.session import View
from dashboard.review.data import load_review
from queries.filters import UNRESTRICTED, Filters, Scope
from queries.metrics import MEASURES
from queries.review import review_period
from queries.rules import RAG_AMBER_BAND, RAG_AMBER_BAND_POINTS
from tests.conftest import log_in
from tests.dashboard.frame.test_app import APP, FRESHNESS, HANOI, TIMEOUT
from tests.measure_reference import load_raw, reference_value

REVIEW = "../pages/review/review.py"
TITLES = {"vi": "Đánh giá định kỳ", "en": "Periodic review"}
SUBHEADERS = {
    "vi": [
        "Bảng điểm so với mục tiêu",
        "Phát hiện chính",
        "Theo miền và tỉnh/thành",
        "Điều gì hiệu quả",
        "Tài liệu họp",
    ],
    "en": ["Scorecard against targets", "Key findings", "By region and province", "What worked", "Meeting pack"],
}
MANAGER_PROVINCES = frozenset({"01", "31"})  # the demo regional manager: Hà Nội, Hải Phòng


@pytest.fixture(autouse=True)
def users(demo_users) -> dict:
    return demo_users


@pytest.fixture()
def warehouse(duck_url, monkeypatch) -> str:
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    return duck_url


def open_review(params: dict, user: str = "executive") -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.query_params.update(params)
    log_in(app, user)
    app.run()
    app.switch_page(REVIEW).run()
    return app


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]
    assert not app.warning, [item.value for item in app.warning]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_page_renders_with_default_one_province_and_empty_filters(warehouse, lang):
    empty = {"province": "01", "segment": "government", "plan": "prepaid", "area": "remote", "age": "18-24"}
    for params in ({}, {"province": "01"}, empty):
        app = open_review({"lang": lang, **params})
        assert_clean(app)
        assert [item.value for item in app.title] == [TITLES[lang]]
        assert any(item.value.startswith(FRESHNESS[lang]) for item in app.sidebar.caption)
        subheaders = [item.value for item in app.main.subheader]
        assert subheaders[:2] == SUBHEADERS[lang][:2], subheaders
        captions = [item.value for item in app.main.caption]
        if params.get("province") == "01" and "segment" not in params:
            assert any(caption.startswith(HANOI[lang] + " · ") for caption in captions), captions
        if not params:
            assert subheaders == SUBHEADERS[lang], subheaders
            assert app.button(key="review_pack_build")


def test_the_period_choice_lives_in_the_link(warehouse):
    app = open_review({"review": "quarter", "lang": "en"})
    assert_clean(app)
    assert app.radio(key="review_kind").value == "quarter"
    assert "Review of **Q3 2026**" in app.markdown[0].value
    app.radio(key="review_kind").set_value("year").run()
    assert app.query_params["review"] == "year"
    assert "Review of **2025**" in app.markdown[0].value
    junk = open_review({"review": "decade"})
    assert [item.value for item in junk.warning] == ["Đã bỏ qua tham số không hợp lệ trong đường dẫn: review=decade"]
    assert junk.radio(key="review_kind").value == "month"


def test_only_an_administrator_sees_the_targets_upload(warehouse):
    label = "Quản lý mục tiêu"
    assert label in [item.label for item in open_review({}, "admin").expander]
    for user in ("executive", "manager", "viewer"):
        assert label not in [item.label for item in open_review({}, user).expander], user


def test_a_finding_opens_its_page_with_its_filters(warehouse):
    app = open_review({"lang": "en"})
    buttons = [button for button in app.button if button.key and button.key.startswith("review_finding_")]
    assert buttons, "the seeded warehouse yields findings for October 2026"
    data = app.session_state["_view"]
    assert data.filters.end_month == date(2026, 10, 1)
    buttons[0].click().run()
    assert_clean(app)
    assert app.title[0].value != TITLES["en"]  # another page now
    assert app.query_params["from"] == app.query_params["to"] == "2026-10"


# --- the numbers ---------------------------------------------------------------------------------


def view_for(scope: Scope, filters: Filters, lang: str = "en") -> View:
    options = load_filter_options(scope)
    return View(filters, scope, lang, options, describe_filters(filters, options, lang, scope))


def reference_target(raw: dict, name: str, filters: Filters, provinces: frozenset[str] | None) -> float | None:
    """The target of queries.metrics.target_select, recomputed in Polars from kpi_targets."""
    measure = MEASURES[name]
    start = filters.end_month if measure.kind == "stock" else filters.start_month
    rows = raw["kpi_targets"].filter(
        (pl.col("measure") == name) & pl.col("target_month").is_between(start, filters.end_month)
    )
    rows = rows.filter(
        pl.col("province_code") == "00" if provinces is None else pl.col("province_code").is_in(sorted(provinces))
    )
    if rows.is_empty():
        return None
    values = rows["target_value"]
    return float(values.sum() if measure.additive else values.mean())  # ARPU is money but a ratio


def approx_or_none(value: float | None, expected: float | None) -> bool:
    """Equal to 1e-9 relative, or both unknown (a ratio of nothing: no complaint resolved there)."""
    if expected is None:
        return value is None
    return value == pytest.approx(expected, rel=1e-9)


def reference_status(value: float | None, target: float | None, name: str) -> str | None:
    measure = MEASURES[name]
    if value is None or target is None:
        return None
    shortfall = (target - value) * measure.direction
    band = RAG_AMBER_BAND_POINTS if measure.unit == "points" else abs(target) * RAG_AMBER_BAND
    return "green" if shortfall <= 0 else "amber" if shortfall <= band else "red"


@pytest.mark.parametrize("kind", ["month", "quarter"])
def test_the_scorecard_equals_an_independent_computation(warehouse, kind):
    raw = load_raw(warehouse)
    data = load_review(view_for(UNRESTRICTED, Filters(date(2026, 10, 1), date(2026, 10, 1))), kind)
    period = review_period(kind, date(2026, 10, 1))
    assert data.period == period
    targeted = set(raw["kpi_targets"]["measure"].unique().to_list())
    assert set(data.scorecard["measure"].to_list()) == targeted & set(MEASURES)
    for row in data.scorecard.iter_rows(named=True):
        name = row["measure"]
        for column, compared in (("current", period), ("previous", period.previous), ("last_year", period.last_year)):
            expected = reference_value(raw, name, compared.filters(data.filters), UNRESTRICTED, ())["value"][0]
            assert approx_or_none(row[column], expected), (name, column)
        target = reference_target(raw, name, data.filters, None)
        assert row["target"] == pytest.approx(target, rel=1e-12), name
        assert row["gap"] == pytest.approx(row["current"] - target, rel=1e-9, abs=1e-12), name
        assert row["status"] == reference_status(row["current"], target, name), name
        assert row["trend"][-1] == pytest.approx(row["current"], rel=1e-9), name
        assert len(row["trend"]) == 6
    # Province rows: each province's own value and target.
    provinces = data.breakdown.filter(pl.col("level") == "province_code")
    assert provinces["code"].n_unique() == 34
    for row in provinces.filter(pl.col("code").is_in(["01", "38", "79"])).iter_rows(named=True):
        filters = replace(data.filters, provinces=(row["code"],))
        expected = reference_value(raw, row["measure"], filters, UNRESTRICTED, ())["value"][0]
        assert approx_or_none(row["current"], expected), (row["code"], row["measure"])
        target = reference_target(raw, row["measure"], filters, frozenset({row["code"]}))
        assert row["target"] == pytest.approx(target, rel=1e-12), (row["code"], row["measure"])


def test_a_regional_manager_sees_the_country_and_only_their_provinces(warehouse):
    raw = load_raw(warehouse)
    manager = Scope(role="regional_manager", provinces=MANAGER_PROVINCES, user="manager")
    data = load_review(view_for(manager, Filters(date(2026, 10, 1), date(2026, 10, 1))), "month")
    levels = set(data.breakdown["level"].to_list())
    assert levels == {"country", "selection", "province_code"}  # no region made of a subset of it
    codes = set(data.breakdown.filter(pl.col("level") == "province_code")["code"].to_list())
    assert codes == MANAGER_PROVINCES
    assert all(finding.province_code in (None, *MANAGER_PROVINCES) for finding in data.findings)
    national = load_review(view_for(UNRESTRICTED, data.filters), "month")
    for row in data.breakdown.filter(pl.col("level") == "country").iter_rows(named=True):
        everyone = national.scorecard.filter(pl.col("measure") == row["measure"]).row(0, named=True)
        assert approx_or_none(row["current"], everyone["current"]), row["measure"]
        assert approx_or_none(row["target"], everyone["target"]), row["measure"]
    for row in data.scorecard.iter_rows(named=True):  # the scorecard itself is their provinces only
        expected = reference_value(raw, row["measure"], data.filters, manager, ())["value"][0]
        assert approx_or_none(row["current"], expected), row["measure"]
    # Campaigns, training, SLA and care are within the scope too.
    assert data.campaigns["total"]["contacted_n"][0] < national.campaigns["total"]["contacted_n"][0]
    assert data.training["total"]["resolved"].sum() < national.training["total"]["resolved"].sum()


def test_a_manager_without_provinces_sees_nothing(warehouse):
    nobody = Scope(role="regional_manager", provinces=frozenset(), user="nobody")
    options = load_filter_options(UNRESTRICTED)  # what the frame would never hand this user
    filters = Filters(date(2026, 10, 1), date(2026, 10, 1))
    data = load_review(View(filters, nobody, "vi", options, ""), "month")
    assert set(data.breakdown.filter(pl.col("level") == "province_code")["code"].to_list()) == set()
    assert data.scorecard.filter(pl.col("measure") == "active_customers")["current"][0] == 0


@pytest.mark.postgres
def test_postgresql_gives_the_same_review(duck_url, pg_url, monkeypatch):
    """The same seed on both engines: every scorecard, breakdown and what-worked number agrees."""
    filters = Filters(date(2026, 10, 1), date(2026, 10, 1))
    reviews = {}
    for name, url in (("duckdb", duck_url), ("postgresql", pg_url)):
        monkeypatch.setenv("WAREHOUSE_URL", url)
        reviews[name] = load_review(view_for(UNRESTRICTED, filters), "quarter")
    duck, pg = reviews["duckdb"], reviews["postgresql"]

    def same(left: pl.DataFrame, right: pl.DataFrame) -> None:
        assert_frame_equal(left, right, check_exact=False, rel_tol=1e-9, check_dtypes=False)

    columns = ["measure", "current", "previous", "last_year", "target", "status"]
    same(duck.scorecard.select(columns), pg.scorecard.select(columns))
    key = ["level", "code", "measure"]
    same(
        duck.breakdown.sort(key).select(*key, "current", "target"),
        pg.breakdown.sort(key).select(*key, "current", "target"),
    )
    for name in ("campaign", "total"):
        same(duck.campaigns[name].select("uplift", "ci_low"), pg.campaigns[name].select("uplift", "ci_low"))
    order = ["trained", "staff_channel"]
    same(duck.training["staff_channel"].sort(order), pg.training["staff_channel"].sort(order))
    assert [(f.kind, f.measure, f.province_code) for f in duck.findings] == [
        (f.kind, f.measure, f.province_code) for f in pg.findings
    ]


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_the_review_selects_take_user_values_only_as_parameters(dialect):
    """A hostile province code reaches every review select as a bound parameter, never as SQL."""
    from queries import review as q
    from queries.uplift import campaign_counts_select
    from tests.queries.test_compile import DIALECTS, FILTERS, INJECTION, all_bound_values

    scope = Scope()
    periods = {"current": FILTERS, "previous": FILTERS.comparison_filters()}
    selects = {
        "targeted": q.targeted_measures_select(FILTERS),
        "values": q.period_values_select(list(MEASURES), periods, scope, ("province_code",)),
        # Customer measures have no target under a segment filter (the select is simply false):
        # the call centre's measure keeps its province condition.
        "targets": q.selection_targets_select(["call_answer_rate", "arpu"], FILTERS, scope),
        "by_province": q.grouped_targets_select(["call_answer_rate", "churn_rate"], FILTERS, scope, "province_code"),
        "by_region": q.grouped_targets_select(["call_answer_rate"], FILTERS, scope, "macro_region"),
        "complaints": q.mix_by_period_select(q.complaint_mix_select, periods, scope),
        "churn": q.mix_by_period_select(q.churn_mix_select, periods, scope, dimension="competitor"),
        "ages": q.churn_mix_select(FILTERS, scope, "age_band"),
        "training": q.training_effect_select(FILTERS, scope, ("staff_channel", "province_code")),
        "sla": q.sla_by_category_select(FILTERS, scope),
        "care": q.care_channels_select(periods, scope),
        "campaigns": campaign_counts_select(FILTERS, scope, "campaign"),
    }
    for name, select in selects.items():
        result = select.compile(dialect=DIALECTS[dialect])
        if name != "targeted":
            assert INJECTION in all_bound_values(result), name
        assert "DROP TABLE" not in str(result), name
    with pytest.raises(ValueError):
        q.training_effect_select(FILTERS, scope, ("segment",))
    with pytest.raises(ValueError):
        campaign_counts_select(FILTERS, scope, "province")
