"""Measures answered from the marts equal the same measures computed from the raw tables,
on DuckDB and PostgreSQL, for several filter combinations; the refresh is incremental
by month without changing a number; the marts hold only aggregates of the raw tables.

The raw answers come from the same registry with `queries.marts.use_marts(False)` (the
builders' raw path, itself checked against independent Polars computations in
tests/queries/test_metrics.py).
"""

import math
import shutil
from datetime import date

import polars as pl
import pytest
from sqlalchemy import create_engine, delete, select, update

from data_seed.refresh import LOOKBACK_MONTHS, META_THROUGH, META_VERSION, marts_current, plan, refresh_url
from queries.churn import (
    churn_by_tenure_select,
    churn_reasons_select,
    cohort_retention_select,
    port_out_requests_select,
    survival_select,
)
from queries.complaints import (
    breach_count_select,
    breaches_select,
    category_mix_select,
    complaint_rate_by_select,
    complaint_volume_select,
    department_cost_select,
    handling_select,
)
from queries.customers import big_customers_select, key_accounts_trend_select, mix_select
from queries.debt import (
    block_pipeline_select,
    frequent_debtor_list_select,
    frequent_debtor_summary_select,
    largest_debtors_select,
)
from queries.engine import duckdb_path
from queries.filters import Filters, Scope, add_months
from queries.marts import (
    MART_TABLES,
    mart_customer_month,
    mart_customer_month_rollup,
    mart_refresh,
    marts_enabled,
    use_marts,
)
from queries.measures_churn import port_outs_by_competitor_select
from queries.measures_complaints import backlog_ageing_select
from queries.measures_debt import debt_ageing_select
from queries.metrics import MEASURES, measure_select
from queries.review import churn_mix_select, complaint_mix_select, training_effect_select
from queries.run import run
from queries.tables import warehouse_meta
from queries.uplift import campaign_counts_select, campaign_window
from tests.conftest import connect

ALL = Scope()
HANOI_HCMC = Scope(role="regional_manager", provinces=frozenset({"01", "79"}))
# (filters, scope, breakdowns): each case exercises another path of the marts.
CASES = {
    "last_month": (Filters(date(2026, 10, 1), date(2026, 10, 1)), ALL, [(), ("province_code",)]),
    "quarter_hanoi_individual": (
        Filters(date(2026, 4, 1), date(2026, 6, 1), provinces=("01",), segments=("individual",)),
        ALL,
        [("month",)],
    ),
    # age bands: the fine (birth-year) customer mart
    "ten_months_south_postpaid_25_44": (
        Filters(
            date(2025, 11, 1), date(2026, 8, 1), regions=("Nam",), age_bands=("25-34", "35-44"), plans=("postpaid",)
        ),
        ALL,
        [(), ("age_band",)],
    ),
    "all_36_months": (Filters(date(2023, 11, 1), date(2026, 10, 1)), ALL, [("segment",), ("macro_region", "plan")]),
    # a role scope intersected with a province filter, and an area filter
    "two_years_scoped_rural": (
        Filters(date(2024, 11, 1), date(2026, 10, 1), provinces=("01", "48"), area_types=("rural",)),
        HANOI_HCMC,
        [(), ("month",)],
    ),
    # before the data window: customers activated earlier exist, nothing else does
    "before_the_window": (Filters(date(2022, 1, 1), date(2022, 6, 1)), ALL, [(), ("area_type",)]),
}
REL_TOLERANCE = 1e-9


@pytest.fixture(autouse=True)
def marts_back_on():
    yield
    use_marts(True)


def both_ways(build, connection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(from the marts, from the raw tables) for the select `build()` returns."""
    use_marts(True)
    from_marts = run(build(), connection)
    use_marts(False)
    try:
        from_raw = run(build(), connection)
    finally:
        use_marts(True)
    return from_marts, from_raw


def assert_frames_equal(actual: pl.DataFrame, expected: pl.DataFrame, label: str) -> None:
    """Same columns, same rows (in order), numbers equal to 1e-9 relative."""
    assert actual.columns == expected.columns, label
    assert actual.height == expected.height, f"{label}: {actual.height} rows from marts, {expected.height} raw"
    for name in actual.columns:
        for index, (got, want) in enumerate(zip(actual[name], expected[name], strict=True)):
            if isinstance(got, float) or isinstance(want, float):
                if got is None or want is None:
                    assert got is None and want is None, f"{label} {name}[{index}]: {got} vs {want}"
                    continue
                if math.isnan(got) or math.isnan(want):
                    assert math.isnan(got) and math.isnan(want), f"{label} {name}[{index}]: {got} vs {want}"
                    continue
                assert math.isclose(got, want, rel_tol=REL_TOLERANCE, abs_tol=1e-9), (
                    f"{label} {name}[{index}]: marts {got}, raw {want}"
                )
            else:
                assert got == want, f"{label} {name}[{index}]: marts {got!r}, raw {want!r}"


# PostgreSQL runs the same selects slower: the cases that exercise each mart path once.
POSTGRES_CASES = ("last_month", "ten_months_south_postpaid_25_44", "two_years_scoped_rural")


@pytest.mark.parametrize(
    ("backend", "case"),
    [("duckdb", case) for case in CASES] + [("postgresql", case) for case in POSTGRES_CASES],
)
def test_every_measure_from_marts_equals_raw(request, connections, backend, case):
    filters, scope, breakdowns = CASES[case]
    url = request.getfixturevalue("duck_url" if backend == "duckdb" else "pg_url")
    connection = connect(connections, url)
    compared = 0
    for name, measure in MEASURES.items():
        for by in breakdowns:
            if not set(by) <= set(measure.dimensions):
                continue
            from_marts, from_raw = both_ways(
                lambda name=name, by=by: measure_select(name, filters, scope, by), connection
            )
            assert_frames_equal(from_marts, from_raw, f"{name} by {by}")
            compared += 1
    assert compared >= len(MEASURES)


@pytest.mark.parametrize("case", ["last_month", "all_36_months", "ten_months_south_postpaid_25_44"])
def test_breakdown_selects_from_marts_equal_raw(warehouse_url, connections, case):
    filters, scope, _ = CASES[case]
    connection = connect(connections, warehouse_url)
    for label, build in (
        ("port-outs by competitor", port_outs_by_competitor_select),
        ("backlog ageing", backlog_ageing_select),
        ("debt ageing", debt_ageing_select),
    ):
        for by in ((), ("province_code",)):
            from_marts, from_raw = both_ways(lambda build=build, by=by: build(filters, scope, by), connection)
            assert_frames_equal(from_marts, from_raw, f"{label} by {by}")
    for by in ((), ("province_code",), ("segment",)):
        from_marts, from_raw = both_ways(lambda by=by: big_customers_select(filters, scope, by), connection)
        assert_frames_equal(from_marts, from_raw, f"big customers by {by}")
        assert from_raw["top_revenue"].sum() > 0 or filters.end_month < date(2024, 1, 1)
    from_marts, from_raw = both_ways(lambda: key_accounts_trend_select(filters, scope), connection)
    assert_frames_equal(from_marts, from_raw, "key accounts trend")
    for label, build in (
        ("tenure mix", lambda: mix_select(filters, scope, "tenure_band")),
        ("churn by tenure", lambda: churn_by_tenure_select(filters, scope)),
        ("cohort retention", lambda: cohort_retention_select(filters, scope)),
        ("survival by segment", lambda: survival_select(filters, scope, "segment")),
        ("survival by region", lambda: survival_select(filters, scope, "macro_region")),
        ("frequent debtors", lambda: frequent_debtor_summary_select(filters, scope)),
        ("frequent debtor list", lambda: frequent_debtor_list_select(filters, scope, "vi")),
        ("largest debtors", lambda: largest_debtors_select(filters, scope, "en")),
        ("block pipeline", lambda: block_pipeline_select(filters, scope)),
        ("block pipeline by month", lambda: block_pipeline_select(filters, scope, by_month=True)),
        ("churn reasons", lambda: churn_reasons_select(filters, scope)),
        ("churn mix by competitor", lambda: churn_mix_select(filters, scope, "competitor")),
        ("churn mix by age", lambda: churn_mix_select(filters, scope, "age_band", ("macro_region",))),
        ("campaigns", lambda: campaign_counts_select(campaign_window(filters), scope)),
        ("campaigns by segment", lambda: campaign_counts_select(campaign_window(filters), scope, "segment")),
        ("complaints by category", lambda: complaint_volume_select(filters, scope, ("category",))),
        ("complaint rate by channel", lambda: complaint_rate_by_select(filters, scope, "channel")),
        ("category mix by region", lambda: category_mix_select(filters, scope, "macro_region")),
        ("handling by SLA class", lambda: handling_select(filters, scope, ("sla_class",))),
        ("handling by age band", lambda: handling_select(filters, scope, ("age_band",))),
        ("department cost", lambda: department_cost_select(filters, scope)),
        ("breaches", lambda: breaches_select(filters, scope, "en")),
        ("breach count", lambda: breach_count_select(filters, scope)),
        ("review complaint mix", lambda: complaint_mix_select(filters, scope)),
        ("training effect", lambda: training_effect_select(filters, scope, ("staff_channel",))),
        ("port-out requests by month", lambda: port_out_requests_select(filters, scope, ("month",))),
        ("port-out requests by competitor", lambda: port_out_requests_select(filters, scope, ("competitor",))),
    ):
        from_marts, from_raw = both_ways(build, connection)
        if label == "tenure mix":  # a union of two periods, in no order
            from_marts, from_raw = from_marts.sort("period", "member"), from_raw.sort("period", "member")
        assert_frames_equal(from_marts, from_raw, label)
        assert from_raw.height > 0 or case != "last_month", label  # not vacuous on the widest case


def test_the_comparison_is_not_vacuous(duck_url, connections):
    """The measures read different tables on each path, and see data."""
    filters = CASES["all_36_months"][0]
    use_marts(True)
    assert "mart_customer_month_rollup" in str(measure_select("churn_rate", filters, ALL))
    assert "mart_customer_month " in str(measure_select("churn_rate", filters, ALL, ("age_band",))) + " "
    use_marts(False)
    assert "mart_" not in str(measure_select("churn_rate", filters, ALL))
    assert "mart_" not in str(big_customers_select(filters, ALL))
    use_marts(True)
    assert "mart_big_customers_rollup" in str(big_customers_select(filters, ALL))
    assert "mart_customer_cohorts_rollup" in str(churn_by_tenure_select(filters, ALL))
    assert "mart_debtors" in str(largest_debtors_select(filters, ALL))
    assert "mart_block_events" in str(block_pipeline_select(filters, ALL))
    assert "mart_churn_events" in str(churn_reasons_select(filters, ALL))
    assert "mart_campaign_targets" in str(campaign_counts_select(filters, ALL))
    use_marts(False)
    assert "mart_" not in str(churn_by_tenure_select(filters, ALL)) + str(cohort_retention_select(filters, ALL))
    assert "mart_" not in str(largest_debtors_select(filters, ALL)) + str(block_pipeline_select(filters, ALL))
    use_marts(True)
    use_marts(True)
    assert marts_enabled()
    connection = connect(connections, duck_url)
    for name in ("active_customers", "revenue", "complaint_count", "outstanding_debt", "nps", "winback_rate"):
        assert run(measure_select(name, filters, ALL), connection)["value"][0], name


def test_marts_are_small_aggregates(duck_url, connections):
    """The rollup the default views read is far smaller than the customer-months it sums."""
    connection = connect(connections, duck_url)
    rollup_rows = run(select(mart_customer_month_rollup.c.month), connection).height
    sums = run(select(mart_customer_month.c.customer_months), connection)["customer_months"].sum()
    assert rollup_rows * 5 < sums


def mart_contents(url: str) -> dict[str, pl.DataFrame]:
    engine = create_engine(url)
    with engine.connect() as connection:
        contents = {
            mart.name: run(select(mart).order_by(*mart.primary_key.columns), connection) for mart in MART_TABLES
        }
    engine.dispose()
    return contents


def warehouse_copy(duck_url: str, tmp_path) -> str:
    """A copy of the shared test warehouse that a test may change."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(duckdb_path(duck_url), copy)
    return f"duckdb:///{copy}"


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    engine.dispose()


def refresh_steps(url: str):
    """Refresh `url`: (the plan, the labels of the steps that ran, from the log)."""
    lines = []
    decided = refresh_url(url, log=lines.append)
    return decided, [line.split(":")[0].strip() for line in lines[1:]]


def assert_marts_equal(url: str, expected: dict[str, pl.DataFrame]) -> None:
    for name, rebuilt in mart_contents(url).items():
        assert rebuilt.equals(expected[name]), name


def test_incremental_refresh_equals_a_full_one(duck_url, tmp_path):
    """New months arrive after the marts were built: only the months from the first new
    one (less the lookback) are rebuilt, continuing the customer stock from the kept month,
    and every mart ends up exactly as a full rebuild makes it."""
    url = warehouse_copy(duck_url, tmp_path)
    full = mart_contents(url)
    # Pretend the marts were built when the data ended in June 2026.
    built_through = date(2026, 6, 1)
    engine = create_engine(url)
    with engine.begin() as connection:
        for mart in MART_TABLES:
            if "month" in mart.c:
                connection.execute(delete(mart).where(mart.c.month > built_through))
        connection.execute(
            update(mart_refresh).where(mart_refresh.c.key == META_THROUGH).values(value=built_through.isoformat())
        )
        connection.execute(update(mart_refresh).where(mart_refresh.c.key == META_VERSION).values(value="older"))
    engine.dispose()
    decided = refresh_url(url, log=lambda line: None)
    assert decided.since == add_months(built_through, 1 - LOOKBACK_MONTHS)
    assert_marts_equal(url, full)


def test_a_new_mart_is_built_alone(duck_url, tmp_path):
    """A warehouse refreshed by an older version lacks a mart: the refresh builds that one
    (and its rollup), leaves the others as they were, and ends with what a full build makes."""
    url = warehouse_copy(duck_url, tmp_path)
    full = mart_contents(url)
    execute(url, "DROP TABLE mart_customer_cohorts", "DROP TABLE mart_customer_cohorts_rollup")
    decided, steps = refresh_steps(url)
    assert decided.reason == "new or changed marts: mart_customer_cohorts, mart_customer_cohorts_rollup"
    assert steps == ["cohorts"]
    assert_marts_equal(url, full)


def test_a_changed_mart_is_rebuilt(duck_url, tmp_path):
    """A mart whose columns an upgrade changed is not taken as current: it is dropped,
    created as this version defines it and built again."""
    url = warehouse_copy(duck_url, tmp_path)
    full = mart_contents(url)
    execute(url, "ALTER TABLE mart_debtors DROP COLUMN churn_type")
    assert not marts_current(url)
    _, steps = refresh_steps(url)
    assert steps == ["debtors"]
    assert marts_current(url)
    assert_marts_equal(url, full)


def test_refresh_plans():
    meta = {"data_version": "v2", META_VERSION: "v2", META_THROUGH: "2026-10-01"}
    assert plan(meta, date(2026, 10, 1)).current
    assert plan(meta, date(2026, 10, 1), full=True).since is None
    assert plan({**meta, META_VERSION: "v1"}, date(2026, 10, 1)).since is None  # changed, same months: full
    grown = plan({**meta, META_VERSION: "v1", META_THROUGH: "2026-08-01"}, date(2026, 10, 1))
    assert grown.since == add_months(date(2026, 9, 1), -LOOKBACK_MONTHS) and not grown.current
    assert plan({}, date(2026, 10, 1)).since is None


def test_refresh_command_on_postgresql_rebuilds_the_same_marts(empty_pg_url):
    """`python -m data_seed refresh` on PostgreSQL: in one transaction, from a month on,
    to the same marts as the load built; a new data version tells the dashboard."""
    from data_seed import seed_warehouse

    seed_warehouse(empty_pg_url, customers=2_000, months=8, seed=5, end_month=date(2026, 10, 1))
    before = mart_contents(empty_pg_url)
    engine = create_engine(empty_pg_url)
    with engine.connect() as connection:
        version = connection.execute(select(warehouse_meta.c.value).where(warehouse_meta.c.key == "data_version"))
        version = version.scalar_one()
    engine.dispose()
    decided = refresh_url(empty_pg_url, since=date(2026, 7, 1), log=lambda line: None)
    assert decided.since == date(2026, 7, 1) and not decided.current
    for name, rebuilt in mart_contents(empty_pg_url).items():
        assert rebuilt.equals(before[name]), name
    assert refresh_url(empty_pg_url, log=lambda line: None).current  # nothing left to do
    engine = create_engine(empty_pg_url)
    with engine.connect() as connection:
        meta = dict(connection.execute(select(warehouse_meta)).all())
    engine.dispose()
    assert meta["data_version"] != version
