"""Every measure, through measure_select + run, equals an independent Polars computation
from the raw tables (tests/measure_reference.py), on DuckDB and on PostgreSQL."""

import math
from dataclasses import replace
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import create_engine, insert

from queries.filters import Filters, Scope
from queries.measures_churn import port_outs_by_competitor_select
from queries.measures_complaints import backlog_ageing_select
from queries.measures_debt import debt_ageing_select
from queries.metrics import MEASURES, measure_select, target_select
from queries.overview import overview_selects
from queries.rules import FREQUENT_DEBTOR_LATE_BILLS
from queries.run import run, run_many
from queries.tables import bills, complaints, customers, kpi_targets, metadata, provinces, staff
from tests.conftest import connect
from tests.measure_reference import load_raw, reference_value

ALL = Scope()
FILTER_CASES = {
    # the dashboard's default: the last complete month
    "last_month": Filters(date(2026, 10, 1), date(2026, 10, 1)),
    # a quarter, one province, one segment
    "quarter_hanoi_individual": Filters(
        date(2026, 4, 1), date(2026, 6, 1), provinces=("01",), segments=("individual",)
    ),
    # several months, a region, two age bands and a plan (postpaid, so debt measures have data)
    "range_south_postpaid_25_44": Filters(
        date(2025, 11, 1),
        date(2026, 8, 1),
        regions=("Nam",),
        age_bands=("25-34", "35-44"),
        plans=("postpaid",),
    ),
    # the whole seeded history: complaints are rare (~0.25 per 100 customers per quarter),
    # so this is the case where every complaint measure and backlog bucket has data
    "all_36_months": Filters(date(2023, 11, 1), date(2026, 10, 1)),
}
BREAKDOWNS = [(), ("month",), ("province_code",)]
EXTRA_BREAKDOWNS = [("segment",), ("age_band",), ("macro_region", "plan"), ("area_type",)]
EXTRA_MEASURES = ["churn_rate", "active_customers", "arpu", "resolve_time_median_h", "outstanding_debt", "nps"]
REL_TOLERANCE = 1e-9


def assert_same(actual: pl.DataFrame, expected: pl.DataFrame, name: str, by: tuple[str, ...]) -> None:
    """Same groups and values. A group missing on one side reads 0 for counts and money
    and NULL otherwise (the query returns no row where there is nothing to count)."""
    actual = actual.select(*by, pl.col("value").cast(pl.Float64))
    if not by:
        assert actual.height == 1, actual
        pairs = [(actual["value"][0], expected["value"][0] if expected.height else None)]
        keys = [()]
    else:
        joined = actual.join(expected, on=list(by), how="full", coalesce=True, suffix="_expected", nulls_equal=True)
        pairs = list(zip(joined["value"], joined["value_expected"], strict=True))
        keys = joined.select(by).rows()
    for key, (got, want) in zip(keys, pairs, strict=True):
        if MEASURES[name].additive:
            got, want = got or 0.0, want or 0.0
        if got is None or want is None:
            assert got is None and want is None, f"{name} by {by} at {key}: got {got}, expected {want}"
            continue
        assert math.isclose(got, want, rel_tol=REL_TOLERANCE, abs_tol=1e-9), (
            f"{name} by {by} at {key}: got {got}, expected {want}"
        )


def supported(name: str, by: tuple[str, ...]) -> bool:
    return set(by) <= set(MEASURES[name].dimensions)


@pytest.mark.parametrize("case", list(FILTER_CASES))
@pytest.mark.parametrize("name", list(MEASURES))
def test_measure_equals_polars(warehouse_url, connections, name, case):
    filters = FILTER_CASES[case]
    raw = load_raw(warehouse_url)
    connection = connect(connections, warehouse_url)
    for by in BREAKDOWNS:
        if not supported(name, by):
            continue
        actual = run(measure_select(name, filters, ALL, by), connection)
        assert actual.columns[: len(by) + 1] == [*by, "value"]
        if by == ("month",):
            assert actual["month"].to_list() == [
                date(y, m, 1) for y, m in _month_tuples(filters.start_month, filters.end_month)
            ], "by month gives one row per month of the period, in order"
        assert_same(actual, reference_value(raw, name, filters, ALL, by), name, by)


def _month_tuples(start: date, end: date):
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@pytest.mark.parametrize("by", EXTRA_BREAKDOWNS, ids=lambda by: "+".join(by))
@pytest.mark.parametrize("name", EXTRA_MEASURES)
def test_measure_by_customer_dimensions(warehouse_url, connections, name, by):
    filters = Filters(date(2026, 1, 1), date(2026, 6, 1), regions=("Bắc", "Nam"))
    actual = run(measure_select(name, filters, ALL, by), connect(connections, warehouse_url))
    assert_same(actual, reference_value(load_raw(warehouse_url), name, filters, ALL, by), name, by)


def test_seeded_data_is_not_trivial(warehouse_url, connections):
    """The equality tests mean something only if every measure sees data somewhere: each has
    a non-zero value in some month of the seeded history, and the default view is not empty."""
    connection = connect(connections, warehouse_url)
    history = FILTER_CASES["all_36_months"]
    for name in MEASURES:
        monthly = run(measure_select(name, history, ALL, ("month",)), connection)
        assert monthly.height == 36
        assert (monthly["value"].fill_null(0) != 0).any(), f"{name} is empty or zero in every month"
    for name in ("active_customers", "churn_rate", "revenue", "complaint_count", "outstanding_debt", "nps"):
        value = run(measure_select(name, FILTER_CASES["last_month"], ALL), connection)["value"][0]
        assert value, f"{name} is {value} in the last month"


def test_scope_excludes_what_the_filter_asks_for(warehouse_url, connections):
    """A Hà Nội-only user asking for Hồ Chí Minh gets nothing, from every measure."""
    connection = connect(connections, warehouse_url)
    scope = Scope(role="regional", provinces=frozenset({"01"}))
    filters = Filters(date(2026, 1, 1), date(2026, 10, 1), provinces=("79",))
    for name in MEASURES:
        total = run(measure_select(name, filters, scope), connection)
        assert total.height == 1
        assert total["value"][0] in (None, 0.0), f"{name} leaked {total['value'][0]}"
        by_province = run(measure_select(name, filters, scope, ("province_code",)), connection)
        assert by_province.is_empty(), f"{name} leaked rows {by_province}"
    # and the same user without a province filter sees only Hà Nội
    own = run(
        measure_select("active_customers", Filters(date(2026, 10, 1), date(2026, 10, 1)), scope, ("province_code",)),
        connection,
    )
    assert own["province_code"].to_list() == ["01"]


def test_multi_month_churn_is_the_average_monthly_rate(warehouse_url, connections):
    """Over a period, churn_rate = Σ churned ÷ Σ start-of-month actives, and net adds match
    the change in actives (one definition of "active" everywhere)."""
    connection = connect(connections, warehouse_url)
    filters = Filters(date(2026, 1, 1), date(2026, 6, 1))
    monthly = run(measure_select("churn_rate", filters, ALL, ("month",)), connection)
    overall = run(measure_select("churn_rate", filters, ALL), connection)
    assert overall["value"][0] == pytest.approx(monthly["numerator"].sum() / monthly["denominator"].sum())
    annual = run(measure_select("annualised_churn", filters, ALL), connection)["value"][0]
    assert annual == pytest.approx(1 - (1 - overall["value"][0]) ** 12)
    before = run(measure_select("active_customers", Filters(date(2025, 12, 1), date(2025, 12, 1)), ALL), connection)
    after = run(measure_select("active_customers", filters, ALL), connection)
    net = run(measure_select("net_adds", filters, ALL), connection)
    assert after["value"][0] - before["value"][0] == net["value"][0]


@pytest.mark.parametrize(
    "filters, scope",
    [
        (Filters(date(2026, 7, 1), date(2026, 9, 1)), ALL),
        (Filters(date(2026, 7, 1), date(2026, 9, 1)), Scope(provinces=frozenset({"01", "79"}))),
        (Filters(date(2026, 10, 1), date(2026, 10, 1), regions=("Trung",)), ALL),
    ],
    ids=["country", "two-provinces-by-scope", "region"],
)
def test_targets_follow_the_documented_rule(warehouse_url, connections, filters, scope):
    """Country row when nothing restricts provinces; else the provinces' rows, summed for
    counts and money totals, averaged otherwise; a stock only at the period end."""
    connection = connect(connections, warehouse_url)
    raw = load_raw(warehouse_url)
    targets = raw["kpi_targets"].join(
        raw["provinces"].select("province_code", "macro_region"), on="province_code", how="left"
    )
    names = targets["measure"].unique().to_list()
    assert names, "the seeded warehouse has targets"
    for name in names:
        measure = MEASURES[name]
        first = filters.end_month if measure.kind == "stock" else filters.start_month
        rows = targets.filter(
            (pl.col("measure") == name)
            & (pl.col("target_month") >= first)
            & (pl.col("target_month") <= filters.end_month)
        )
        if scope.provinces is None and not filters.regions:
            rows = rows.filter(pl.col("province_code") == "00")
        else:
            rows = rows.filter(pl.col("province_code") != "00")
            if scope.provinces is not None:
                rows = rows.filter(pl.col("province_code").is_in(sorted(scope.provinces)))
            if filters.regions:
                rows = rows.filter(pl.col("macro_region").is_in(list(filters.regions)))
        expected = rows["target_value"].sum() if measure.additive else rows["target_value"].mean()
        actual = run(target_select(name, filters, scope), connection)
        assert actual["target_rows"][0] == rows.height > 0
        assert actual["target"][0] == pytest.approx(expected, rel=1e-9), name
        segment_only = run(target_select(name, replace(filters, segments=("enterprise",)), scope), connection)
        if measure.customer_filters:
            assert segment_only["target"][0] is None, f"{name}: no target applies to a segment"


def test_by_bucket_selects_match_the_bucket_measures(warehouse_url, connections):
    connection = connect(connections, warehouse_url)
    history = FILTER_CASES["all_36_months"]
    debt = run(debt_ageing_select(history, ALL, ("month",)), connection)
    backlog = run(backlog_ageing_select(history, ALL, ("month",)), connection)
    for frame, names in (
        (debt, ["debt_0_30", "debt_31_60", "debt_61_90", "debt_90_plus"]),
        (backlog, ["backlog_0_7d", "backlog_8_15d", "backlog_16_30d", "backlog_31d_plus"]),
    ):
        assert frame["value"].sum() > 0
        for position, name in enumerate(names):
            expected = run(measure_select(name, history, ALL, ("month",)), connection).filter(pl.col("value") > 0)
            got = frame.filter(pl.col("bucket_order") == position).select("month", "value").sort("month")
            assert got.to_dicts() == expected.select("month", "value").to_dicts(), name
    competitors = run(port_outs_by_competitor_select(history, ALL), connection)
    assert competitors["value"].sum() == run(measure_select("port_outs", history, ALL), connection)["value"][0]


def test_overview_selects_agree_with_the_registry(warehouse_url, connections):
    connection = connect(connections, warehouse_url)
    filters = FILTER_CASES["quarter_hanoi_individual"]
    frames = run_many(overview_selects(filters, ALL, map_measure="arpu"), connection)
    for row in frames["kpis"].iter_rows(named=True):
        period = filters if row["period"] == "current" else filters.comparison_filters()
        assert row["value"] == run(measure_select(row["measure"], period, ALL), connection)["value"][0]
    arpu = run(measure_select("arpu", replace(filters, provinces=()), ALL, ("province_code",)), connection)
    assert frames["map"].height == 34
    assert frames["map"].join(arpu, on="province_code").filter(pl.col("value") != pl.col("value_right")).is_empty()
    trend = frames["trends"].filter(pl.col("measure") == "churn_rate").sort("month")
    assert trend.height == 12 and trend["month"][-1] == filters.end_month


def test_unknown_names_are_refused():
    filters = FILTER_CASES["last_month"]
    with pytest.raises(ValueError):
        measure_select("no_such_measure", filters, ALL)
    with pytest.raises(ValueError):
        measure_select("churn_rate", filters, ALL, ("customer_id",))
    with pytest.raises(ValueError):
        measure_select("call_answer_rate", filters, ALL, ("segment",))


# --- hand-built cases: boundaries a random sample may not hit ---------------------------------


def tiny_warehouse(url: str, bill_rows: list[dict], complaint_rows: list[dict] = ()) -> None:
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(provinces),
            [
                dict(
                    province_code="01",
                    name_vi="Hà Nội",
                    full_name_vi="Thành phố Hà Nội",
                    name_en="Hanoi",
                    macro_region="Bắc",
                    sub_region="Đồng bằng sông Hồng",
                    population=1,
                    area_km2=1.0,
                    lat=21.0,
                    lon=105.8,
                )
            ],
        )
        connection.execute(
            insert(customers),
            [
                dict(
                    customer_id=customer_id,
                    customer_key=str(customer_id),
                    segment="individual",
                    province_code="01",
                    area_type="urban",
                    birth_year=1980,
                    gender="female",
                    plan="postpaid",
                    has_mobile=True,
                    has_home_internet=False,
                    has_tv=False,
                    has_enterprise_solutions=False,
                    is_key_account=False,
                    activated_on=date(2024, 1, 1),
                    status="active",
                    churned_on=None,
                    ported_in_from=None,
                    full_name="Nguyễn Văn A",
                    phone="0900000000",
                )
                for customer_id in (1, 2, 3)
            ],
        )
        if bill_rows:
            connection.execute(insert(bills), bill_rows)
        if complaint_rows:
            connection.execute(
                insert(staff), [dict(staff_id=1, province_code="01", channel="call_centre", hired_on=date(2020, 1, 1))]
            )
            connection.execute(insert(complaints), list(complaint_rows))
        connection.execute(
            insert(kpi_targets),
            [
                dict(measure="outstanding_debt", target_month=date(2026, 10, 1), province_code="00", target_value=5e5),
                dict(measure="outstanding_debt", target_month=date(2026, 10, 1), province_code="01", target_value=2e5),
            ],
        )
    from data_seed.refresh import refresh_in_place

    refresh_in_place(engine)  # rows written by hand bypass the loader: build the marts the measures read
    engine.dispose()


def bill(bill_id, customer_id, due_on, billed, paid=0, paid_on=None):
    return dict(
        bill_id=bill_id,
        customer_id=customer_id,
        bill_month=date(due_on.year, due_on.month, 1),
        billed_vnd=billed,
        due_on=due_on,
        paid_vnd=paid,
        paid_on=paid_on,
        one_way_block_on=None,
        two_way_block_on=None,
        terminated_on=None,
    )


@pytest.fixture(params=["duckdb", "postgresql"])
def tiny_url(request):
    return request.getfixturevalue("empty_duck_url" if request.param == "duckdb" else "empty_pg_url")


def test_debt_ageing_boundaries_and_frequent_debtors(tiny_url):
    """As of 31/10/2026: due 01/10 is 30 days past due (0–30), due 30/09 is 31 (31–60);
    due on the last day itself is not past due. Customer 2 has the rule's number of late
    bills in the window, customers 1 and 3 one fewer."""
    as_of = date(2026, 10, 31)
    rows = [
        bill(1, 1, date(2026, 10, 1), 100_000),  # 30 days → 0-30
        bill(2, 1, date(2026, 9, 30), 70_000, paid=20_000, paid_on=date(2026, 10, 5)),  # 31 days, 50k left → 31-60
        bill(3, 1, as_of, 999_000),  # due today: not debt yet
        bill(4, 2, date(2026, 8, 1), 10_000, paid=10_000, paid_on=date(2026, 11, 3)),  # paid after the period end
    ]
    late = [date(2026, 3, 20), date(2026, 5, 20), date(2026, 7, 20)]
    next_id = 10
    for customer_id, dues in ((2, late[:FREQUENT_DEBTOR_LATE_BILLS]), (3, late[: FREQUENT_DEBTOR_LATE_BILLS - 1])):
        for due in dues:
            rows.append(bill(next_id, customer_id, due, 1_000, paid=1_000, paid_on=date(due.year, due.month, 28)))
            next_id += 1
    rows.append(bill(next_id, 3, date(2026, 1, 20), 1_000, paid=1_000, paid_on=date(2026, 1, 19)))  # on time
    rows.append(bill(next_id + 1, 3, date(2025, 9, 20), 1_000))  # late, but outside the 12-month window
    tiny_warehouse(tiny_url, rows)
    filters = Filters(date(2026, 10, 1), date(2026, 10, 1))
    engine = create_engine(tiny_url)
    with engine.connect() as connection:

        def value(name, scope=ALL):
            return run(measure_select(name, filters, scope), connection)["value"][0]

        assert value("debt_0_30") == 100_000
        assert value("debt_31_60") == 50_000
        assert value("debt_61_90") == 0
        assert value("debt_90_plus") == 10_000 + 1_000  # due 01/08 (91 days) and 20/09/2025
        assert value("outstanding_debt") == 100_000 + 50_000 + 10_000 + 1_000
        # customer 2 only: customer 1 has two late bills (bill 3 is not late yet), customer 3
        # two in the window (one more before it, one paid on time)
        assert value("frequent_debtors") == 1
        target = run(target_select("outstanding_debt", filters, ALL), connection)
        assert target["target"][0] == 5e5  # country row
        regional = run(target_select("outstanding_debt", filters, Scope(provinces=frozenset({"01"}))), connection)
        assert regional["target"][0] == 2e5  # the province's own row
    engine.dispose()


def complaint(complaint_id, opened_at, acknowledged_at=None, resolved_at=None, sla_hours=720):
    return dict(
        complaint_id=complaint_id,
        customer_id=1,
        staff_id=1,
        channel="hotline",
        category="billing",
        opened_at=opened_at,
        acknowledged_at=acknowledged_at,
        resolved_at=resolved_at,
        closed_at=resolved_at,
        sla_hours=sla_hours,
        departments_involved=1,
        escalated=False,
        reopened=False,
        resolved_first_contact=False,
        csat=None,
    )


def test_complaint_time_boundaries(tiny_url):
    """At the end of October (01/11 00:00): 7 days 23:59:59 old is in 0–7, exactly 8 days in
    8–15; acknowledged at exactly 48 h is in time, one second later is not; resolved at
    exactly the category's target (billing: queries.rules.SLA_TARGET_HOURS_BILLING) is within SLA."""
    end = datetime(2026, 11, 1)
    hour, second = timedelta(hours=1), timedelta(seconds=1)
    opened_7 = end - timedelta(days=8) + second
    opened_8 = end - timedelta(days=8)
    rows = [
        complaint(1, opened_7, acknowledged_at=opened_7 + 48 * hour),
        complaint(2, opened_8, acknowledged_at=opened_8 + 48 * hour + second),
        complaint(3, end - timedelta(days=31)),  # 31 days: 31+
        complaint(4, end - timedelta(days=30)),  # 30 days: 16–30
        complaint(5, datetime(2026, 10, 5), datetime(2026, 10, 5, 1), datetime(2026, 10, 20), sla_hours=360),
        complaint(6, datetime(2026, 10, 5), datetime(2026, 10, 5, 1), datetime(2026, 10, 20) + second, sla_hours=360),
    ]
    tiny_warehouse(tiny_url, [], rows)
    filters = Filters(date(2026, 10, 1), date(2026, 10, 1))
    engine = create_engine(tiny_url)
    with engine.connect() as connection:

        def value(name):
            return run(measure_select(name, filters, ALL), connection)["value"][0]

        assert value("open_complaints") == 4
        assert [value(name) for name in ("backlog_0_7d", "backlog_8_15d", "backlog_16_30d", "backlog_31d_plus")] == [
            1,
            1,
            1,
            1,
        ]
        assert value("ack_within_48h_share") == pytest.approx(3 / 6)  # 1, 5 and 6
        assert value("sla_share") == pytest.approx(1 / 2)  # 5 but not 6
        assert value("resolve_time_median_h") == pytest.approx(360 + 0.5 / 3600)
    engine.dispose()
