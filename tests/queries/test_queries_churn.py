"""queries/churn.py: every select equals an independent Polars computation from the raw tables
(tests/customers_churn_reference.py, tests/measure_reference.py), on DuckDB and PostgreSQL,
for the two filter combinations of tests/queries/test_queries_customers.py."""

import polars as pl
import pytest

from queries.churn import (
    CHURN_RATES,
    FLOW_SOURCES,
    churn_by_tenure_select,
    churn_rates_by_select,
    churn_reasons_select,
    churn_trend_by_plan_select,
    churn_trend_select,
    cohort_retention_select,
    involuntary_share_select,
    kaplan_meier,
    port_balance_select,
    port_flow_select,
    port_ins_by_competitor_select,
    port_out_requests_select,
    port_outs_by_competitor_trend_select,
    port_trend_select,
    survival_select,
    target_trend_select,
    trend_range,
)
from queries.filters import add_months
from queries.metrics import measure_select
from queries.run import run
from tests import customers_churn_reference as ref
from tests.conftest import connect
from tests.queries.test_queries_customers import CASES, OUTSIDE

TREND = 36


@pytest.fixture()
def db(warehouse_url, connections):
    return connect(connections, warehouse_url), ref.raw_tables(warehouse_url)


def assert_close(got, want, what):
    assert ref.close(got, want), f"{what}: got {got}, expected {want}"


@pytest.mark.parametrize("dimension", ["plan", "age_band", "segment", "area_type", "macro_region"])
@pytest.mark.parametrize("case", list(CASES))
def test_churn_rates_by_dimension_are_the_registry(db, case, dimension):
    connection, raw = db
    filters, scope = CASES[case]
    got = run(churn_rates_by_select(filters, scope, dimension), connection)
    assert set(got["measure"].unique().to_list()) == set(CHURN_RATES)
    for name in CHURN_RATES:
        expected = ref.as_dict(ref.registry(raw, name, filters, scope, (dimension,)), dimension)
        rows = got.filter(pl.col("measure") == name)
        assert set(rows["member"].to_list()) == set(expected), name
        for member, value in rows.select("member", "value").iter_rows():
            assert_close(value, expected[member], f"{name}/{member}")


@pytest.mark.parametrize("case", list(CASES))
def test_churn_by_tenure(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    got = run(churn_by_tenure_select(filters, scope), connection)
    expected = ref.churn_by_tenure(raw, filters, scope)
    assert set(got["member"].to_list()) == set(expected)
    for member, value, numerator, denominator in got.select("member", "value", "numerator", "denominator").iter_rows():
        assert (numerator, denominator) == expected[member], member
        assert_close(value, ref.ratio_value(*expected[member]), member)
    whole = run(measure_select("churn_rate", filters, scope), connection).row(0, named=True)
    assert got["numerator"].sum() == whole["numerator"] and got["denominator"].sum() == whole["denominator"]


@pytest.mark.parametrize("case", list(CASES))
def test_trends_over_36_months(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    span = trend_range(filters, TREND)
    assert span.end_month == filters.end_month and span.start_month == add_months(filters.end_month, -35)
    got = run(churn_trend_select(filters, scope, TREND), connection)
    for name in CHURN_RATES[:3]:
        expected = ref.as_dict(ref.registry(raw, name, span, scope, ("month",)), "month")
        rows = got.filter(pl.col("measure") == name).sort("month")
        assert rows.height == TREND
        for month, value in rows.select("month", "value").iter_rows():
            assert_close(value, expected.get(month), f"{name}/{month}")
    by_plan = run(churn_trend_by_plan_select(filters, scope, TREND), connection)
    expected = ref.registry(raw, "churn_rate", span, scope, ("month", "plan"))
    lookup = {(month, plan): value for month, plan, value in expected.select("month", "plan", "value").iter_rows()}
    assert by_plan.height == len(lookup)
    for month, plan, value in by_plan.select("month", "plan", "value").iter_rows():
        assert_close(value, lookup[(month, plan)], f"{month}/{plan}")
    ports = run(port_trend_select(filters, scope, TREND), connection)
    for name in ("port_ins", "port_outs", "net_port"):
        expected = ref.as_dict(ref.registry(raw, name, span, scope, ("month",)), "month")
        for month, value in ports.filter(pl.col("measure") == name).select("month", "value").iter_rows():
            assert value == (expected.get(month) or 0.0), f"{name}/{month}"


@pytest.mark.parametrize("case", list(CASES))
def test_target_trend(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    got = run(target_trend_select("churn_rate", filters, scope, 12), connection)
    assert got.height == 12
    for month, target in got.select("month", "target").iter_rows():
        assert_close(target, ref.churn_target(raw, filters, scope, month), f"target {month}")
    if not filters.segments:
        assert got["target"].is_not_null().all()
    else:
        assert got["target"].is_null().all()  # no target for a slice of the customers


@pytest.mark.parametrize("case", list(CASES))
def test_porting_by_competitor(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    span = trend_range(filters, TREND)
    monthly = run(port_outs_by_competitor_trend_select(filters, scope, TREND), connection)
    expected = ref.port_outs_by(raw, span, scope, "month")
    assert {(m, c): v for m, c, v in monthly.select("month", "competitor", "value").iter_rows()} == expected
    ins = run(port_ins_by_competitor_select(filters, scope), connection)
    assert ref.as_dict(ins, "competitor") == ref.port_ins_by_competitor(raw, filters, scope)
    balance = run(port_balance_select(filters, scope), connection)
    outs = {}
    for (_, competitor), value in ref.port_outs_by(raw, filters, scope, "month").items():
        outs[competitor] = outs.get(competitor, 0.0) + value
    expected_ins = ref.port_ins_by_competitor(raw, filters, scope)
    for competitor, port_ins, port_outs, net in balance.iter_rows():
        assert (port_ins, port_outs) == (expected_ins.get(competitor, 0.0), outs.get(competitor, 0.0)), competitor
        assert net == port_ins - port_outs
    assert set(balance["competitor"].to_list()) == set(outs) | set(expected_ins)


@pytest.mark.parametrize("source", FLOW_SOURCES)
@pytest.mark.parametrize("case", list(CASES))
def test_flow_from_segment_or_region_to_competitor(db, case, source):
    connection, raw = db
    filters, scope = CASES[case]
    got = run(port_flow_select(filters, scope, source), connection)
    expected = ref.port_outs_by(raw, filters, scope, source)
    assert expected, "the case has port-outs"
    assert {(s, c): v for s, c, v in got.select("source", "competitor", "value").iter_rows()} == expected


@pytest.mark.parametrize("case", list(CASES))
def test_reasons_and_the_debt_link(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    reasons = run(churn_reasons_select(filters, scope), connection)
    expected = ref.reasons(raw, filters, scope)
    assert len(expected) >= 5
    got = {(kind, reason): (value, share) for kind, reason, value, share in reasons.iter_rows()}
    assert set(got) == set(expected)
    for key, (value, share) in got.items():
        assert value == expected[key][0] and ref.close(share, expected[key][1]), key
    churned = run(measure_select("churned_customers", filters, scope), connection)["value"][0]
    assert reasons["value"].sum() == churned
    assert {reason for kind, reason in got if kind == "involuntary"} == {"non_payment"}

    share = run(involuntary_share_select(filters, scope), connection)
    assert_close(share["value"][0], ref.involuntary_share(raw, filters, scope), "involuntary share")
    by_month = run(involuntary_share_select(filters, scope, ("month",)), connection)
    assert by_month.height == filters.month_count
    expected = ref.involuntary_share_by_month(raw, filters, scope)
    for month, value in by_month.select("month", "value").iter_rows():
        assert_close(value, expected[month], f"involuntary share {month}")

    requests = run(port_out_requests_select(filters, scope), connection).row(0, named=True)
    total, refused = ref.port_requests(raw, filters, scope)
    assert (requests["requests"], requests["refused"], requests["completed"]) == (total, refused, total - refused)
    assert_close(requests["value"], ref.ratio_value(refused, total), "refused share")
    span = trend_range(filters, TREND)
    monthly = run(port_out_requests_select(span, scope, ("month",)), connection)
    expected_monthly = ref.port_requests(raw, span, scope, by_month=True)
    assert {m: (n, r) for m, n, r in monthly.select("month", "requests", "refused").iter_rows()} == expected_monthly
    if case == "country_last_month":
        assert monthly["refused"].sum() > 0, "some requests were refused for unpaid bills"


@pytest.mark.parametrize("case", list(CASES))
def test_cohort_retention_and_survival(db, case):
    connection, raw = db
    filters, scope = CASES[case]
    got = run(cohort_retention_select(filters, scope, TREND), connection)
    expected = ref.cohorts(raw, filters, scope, TREND)
    assert got.height == len(expected) > 0
    for cohort, after, customers, active, value in got.iter_rows():
        assert (customers, active) == expected[(cohort, after)], (cohort, after)
        assert_close(value, active / customers, f"{cohort}+{after}")
    assert got["months_after"].max() == TREND - 1
    survival = kaplan_meier(run(survival_select(filters, scope, "segment", TREND), connection), "segment")
    expected = ref.kaplan_meier(raw, filters, scope, TREND, "segment")
    assert survival.height == len(expected)
    for segment, after, _, _, value in survival.iter_rows():
        assert_close(value, expected[(segment, after)], f"{segment}+{after}")
    for _, curve in survival.group_by("segment"):
        values = curve.sort("months_after")["value"].to_list()
        assert all(later <= earlier for earlier, later in zip(values, values[1:], strict=False)), "never rises"
    first = survival.filter(pl.col("months_after") == 0)
    assert (first["value"] > 0.9).all(), "almost everyone is still active at the end of the activation month"


def test_scope_excludes_what_the_filter_asks_for(db):
    connection, _ = db
    filters, scope = OUTSIDE
    for dimension in ("plan", "segment", "age_band"):
        assert run(churn_rates_by_select(filters, scope, dimension), connection).is_empty()
    assert run(churn_by_tenure_select(filters, scope), connection).is_empty()
    assert run(churn_reasons_select(filters, scope), connection).is_empty()
    assert run(port_balance_select(filters, scope), connection).is_empty()
    assert run(port_flow_select(filters, scope), connection).is_empty()
    assert run(port_outs_by_competitor_trend_select(filters, scope), connection).is_empty()
    assert run(cohort_retention_select(filters, scope), connection).is_empty()
    assert run(survival_select(filters, scope), connection).is_empty()
    assert run(port_out_requests_select(filters, scope), connection)["requests"][0] == 0
    assert run(involuntary_share_select(filters, scope), connection)["churned"][0] == 0
    trend = run(churn_trend_select(filters, scope, 12), connection)
    assert trend["value"].is_null().all()


def test_unknown_breakdowns_are_refused():
    filters, scope = CASES["country_last_month"]
    with pytest.raises(ValueError):
        port_flow_select(filters, scope, "plan")
    with pytest.raises(ValueError):
        port_out_requests_select(filters, scope, ("segment",))
    with pytest.raises(ValueError):
        survival_select(filters, scope, "month")
