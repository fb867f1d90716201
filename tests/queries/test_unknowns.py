"""What real extracts hold and the generator never writes is counted, on DuckDB and
PostgreSQL, from the marts and from the raw tables alike (tests/unknowns_warehouse.py):

- a port-out or port-in whose competitor is 'unknown' is a port all the same: in the
  registry's port_outs / port_ins / net_port, in every breakdown by competitor (the churn
  page's selects, the review's churn mix, the port-out requests), under 'unknown';
- customers whose area type is 'unknown' are counted under it, and a filter can select them;
- revenue is net: a credited (negative) row is in every sum, ARPU and share, and a share of
  a whole that is not positive is NULL.

Every expected figure is plain SQL on the raw tables.
"""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from queries.churn import port_balance_select, port_flow_select
from queries.churn import port_out_requests_select as requests_select
from queries.filters import Filters, Scope, add_months
from queries.marts import marts_enabled, use_marts
from queries.measures_churn import port_outs_by_competitor_select
from queries.metrics import measure_select
from queries.review import churn_mix_select
from queries.run import run
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.unknowns_warehouse import KNOWN_AREA_PROVINCE, LAST_MONTH, build

ALL = Scope()
PERIODS = {
    "last_month": Filters(LAST_MONTH, LAST_MONTH),
    "quarter": Filters(date(2026, 4, 1), date(2026, 6, 1)),
    "all_36_months": Filters(date(2023, 11, 1), LAST_MONTH),
}


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def warehouse(request, tmp_path_factory):
    """(an open connection, the credited cell) of the unknowns warehouse on each dialect."""
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('unknowns') / 'warehouse.duckdb'}"
        credited = build(url)
        engine = create_engine(url)
        with engine.connect() as connection:
            yield connection, credited
        engine.dispose()
        return
    require_postgres()
    url = create_pg_database()
    try:
        credited = build(url)
        engine = create_engine(url)
        with engine.connect() as connection:
            yield connection, credited
        engine.dispose()
    finally:
        drop_pg_database(url)


@pytest.fixture(params=[True, False], ids=["marts", "raw"])
def marts(request):
    """Each test once answered from the marts, once from the raw tables."""
    before = marts_enabled()
    use_marts(request.param)
    yield request.param
    use_marts(before)


def sql(connection, statement: str, **parameters) -> list[tuple]:
    """Rows of plain SQL; PostgreSQL's exact sums (Decimal) as floats, like the measures."""
    return [
        tuple(float(value) if isinstance(value, Decimal) else value for value in row)
        for row in connection.execute(text(statement), parameters)
    ]


def bounds(filters: Filters) -> dict:
    return {"start": filters.start_month, "stop": add_months(filters.end_month, 1)}


def total(connection, select_) -> float | None:
    frame = run(select_, connection)
    assert frame.height == 1, frame
    return frame["value"][0]


def by_member(connection, select_, column: str) -> dict:
    return {row[column]: row["value"] for row in run(select_, connection).iter_rows(named=True)}


@pytest.mark.parametrize("period", list(PERIODS))
def test_port_outs_count_unknown_destinations(warehouse, marts, period):
    connection, _ = warehouse
    filters = PERIODS[period]
    expected = dict(
        sql(
            connection,
            "SELECT e.ported_to, COUNT(*) FROM churn_events e JOIN customers c ON c.customer_id = e.customer_id "
            "WHERE e.ported_to IS NOT NULL AND e.churned_on >= :start AND e.churned_on < :stop GROUP BY e.ported_to",
            **bounds(filters),
        )
    )
    assert expected.get("unknown", 0) > 0 and len(expected) > 1, expected

    assert total(connection, measure_select("port_outs", filters, ALL)) == sum(expected.values())
    by_competitor = by_member(connection, port_outs_by_competitor_select(filters, ALL), "competitor")
    assert by_competitor == {code: float(count) for code, count in expected.items()}

    flows = run(port_flow_select(filters, ALL, "segment"), connection)
    into_unknown = flows.filter(flows["competitor"] == "unknown")["value"].sum()
    assert into_unknown == expected["unknown"]
    assert flows["value"].sum() == sum(expected.values())

    # The review's churn mix: 'unknown' is a member of its own, NULL stays "not ported".
    mix = by_member(connection, churn_mix_select(filters, ALL, "competitor", by=()), "member")
    left = sql(
        connection,
        "SELECT COUNT(*) FROM churn_events WHERE ported_to IS NULL AND churned_on >= :start AND churned_on < :stop",
        **bounds(filters),
    )[0][0]
    assert mix == {**{code: float(count) for code, count in expected.items()}, None: float(left)}


@pytest.mark.parametrize("period", list(PERIODS))
def test_port_ins_and_requests_count_unknown_competitors(warehouse, marts, period):
    connection, _ = warehouse
    filters = PERIODS[period]
    ins = dict(
        sql(
            connection,
            "SELECT ported_in_from, COUNT(*) FROM customers WHERE ported_in_from IS NOT NULL "
            "AND activated_on >= :start AND activated_on < :stop GROUP BY ported_in_from",
            **bounds(filters),
        )
    )
    outs = dict(
        sql(
            connection,
            "SELECT ported_to, COUNT(*) FROM churn_events WHERE ported_to IS NOT NULL "
            "AND churned_on >= :start AND churned_on < :stop GROUP BY ported_to",
            **bounds(filters),
        )
    )
    assert total(connection, measure_select("port_ins", filters, ALL)) == sum(ins.values())
    assert total(connection, measure_select("net_port", filters, ALL)) == sum(ins.values()) - sum(outs.values())
    balance = {
        row["competitor"]: row for row in run(port_balance_select(filters, ALL), connection).iter_rows(named=True)
    }
    if period == "all_36_months":
        assert ins.get("unknown", 0) > 0, ins
    for code in set(ins) | set(outs):
        row = balance[code]
        assert (row["port_ins"], row["port_outs"]) == (ins.get(code, 0), outs.get(code, 0)), code
        assert row["net_port"] == ins.get(code, 0) - outs.get(code, 0), code

    requests = dict(
        sql(
            connection,
            "SELECT r.to_competitor, COUNT(*) FROM port_out_requests r "
            "JOIN customers c ON c.customer_id = r.customer_id "
            "WHERE r.requested_on >= :start AND r.requested_on < :stop GROUP BY r.to_competitor",
            **bounds(filters),
        )
    )
    got = {
        row["competitor"]: row["requests"]
        for row in run(requests_select(filters, ALL, ("competitor",)), connection).iter_rows(named=True)
    }
    assert got == {code: float(count) for code, count in requests.items()}
    assert requests.get("unknown", 0) > 0, requests


def test_unknown_area_is_counted_and_can_be_chosen(warehouse, marts):
    connection, _ = warehouse
    filters = PERIODS["last_month"]
    expected = dict(
        sql(
            connection,
            "SELECT area_type, COUNT(*) FROM customers WHERE activated_on < :stop "
            "AND (churned_on IS NULL OR churned_on >= :stop) GROUP BY area_type",
            **bounds(filters),
        )
    )
    assert expected.get("unknown", 0) > 0, expected
    by_area = by_member(connection, measure_select("active_customers", filters, ALL, by=("area_type",)), "area_type")
    assert by_area == {area: float(count) for area, count in expected.items()}

    chosen = Filters(LAST_MONTH, LAST_MONTH, area_types=("unknown",))
    assert total(connection, measure_select("active_customers", chosen, ALL)) == expected["unknown"]
    nobody = Filters(LAST_MONTH, LAST_MONTH, area_types=("unknown",), provinces=(KNOWN_AREA_PROVINCE,))
    assert not total(connection, measure_select("active_customers", nobody, ALL))


def test_revenue_is_net_of_the_credited_row(warehouse, marts):
    connection, credited = warehouse
    filters = PERIODS["last_month"]
    assert sql(connection, "SELECT COUNT(*) FROM revenue_monthly WHERE revenue_vnd < 0")[0][0] == 1
    (whole, months), *_ = sql(
        connection,
        "SELECT SUM(revenue_vnd), COUNT(*) FROM revenue_monthly WHERE revenue_month = :month",
        month=LAST_MONTH,
    )
    assert total(connection, measure_select("revenue", filters, ALL)) == whole
    assert total(connection, measure_select("arpu", filters, ALL)) == pytest.approx(whole / months, rel=1e-12)

    # The credited province × segment nets below zero: a negative revenue and ARPU, no share.
    cell = Filters(LAST_MONTH, LAST_MONTH, provinces=(credited.province_code,), segments=(credited.segment,))
    (cell_total, cell_months), *_ = sql(
        connection,
        "SELECT SUM(r.revenue_vnd), COUNT(*) FROM revenue_monthly r JOIN customers c ON c.customer_id = r.customer_id "
        "WHERE r.revenue_month = :month AND c.province_code = :province AND c.segment = :segment",
        month=LAST_MONTH,
        province=credited.province_code,
        segment=credited.segment,
    )
    assert cell_total == credited.total_vnd < 0
    assert total(connection, measure_select("revenue", cell, ALL)) == cell_total
    assert total(connection, measure_select("arpu", cell, ALL)) == pytest.approx(cell_total / cell_months, rel=1e-12)
    assert total(connection, measure_select("revenue_share", cell, ALL)) is None

    # Within its province (positive in all) the credited segment has a negative share; shares add up to 1.
    province = Filters(LAST_MONTH, LAST_MONTH, provinces=(credited.province_code,))
    segments = dict(
        sql(
            connection,
            "SELECT c.segment, SUM(r.revenue_vnd) FROM revenue_monthly r JOIN customers c "
            "ON c.customer_id = r.customer_id WHERE r.revenue_month = :month AND c.province_code = :province "
            "GROUP BY c.segment",
            month=LAST_MONTH,
            province=credited.province_code,
        )
    )
    province_total = sum(segments.values())
    assert province_total > 0, segments
    shares = by_member(connection, measure_select("revenue_share", province, ALL, by=("segment",)), "segment")
    assert shares == {
        segment: pytest.approx(amount / province_total, rel=1e-12) for segment, amount in segments.items()
    }
    assert shares[credited.segment] < 0
    assert sum(shares.values()) == pytest.approx(1.0, rel=1e-12)
