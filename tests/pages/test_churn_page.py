"""The Churn page: every figure it shows equals an independent computation from the warehouse
(tests/customers_churn_reference.py, tests/measure_reference.py) for the two filter
combinations of tests/pages/test_customers_page.py; the article's effects are visible in its data;
it renders in vi and en with default, one-province and empty filters.

As for the Customers page, chart data is asserted through the data functions the page calls
(pages/churn/data.py) and the rendered metrics through AppTest of the real app.
"""

from datetime import date

import polars as pl
import pytest

from dashboard.charts.components import card_value
from dashboard.text.formatting import format_delta
from pages.churn import data as churn_data
from queries.churn import CHURN_RATES, FLOW_SOURCES, trend_range
from queries.filters import Filters, add_months
from queries.tables import PORT_DESTINATIONS
from tests import customers_churn_reference as ref
from tests.pages.test_customers_page import CASES, assert_close, make_view, open_page

DATA_START = date(2023, 11, 1)  # the seeded warehouse: 36 months to October 2026


@pytest.fixture()
def raw(duck_url):
    """Raw tables read before the dashboard opens its own read-only engine on the file."""
    return ref.raw_tables(duck_url)


@pytest.fixture()
def warehouse(duck_url, raw, monkeypatch, tmp_path) -> str:
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    return duck_url


def months_shown(filters: Filters) -> list[date]:
    span = trend_range(filters)
    months = [add_months(span.start_month, offset) for offset in range(span.month_count)]
    return [month for month in months if month >= DATA_START]


@pytest.mark.parametrize("case", list(CASES))
def test_kpi_cards_and_rates_by_plan(warehouse, raw, case):
    filters, scope = CASES[case]
    view = make_view(filters, scope)
    cards = churn_data.kpi_cards(view)
    assert [card.measure.name for card in cards] == list(churn_data.CARD_MEASURES)
    for card in cards:
        name = card.measure.name
        assert_close(card.value, ref.registry_total(raw, name, filters, scope), name)
        assert_close(card.previous, ref.registry_total(raw, name, filters.comparison_filters(), scope), name)
    churn = cards[0]
    if filters.segments:
        assert churn.target is None
    else:
        assert_close(churn.target, ref.churn_target(raw, filters, scope, filters.end_month), "target")

    table = churn_data.plan_type_frame(view, cards)
    assert table["plan"].to_list() == ["prepaid", "postpaid", "all"]
    for name in CHURN_RATES:
        by_plan = ref.as_dict(ref.registry(raw, name, filters, scope, ("plan",)), "plan")
        for plan, value in table.select("plan", name).iter_rows():
            wanted = ref.registry_total(raw, name, filters, scope) if plan == "all" else by_plan.get(plan)
            assert_close(value, wanted, f"{name}/{plan}")
    prepaid, postpaid, _ = table["churn_rate"].to_list()
    assert prepaid > postpaid, "prepaid churns more than postpaid"


@pytest.mark.parametrize("case", list(CASES))
def test_trends_are_36_months_trimmed_to_the_data(warehouse, raw, case):
    filters, scope = CASES[case]
    view = make_view(filters, scope)
    span = trend_range(filters)
    shown = months_shown(filters)
    assert len(shown) == (36 if filters.end_month == date(2026, 10, 1) else 35)

    trend = churn_data.churn_trend_frame(view)
    for name in CHURN_RATES[:3]:
        expected = ref.as_dict(ref.registry(raw, name, span, scope, ("month",)), "month")
        rows = trend.filter(pl.col("series") == name).sort("month")
        assert rows["month"].to_list() == shown, name
        for month, value in rows.select("month", "value").iter_rows():
            assert_close(value, expected.get(month), f"{name}/{month}")
    targets = churn_data.target_trend_frame(view)
    assert targets["month"].to_list() == shown
    for month, target in targets.iter_rows():
        assert_close(target, ref.churn_target(raw, filters, scope, month), f"target {month}")

    by_plan = churn_data.plan_trend_frame(view)
    expected = ref.registry(raw, "churn_rate", span, scope, ("month", "plan"))
    lookup = {(m, p): v for m, p, v in expected.select("month", "plan", "value").iter_rows()}
    assert set(by_plan["month"].to_list()) == set(shown)
    for month, plan, value in by_plan.iter_rows():
        assert_close(value, lookup.get((month, plan)), f"{plan}/{month}")

    ports = churn_data.port_trend_frame(view)
    for name in ("port_ins", "port_outs", "net_port"):
        expected = ref.as_dict(ref.registry(raw, name, span, scope, ("month",)), "month")
        rows = ports.filter(pl.col("series") == name).sort("month")
        assert rows["month"].to_list() == shown
        assert rows["value"].to_list() == [expected.get(month) or 0.0 for month in shown], name

    competitors = churn_data.competitor_trend_frame(view)
    outs = ref.port_outs_by(raw, span, scope, "month")
    assert competitors.height == len(shown) * len(PORT_DESTINATIONS)
    for month, competitor, value in competitors.select("month", "series", "value").iter_rows():
        assert value == outs.get((month, competitor), 0.0), (month, competitor)

    winback = churn_data.winback_trend_frame(view)
    expected = ref.as_dict(ref.registry(raw, "winback_rate", span, scope, ("month",)), "month")
    assert winback["month"].to_list() == shown
    for month, value in winback.iter_rows():
        assert_close(value, expected.get(month), f"win-back {month}")


@pytest.mark.parametrize("case", list(CASES))
def test_porting_flows_and_balance(warehouse, raw, case):
    filters, scope = CASES[case]
    view = make_view(filters, scope, "en")
    balance = churn_data.port_balance_frame(view)
    assert balance["competitor"].to_list() == list(PORT_DESTINATIONS)
    assert balance["label"].to_list()[:2] == ["MobiFone", "VinaPhone"]
    ins = ref.port_ins_by_competitor(raw, filters, scope)
    outs: dict[str, float] = {}
    for (_, competitor), value in ref.port_outs_by(raw, filters, scope, "month").items():
        outs[competitor] = outs.get(competitor, 0.0) + value
    for competitor, _, port_ins, port_outs, net in balance.iter_rows():
        assert (port_ins, port_outs, net) == (ins.get(competitor, 0.0), outs.get(competitor, 0.0), port_ins - port_outs)
    for source in FLOW_SOURCES:
        flows = churn_data.flow_frame(view, source)
        expected = ref.port_outs_by(raw, filters, scope, source)
        assert {(s, t): v for s, t, v in flows.iter_rows()} == expected, source


@pytest.mark.parametrize("case", list(CASES))
def test_reasons_and_who_leaves(warehouse, raw, case):
    filters, scope = CASES[case]
    view = make_view(filters, scope)
    reasons = churn_data.reasons_frame(view)
    expected = ref.reasons(raw, filters, scope)
    assert {(kind, reason): (value, share) for reason, _, kind, value, share in reasons.iter_rows()} == {
        key: (count, pytest.approx(share, rel=1e-9)) for key, (count, share) in expected.items()
    }
    assert reasons["value"].to_list() == sorted(reasons["value"].to_list(), reverse=True)
    for dimension in churn_data.WHO_DIMENSIONS:
        frame = churn_data.churn_by_frame(view, dimension)
        if dimension == "tenure_band":
            wanted = {
                band: ref.ratio_value(*counts) for band, counts in ref.churn_by_tenure(raw, filters, scope).items()
            }
        else:
            wanted = ref.as_dict(ref.registry(raw, "churn_rate", filters, scope, (dimension,)), dimension)
            wanted = {member: value for member, value in wanted.items() if member is not None}
        assert set(frame["member"].to_list()) == set(wanted), dimension
        for member, value in frame.select("member", "value").iter_rows():
            assert_close(value, wanted[member], f"{dimension}/{member}")
        order = churn_data.ORDER[dimension]
        assert frame["member"].to_list() == [member for member in order if member in wanted], dimension


@pytest.mark.parametrize("case", list(CASES))
def test_cohorts_and_survival(warehouse, raw, case):
    filters, scope = CASES[case]
    view = make_view(filters, scope)
    cohorts = churn_data.cohort_frame(view)
    expected = {key: value for key, value in ref.cohorts(raw, filters, scope, 36).items() if key[0] >= DATA_START}
    assert cohorts.height == len(expected) > 0
    for cohort, after, customers, active, value in cohorts.iter_rows():
        assert (customers, active) == expected[(cohort, after)]
        assert_close(value, active / customers, f"{cohort}+{after}")
    survival = churn_data.survival_frame(view)
    # the cohorts activated since the data starts (an older one would hold only its survivors)
    expected = ref.kaplan_meier(raw, filters, scope, len(months_shown(filters)), "segment")
    assert survival.height == len(expected)
    for segment, after, _, _, value in survival.iter_rows():
        assert_close(value, expected[(segment, after)], f"survival {segment}+{after}")


@pytest.mark.parametrize("case", list(CASES))
def test_the_debt_link(warehouse, raw, case):
    filters, scope = CASES[case]
    view = make_view(filters, scope)
    involuntary, refused = churn_data.debt_cards(view)
    assert_close(involuntary.value, ref.involuntary_share(raw, filters, scope), "involuntary share")
    assert_close(involuntary.previous, ref.involuntary_share(raw, filters.comparison_filters(), scope), "previous")
    requests, refusals = ref.port_requests(raw, filters, scope)
    assert_close(refused.value, ref.ratio_value(refusals, requests), "refused share")
    spark = ref.involuntary_share_by_month(raw, trend_range(filters, 12), scope)
    assert list(involuntary.trend) == pytest.approx(
        [spark[month] for month in sorted(spark) if spark[month] is not None], rel=1e-9
    )
    frame = churn_data.port_requests_frame(view)
    monthly = ref.port_requests(raw, trend_range(filters), scope, by_month=True)
    for month, series, value in frame.select("month", "series", "value").iter_rows():
        total, refused_count = monthly[month]
        assert value == (refused_count if series == "refused" else total - refused_count), (month, series)


def test_the_articles_effects_are_in_the_page_data(warehouse):
    filters, scope = CASES["country_last_month"]
    for period in (filters, Filters(date(2025, 11, 1), date(2026, 10, 1))):
        view = make_view(period, scope)
        by_age = dict(churn_data.churn_by_frame(view, "age_band").select("member", "value").iter_rows())
        assert by_age["18-24"] > by_age["55-64"] and by_age["18-24"] > by_age["65+"], "the young leave more"
        assert by_age["18-24"] > by_age["35-44"] > by_age["65+"]
        by_segment = dict(churn_data.churn_by_frame(view, "segment").select("member", "value").iter_rows())
        assert by_segment["enterprise"] < by_segment["individual"], "enterprises stay"
        assert by_segment["government"] < by_segment["individual"]
        by_tenure = dict(churn_data.churn_by_frame(view, "tenure_band").select("member", "value").iter_rows())
        assert by_tenure["0-11"] > by_tenure["120+"], "long-standing customers stay"
    survival = churn_data.survival_frame(make_view(filters, scope))
    after_year = dict(survival.filter(pl.col("months_after") == 12).select("series", "value").iter_rows())
    assert after_year["enterprise"] > after_year["individual"], "enterprise cohorts survive longer"
    involuntary, _ = churn_data.debt_cards(make_view(Filters(date(2025, 11, 1), date(2026, 10, 1)), scope))
    assert 0.1 < involuntary.value < 0.3, "about a fifth of churn is non-payment"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_page_renders_default_one_province_and_empty(warehouse, raw, demo_users, lang):
    title = "Rời mạng" if lang == "vi" else "Churn"
    app = open_page({"lang": lang}, page="churn")
    assert [item.value for item in app.title] == [title]
    filters, scope = CASES["country_last_month"]
    churn = app.metric[0]
    expected = ref.registry_total(raw, "churn_rate", filters, scope)
    before = ref.registry_total(raw, "churn_rate", filters.comparison_filters(), scope)
    assert churn.value == card_value(expected, "percent", lang)
    assert churn.delta == format_delta(expected, before, "percent", lang)
    assert len(app.metric) == len(churn_data.CARD_MEASURES) + 2
    wider = "36 tháng đến hết T10/2026 (rộng hơn kỳ đã chọn)" if lang == "vi" else "36 months to Oct 2026 (wider"
    assert any(caption.value.startswith(wider) for caption in app.main.caption), "trends say they read a wider range"

    hanoi = open_page({"lang": lang, "province": "01"}, page="churn")
    one = Filters(date(2026, 10, 1), date(2026, 10, 1), provinces=("01",))
    assert hanoi.metric[0].value == card_value(ref.registry_total(raw, "churn_rate", one, scope), "percent", lang)

    nothing = {"lang": lang, "province": "01", "segment": "foreign", "plan": "postpaid", "area": "remote"}
    empty = open_page(nothing, page="churn")
    assert not empty.metric
    assert len(empty.info) == 1 and empty.info[0].value.startswith("Không có dữ liệu" if lang == "vi" else "No data")


def test_the_charts_draw_the_page_data(warehouse):
    """The figure builders put exactly the frames' numbers on the charts (AppTest cannot see them)."""
    from dashboard.charts.flow_chart import flow_figure
    from dashboard.charts.heatmap import heatmap_figure
    from dashboard.charts.series_chart import series_figure

    view = make_view(*CASES["country_last_month"])
    flows = churn_data.flow_frame(view, "segment")
    sankey = flow_figure(flows, "vi", "flows").data[0]
    assert sorted(sankey.link.value) == sorted(flows["value"].to_list())
    assert len(sankey.node.label) == flows["source"].n_unique() + flows["target"].n_unique()

    cohorts = churn_data.cohort_frame(view)
    heat = heatmap_figure(cohorts, "cohort", "months_after", "percent", 1, "vi", "cohorts").data[0]
    cells = [value for row in heat.z for value in row if value is not None]
    assert sorted(cells) == sorted(cohorts["value"].to_list())
    assert len(heat.y) == cohorts["cohort"].n_unique()

    trend = churn_data.churn_trend_frame(view)
    target = churn_data.target_trend_frame(view)
    figure = series_figure(trend, "percent", "vi", "trend", churn_data.churn_series_labels("vi"), target=target)
    assert [trace.name for trace in figure.data] == [*churn_data.churn_series_labels("vi").values(), "Mục tiêu"]
    rates = trend.filter(pl.col("series") == "churn_rate").sort("month")["value"].to_list()
    assert list(figure.data[0].y) == rates and len(rates) == 36
    assert list(figure.data[-1].y) == target["target"].to_list()
