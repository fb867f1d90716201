"""queries/customers.py: every select equals an independent Polars computation from the raw
tables (tests/customers_churn_reference.py), on DuckDB and PostgreSQL, for two filter
combinations (the default view, and a half-year of the south under a regional manager's
scope with segment and age filters against the same period last year)."""

from datetime import date

import polars as pl
import pytest

from queries.customers import (
    AREA_MEASURES,
    MIX_DIMENSIONS,
    area_view_select,
    big_customers_select,
    customer_list_select,
    key_accounts_trend_select,
    mix_select,
    ranked_month_select,
    segment_value_select,
)
from queries.dimensions import freshness_select
from queries.filters import Filters, Scope
from queries.metrics import measure_select
from queries.run import run
from tests import customers_churn_reference as ref
from tests.conftest import connect

CASES = {
    "country_last_month": (Filters(date(2026, 10, 1), date(2026, 10, 1)), Scope()),
    "south_h1_manager_last_year": (
        Filters(
            date(2026, 4, 1),
            date(2026, 9, 1),
            "last_year",
            regions=("Nam",),
            segments=("individual", "enterprise"),
            age_bands=("18-24", "25-34", "65+"),
        ),
        Scope(role="regional_manager", provinces=frozenset({"01", "79", "92"})),
    ),
}
OUTSIDE = (Filters(date(2026, 1, 1), date(2026, 10, 1), provinces=("79",)), Scope(provinces=frozenset({"01"})))


@pytest.fixture()
def db(warehouse_url, connections):
    return connect(connections, warehouse_url), ref.raw_tables(warehouse_url)


def assert_close(got, want, what):
    assert ref.close(got, want), f"{what}: got {got}, expected {want}"


@pytest.mark.parametrize("case", list(CASES))
def test_mix_by_every_dimension(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    for dimension in MIX_DIMENSIONS:
        rows = run(mix_select(filters, scope, dimension), connection)
        for period, period_filters in (("current", filters), ("comparison", filters.comparison_filters())):
            got = rows.filter(pl.col("period") == period)
            expected = ref.mix(raw, period_filters, scope, dimension)
            assert set(got["member"].to_list()) == set(expected), (dimension, period)
            assert expected, f"{dimension}/{period}: the case must have data"
            for member, customers, share in got.select("member", "customers", "share").iter_rows():
                assert_close(customers, expected[member][0], f"{dimension}/{period}/{member} customers")
                assert_close(share, expected[member][1], f"{dimension}/{period}/{member} share")


@pytest.mark.parametrize("case", list(CASES))
def test_services_and_tenure_add_up_to_the_active_customers(db, case):
    connection, _ = db
    filters, scope = CASES[case]
    active = run(measure_select("active_customers", filters, scope), connection)["value"][0]
    tenure = run(mix_select(filters, scope, "tenure_band"), connection).filter(pl.col("period") == "current")
    assert tenure["customers"].sum() == active
    assert ref.close(tenure["share"].sum(), 1.0)
    services = run(mix_select(filters, scope, "services"), connection).filter(pl.col("period") == "current")
    assert services["customers"].sum() >= active  # everyone holds at least one service, some several


@pytest.mark.parametrize("case", list(CASES))
def test_segment_value(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    got = run(segment_value_select(filters, scope), connection)
    expected = ref.segment_value(raw, filters, scope)
    assert set(got["segment"].to_list()) == set(expected)
    for row in got.iter_rows(named=True):
        for column in ("customers", "customer_share", "revenue", "revenue_share", "arpu"):
            assert_close(row[column], expected[row["segment"]][column], f"{row['segment']} {column}")


@pytest.mark.parametrize("by", [(), ("province_code",), ("segment",)], ids=lambda by: "+".join(by) or "total")
@pytest.mark.parametrize("case", list(CASES))
def test_big_customers(db, case, by):
    connection, raw = db
    filters, scope = CASES[case]
    got = run(big_customers_select(filters, scope, by), connection)
    expected = ref.big_customers(raw, filters, scope, by)
    assert got.height == expected.height
    for column in ("key_accounts", "top_revenue", "big_customers", "big_revenue_12m", "revenue_12m"):
        for position, (left, right) in enumerate(zip(got[column], expected[column], strict=True)):
            assert_close(left, right, f"{column} row {position}")
    if by:
        assert got[list(by)].rows() == expected[list(by)].rows()
    else:
        total = got.row(0, named=True)
        assert 0 < total["top_revenue"] <= total["big_customers"]
        assert total["key_accounts"] <= total["big_customers"] <= total["key_accounts"] + total["top_revenue"]


@pytest.mark.parametrize("case", list(CASES))
def test_key_accounts_trend(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    got = run(key_accounts_trend_select(filters, scope, months=12), connection)
    expected = ref.key_accounts_trend(raw, filters, scope, 12)
    assert got["month"].to_list() == sorted(expected)
    assert got["value"].to_list() == [expected[month] for month in sorted(expected)]


@pytest.mark.parametrize("case", list(CASES))
def test_area_view_is_the_registry_by_area_type(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    got = run(area_view_select(filters, scope), connection)
    assert set(got["measure"].unique().to_list()) == set(AREA_MEASURES)
    for name in AREA_MEASURES:
        expected = ref.as_dict(ref.registry(raw, name, filters, scope, ("area_type",)), "area_type")
        rows = got.filter(pl.col("measure") == name)
        for area, value in rows.select("area_type", "value").iter_rows():
            assert_close(value, expected.get(area), f"{name}/{area}")


@pytest.mark.parametrize("case", list(CASES))
def test_customer_list_holds_exactly_the_filtered_customers_in_order(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    ranked = run(ranked_month_select(), connection)["month"][0]  # the month the list mart ranks
    for province, segment in ((None, None), ("79", None), (None, "enterprise")):
        expected = ref.customer_list(raw, filters, scope, province, segment)
        # From the mart when the period ends with its month, and from the raw tables.
        for ranked_month in (ranked, None):
            query = customer_list_select(
                filters, scope, province_code=province, segment=segment, ranked_month=ranked_month
            )
            got = run(query, connection)
            assert got.height == expected.height > 0, (province, segment, ranked_month)
            assert got["customer_key"].to_list() == expected["customer_key"].to_list()
            for column in ("full_name", "phone", "segment", "province_code", "plan", "activated_on", "status"):
                assert got[column].to_list() == expected[column].to_list(), column
            assert got["revenue_12m"].to_list() == expected["revenue_12m"].to_list()


def test_the_list_mart_ranks_the_last_month_and_serves_it(db):
    connection, _ = db
    filters, scope = CASES["country_last_month"]
    ranked = run(ranked_month_select(), connection)["month"][0]
    assert ranked == filters.end_month == run(freshness_select(), connection)["data_through"][0]
    compiled = str(customer_list_select(filters, scope, ranked_month=ranked).compile())
    assert "mart_customer_list" in compiled and "revenue_monthly" not in compiled
    earlier = Filters(date(2026, 9, 1), date(2026, 9, 1))
    assert "mart_customer_list" not in str(customer_list_select(earlier, scope, ranked_month=ranked).compile())


def test_customer_list_shows_labels_in_the_language(db):
    connection, _ = db
    filters, scope = CASES["country_last_month"]
    labels = {"segment": {"individual": "Cá nhân"}, "status": {"active": "Đang hoạt động"}}
    query = customer_list_select(filters, scope, province_code="01", lang="en", value_labels=labels).limit(200)
    rows = run(query, connection)
    assert set(rows["province"].to_list()) == {"Hanoi"}
    assert "Cá nhân" in rows["segment"].to_list() and "individual" not in rows["segment"].to_list()
    assert "enterprise" in rows["segment"].to_list() or "household" in rows["segment"].to_list()  # no label: code
    assert set(rows["status"].to_list()) <= {"Đang hoạt động", "churned"}


def test_scope_excludes_what_the_filter_asks_for(db):
    connection, _ = db
    filters, scope = OUTSIDE
    for dimension in MIX_DIMENSIONS:
        rows = run(mix_select(filters, scope, dimension), connection)
        assert rows["customers"].fill_null(0).sum() == 0, dimension
    assert run(segment_value_select(filters, scope), connection).is_empty()
    assert run(big_customers_select(filters, scope), connection)["big_customers"][0] == 0
    assert run(key_accounts_trend_select(filters, scope), connection)["value"].sum() == 0
    assert run(customer_list_select(filters, scope), connection).is_empty()
    assert run(area_view_select(filters, scope), connection).is_empty()


def test_unknown_mix_dimension_is_refused():
    with pytest.raises(ValueError):
        mix_select(*CASES["country_last_month"], "favourite_colour")
    with pytest.raises(ValueError):
        big_customers_select(*CASES["country_last_month"], by=("plan",))
