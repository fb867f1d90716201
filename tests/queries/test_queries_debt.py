"""The Debt page's own selects (queries/debt.py) equal independent Polars computations from
the raw tables, on DuckDB and PostgreSQL; the ageing buckets' boundaries are exact on a
hand-made warehouse (day 30 in 0–30, day 31 in 31–60, day 90 in 61–90, day 91 in 90+)."""

import math
from datetime import date, timedelta

import polars as pl
import pytest
from sqlalchemy import create_engine, select

from data_seed.load import atomic_load
from queries.debt import (
    BLOCK_STAGES,
    ORGANISATION_SEGMENTS,
    block_pipeline_select,
    customer_debt_rows,
    first_due_select,
    frequent_debtor_list_select,
    frequent_debtor_summary_select,
    largest_debtors_select,
    period_last_day,
)
from queries.filters import Filters, Scope, add_months
from queries.measures_debt import debt_ageing_select
from queries.metrics import measure_select
from queries.rules import FREQUENT_DEBTOR_LATE_BILLS, FREQUENT_DEBTOR_WINDOW_MONTHS
from queries.run import run
from queries.tables import metadata
from tests.conftest import connect
from tests.measure_reference import load_raw, make_context, next_month

ALL = Scope()
CASES = {
    "last_month_country": (Filters(date(2026, 10, 1), date(2026, 10, 1)), ALL),
    "quarter_south_organisations": (
        Filters(date(2026, 4, 1), date(2026, 6, 1), regions=("Nam",), segments=("enterprise", "government")),
        ALL,
    ),
    "year_scoped_postpaid": (
        Filters(date(2025, 11, 1), date(2026, 10, 1), plans=("postpaid",)),
        Scope(role="regional_manager", provinces=frozenset({"01", "79", "31"})),
    ),
}
STAGE_COLUMNS = {"one_way": "one_way_block_on", "two_way": "two_way_block_on", "terminated": "terminated_on"}


# --- the independent side -------------------------------------------------------------------


def expected_customer_debt(ctx, as_of: date) -> pl.DataFrame:
    """Per customer in view: debt as of the end of `as_of` (bills due before it, billed − paid
    by then), the 90+ part, unpaid bills, oldest days past due."""
    rows = (
        ctx.raw["bills"]
        .filter(pl.col("due_on") < as_of)
        .with_columns(
            (pl.col("billed_vnd") - pl.when(pl.col("paid_on") <= as_of).then(pl.col("paid_vnd")).otherwise(0)).alias(
                "unpaid"
            ),
            (pl.lit(as_of) - pl.col("due_on")).dt.total_days().alias("days"),
        )
        .filter(pl.col("unpaid") > 0)
        .join(ctx.cust.select("customer_id"), on="customer_id")
    )
    return rows.group_by("customer_id").agg(
        pl.col("unpaid").sum().cast(pl.Float64).alias("debt_vnd"),
        pl.col("unpaid").filter(pl.col("days") >= 91).sum().cast(pl.Float64).alias("debt_90_plus_vnd"),
        pl.len().cast(pl.Float64).alias("unpaid_bills"),
        pl.col("days").max().cast(pl.Float64).alias("oldest_days_past_due"),
    )


def expected_debtors(ctx, end_month: date) -> pl.DataFrame:
    """customer_id, late_bills: at least the rule's number of late bills due in the window."""
    as_of = next_month(end_month) - timedelta(days=1)
    window_start = add_months(end_month, -(FREQUENT_DEBTOR_WINDOW_MONTHS - 1))
    on_time = pl.when(pl.col("paid_on") <= pl.col("due_on")).then(pl.col("paid_vnd")).otherwise(0)
    late = ctx.raw["bills"].filter(
        (pl.col("due_on") >= window_start) & (pl.col("due_on") < as_of) & (pl.col("billed_vnd") > on_time)
    )
    counted = late.group_by("customer_id").agg(pl.len().alias("late_bills"))
    counted = counted.filter(pl.col("late_bills") >= FREQUENT_DEBTOR_LATE_BILLS)
    return counted.join(ctx.cust.select("customer_id"), on="customer_id")


def involuntary_by(ctx, as_of: date) -> pl.DataFrame:
    events = ctx.raw["churn_events"]
    return events.filter((pl.col("churn_type") == "involuntary") & (pl.col("churned_on") <= as_of)).select(
        "customer_id"
    )


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_customer_debt_equals_polars_and_adds_up_to_the_registry(warehouse_url, connections, case):
    filters, scope = CASES[case]
    connection = connect(connections, warehouse_url)
    ctx = make_context(load_raw(warehouse_url), filters, scope)
    as_of = period_last_day(filters)
    expected = expected_customer_debt(ctx, as_of).sort("customer_id")
    largest = run(largest_debtors_select(filters, scope, "en"), connection)
    organisations = expected.join(
        ctx.cust.filter(pl.col("segment").is_in(ORGANISATION_SEGMENTS)).select("customer_id"), on="customer_id"
    ).sort(["debt_vnd", "customer_id"], descending=[True, False])
    assert largest["customer_id"].to_list() == organisations["customer_id"].to_list()
    for column in ("debt_vnd", "debt_90_plus_vnd", "unpaid_bills", "oldest_days_past_due"):
        assert largest[column].to_list() == organisations[column].to_list(), column
    # the per-customer rows (unscoped) and the registry's stock measures are one definition
    rows = run(select(customer_debt_rows(as_of)), connection).sort("customer_id")
    everyone = Filters(filters.start_month, filters.end_month)
    every_customer = expected_customer_debt(make_context(load_raw(warehouse_url), everyone, ALL), as_of)
    assert rows.rows() == every_customer.sort("customer_id").select(rows.columns).rows()
    registry = run(measure_select("outstanding_debt", filters, scope), connection)["value"][0]
    assert math.isclose(expected["debt_vnd"].sum(), registry, rel_tol=1e-12)
    registry_90 = run(measure_select("debt_90_plus", filters, scope), connection)["value"][0]
    assert math.isclose(expected["debt_90_plus_vnd"].sum(), registry_90, rel_tol=1e-12, abs_tol=1e-6)


@pytest.mark.parametrize("case", list(CASES))
def test_frequent_debtors_equal_polars(warehouse_url, connections, case):
    filters, scope = CASES[case]
    connection = connect(connections, warehouse_url)
    ctx = make_context(load_raw(warehouse_url), filters, scope)
    as_of = period_last_day(filters)
    debtors = expected_debtors(ctx, filters.end_month)
    debt = expected_customer_debt(ctx, as_of)
    held = debtors.join(debt, on="customer_id", how="left")
    churned = debtors.join(involuntary_by(ctx, as_of), on="customer_id")
    summary = run(frequent_debtor_summary_select(filters, scope), connection).row(0, named=True)
    assert summary["debtors"] == debtors.height
    assert summary["debtors"] == run(measure_select("frequent_debtors", filters, scope), connection)["value"][0]
    assert math.isclose(summary["debt_held_vnd"], held["debt_vnd"].fill_null(0).sum(), abs_tol=1e-6)
    assert summary["churned_involuntary"] == churned.height
    listed = run(frequent_debtor_list_select(filters, scope, "vi"), connection)
    ordered = held.with_columns(pl.col("debt_vnd").fill_null(0.0)).sort(
        ["debt_vnd", "late_bills", "customer_id"], descending=[True, True, False]
    )
    assert listed["customer_id"].to_list() == ordered["customer_id"].to_list()
    assert listed["late_bills"].to_list() == ordered["late_bills"].to_list()
    assert listed["debt_vnd"].to_list() == ordered["debt_vnd"].to_list()
    assert listed.filter(pl.col("churn_type") == "involuntary").height == churned.height


@pytest.mark.parametrize("case", list(CASES))
def test_first_due_date_equals_polars(warehouse_url, connections, case):
    """The earliest due date of a bill of the customers in view (the Debt page says nothing
    is owed before it)."""
    filters, scope = CASES[case]
    ctx = make_context(load_raw(warehouse_url), filters, scope)
    in_view = ctx.raw["bills"].join(ctx.cust.select("customer_id"), on="customer_id")
    got = run(first_due_select(filters, scope), connect(connections, warehouse_url))["first_due_on"][0]
    assert got == in_view["due_on"].min() is not None


def test_frequent_debtors_churn_involuntarily_in_the_seeded_data(warehouse_url, connections):
    """Non-trivial data: there are debtors, they hold debt, and some were terminated."""
    filters, scope = CASES["last_month_country"]
    summary = run(frequent_debtor_summary_select(filters, scope), connect(connections, warehouse_url)).row(
        0, named=True
    )
    assert summary["debtors"] > 20 and summary["debt_held_vnd"] > 0 and summary["churned_involuntary"] > 0


@pytest.mark.parametrize("case", list(CASES))
def test_block_pipeline_equals_polars(warehouse_url, connections, case):
    filters, scope = CASES[case]
    connection = connect(connections, warehouse_url)
    ctx = make_context(load_raw(warehouse_url), filters, scope)
    bills = ctx.raw["bills"].join(ctx.cust.select("customer_id"), on="customer_id")
    start, stop = filters.start_month, next_month(filters.end_month)
    actual = run(block_pipeline_select(filters, scope), connection)
    assert actual["stage"].to_list() == list(BLOCK_STAGES)
    by_month = run(block_pipeline_select(filters, scope, by_month=True), connection)
    for stage in BLOCK_STAGES:
        column = STAGE_COLUMNS[stage]
        events = bills.filter((pl.col(column) >= start) & (pl.col(column) < stop))
        row = actual.filter(pl.col("stage") == stage).row(0, named=True)
        assert (row["customers"], row["bills"]) == (events["customer_id"].n_unique(), events.height), stage
        monthly = events.with_columns(pl.col(column).dt.truncate("1mo").alias("month")).group_by("month")
        expected = monthly.agg(pl.col("customer_id").n_unique().alias("customers"), pl.len().alias("bills"))
        got = by_month.filter(pl.col("stage") == stage).select("month", "customers", "bills").sort("month")
        assert (
            got.rows()
            == expected.sort("month")
            .select("month", "customers", "bills")
            .cast({"customers": pl.Float64, "bills": pl.Float64})
            .rows()
        ), stage
    assert actual["customers"].sum() > 0 or case == "quarter_south_organisations"


# --- exact boundaries on a hand-made warehouse -------------------------------------------------


def write_tiny_warehouse(
    url: str,
    customers: list[tuple[int, str, bool]],
    complaints: list[dict] = (),
    bills: list[dict] = (),
    churn: list[dict] = (),
) -> None:
    """A warehouse of a few hand-written rows, loaded the way real data is (atomic_load)."""
    province = dict(
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
    churned = {row["customer_id"]: row["churned_on"] for row in churn}
    people = [
        dict(
            customer_id=customer_id,
            customer_key=str(customer_id),
            segment=segment,
            province_code="01",
            area_type="urban",
            birth_year=1980,
            gender="female",
            plan="postpaid",
            has_mobile=True,
            has_home_internet=False,
            has_tv=False,
            has_enterprise_solutions=False,
            is_key_account=key,
            activated_on=date(2024, 1, 1),
            status="churned" if customer_id in churned else "active",
            churned_on=churned.get(customer_id),
            ported_in_from=None,
            full_name=f"Nguyễn Văn {customer_id}",
            phone=f"090000000{customer_id}",
        )
        for customer_id, segment, key in customers
    ]
    staff = dict(staff_id=1, province_code="01", channel="call_centre", hired_on=date(2020, 1, 1))

    def frame(table: str, rows) -> pl.DataFrame:
        names = [column.name for column in metadata.tables[table].columns]
        return pl.DataFrame([{name: row.get(name) for name in names} for row in rows], infer_schema_length=None)

    with atomic_load(url, source="tiny test warehouse") as load:
        load.write("provinces", frame("provinces", [province]))
        load.write("customers", frame("customers", people))
        load.write("staff", frame("staff", [staff]))
        if complaints:
            load.write("complaints", frame("complaints", complaints))
        if bills:
            load.write("bills", frame("bills", bills))
        if churn:
            load.write("churn_events", frame("churn_events", churn))
        load.set_meta(data_through=date(2026, 10, 1))


def bill(bill_id, customer_id, due_on, billed, paid=0, paid_on=None, **blocks):
    return dict(
        bill_id=bill_id,
        customer_id=customer_id,
        bill_month=add_months(date(due_on.year, due_on.month, 1), -1),
        billed_vnd=billed,
        due_on=due_on,
        paid_vnd=paid,
        paid_on=paid_on,
        one_way_block_on=blocks.get("one_way"),
        two_way_block_on=blocks.get("two_way"),
        terminated_on=blocks.get("terminated"),
    )


@pytest.fixture(params=["duckdb", "postgresql"])
def tiny_debt_url(request):
    url = request.getfixturevalue("empty_duck_url" if request.param == "duckdb" else "empty_pg_url")
    as_of = date(2026, 10, 31)
    rows = [
        bill(1, 1, as_of - timedelta(days=30), 1_000),  # day 30 → 0–30
        bill(2, 1, as_of - timedelta(days=31), 2_000, one_way=date(2026, 10, 5)),  # day 31 → 31–60
        bill(3, 1, as_of - timedelta(days=90), 4_000, paid=1_000, paid_on=date(2026, 9, 1)),  # day 90 → 61–90
        bill(4, 1, as_of - timedelta(days=91), 8_000, two_way=date(2026, 10, 20)),  # day 91 → 90+
        bill(5, 1, as_of, 99_000),  # due today: not past due
        bill(6, 1, date(2026, 6, 20), 500, paid=500, paid_on=date(2026, 11, 2)),  # paid after the period end
        # customer 2 (enterprise): three late bills in the window, terminated in October
        bill(7, 2, date(2026, 3, 20), 100, paid=100, paid_on=date(2026, 3, 25)),
        bill(8, 2, date(2026, 4, 20), 100, paid=100, paid_on=date(2026, 4, 28)),
        bill(9, 2, date(2026, 5, 20), 300, terminated=date(2026, 10, 10), one_way=date(2026, 5, 25)),
        # customer 3: two late bills in the window, one before it
        bill(10, 3, date(2026, 2, 20), 10, paid=10, paid_on=date(2026, 2, 21)),
        bill(11, 3, date(2026, 3, 20), 10, paid=10, paid_on=date(2026, 3, 21)),
        bill(12, 3, date(2025, 10, 20), 10, paid=10, paid_on=date(2025, 10, 21)),
    ]
    churn = [
        dict(customer_id=2, churned_on=date(2026, 10, 10), churn_type="involuntary", reason="non_payment"),
    ]
    write_tiny_warehouse(
        url,
        customers=[(1, "individual", False), (2, "enterprise", True), (3, "individual", False)],
        bills=rows,
        churn=churn,
    )
    return url


def test_ageing_boundaries_and_debtors_on_a_tiny_warehouse(tiny_debt_url):
    filters = Filters(date(2026, 10, 1), date(2026, 10, 1))
    engine = create_engine(tiny_debt_url)
    with engine.connect() as connection:
        ageing = run(debt_ageing_select(filters, ALL), connection)
        buckets = dict(zip(ageing["age_bucket"], ageing["value"], strict=True))
        # bill 6 is 133 days past due and unpaid as of 31/10 (paid on 02/11): 90+
        assert buckets == {"0-30": 1_000, "31-60": 2_000, "61-90": 3_000, "90+": 8_000 + 500 + 300}
        largest = run(largest_debtors_select(filters, ALL), connection)
        assert largest["customer_id"].to_list() == [2]
        assert largest.row(0, named=True)["debt_90_plus_vnd"] == 300
        summary = run(frequent_debtor_summary_select(filters, ALL), connection).row(0, named=True)
        # customer 1: bills 1–4 and 6 late; customer 2: 7–9; customer 3: two in the window
        assert summary == {
            "debtors": 2,
            "debt_held_vnd": 1_000 + 2_000 + 3_000 + 8_000 + 500 + 300,
            "churned_involuntary": 1,
        }
        listed = run(frequent_debtor_list_select(filters, ALL), connection)
        assert listed["customer_id"].to_list() == [1, 2]
        assert listed.row(0, named=True)["oldest_days_past_due"] == 133
        assert listed.row(1, named=True)["churn_type"] == "involuntary"
        pipeline = run(block_pipeline_select(filters, ALL), connection)
        assert pipeline.select("stage", "customers", "bills").rows() == [
            ("one_way", 1.0, 1.0),
            ("two_way", 1.0, 1.0),
            ("terminated", 1.0, 1.0),
        ]
    engine.dispose()


INJECTION = "01'); DROP TABLE customers; --"


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_every_select_compiles_with_values_bound(dialect):
    from sqlalchemy.dialects import postgresql

    engine_dialect = (
        create_engine("duckdb:///:memory:").dialect if dialect == "duckdb" else postgresql.psycopg2.dialect()
    )
    filters = Filters(date(2026, 1, 1), date(2026, 6, 1), provinces=("79", INJECTION), segments=("enterprise",))
    scope = Scope(role="regional_manager", provinces=frozenset({"79", "01"}))
    labels = {"segment": {"enterprise": "Doanh nghiệp " + INJECTION}}
    selects = [
        frequent_debtor_summary_select(filters, scope),
        frequent_debtor_list_select(filters, scope, "en", labels),
        largest_debtors_select(filters, scope, "vi", labels),
        block_pipeline_select(filters, scope),
        block_pipeline_select(filters, scope, by_month=True),
    ]
    for query in selects:
        compiled = query.compile(dialect=engine_dialect)
        assert INJECTION not in str(compiled) and "Doanh" not in str(compiled)
