"""The Complaints page's own selects (queries/complaints.py) equal independent Polars
computations from the raw tables, on DuckDB and PostgreSQL, for several filter cases;
the SLA rule follows the named settings of queries/rules.py; the buckets are exact."""

import math
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import create_engine

from queries import rules
from queries.complaints import (
    ACK_BUCKETS_H,
    RESOLVE_BUCKETS_H,
    breach_count_select,
    breaches_select,
    care_channels_select,
    category_mix_select,
    complaint_rate_by_select,
    complaint_volume_select,
    department_cost_select,
    handling_select,
    time_distribution_select,
)
from queries.filters import Filters, Scope, allowed_provinces
from queries.metrics import measure_select
from queries.run import run
from tests.conftest import connect
from tests.measure_reference import as_ts, complaints_in, hours, load_raw, make_context, next_month, revenue_rows

ALL = Scope()
CASES = {
    # a year of the whole country: every category, channel and department count has data
    "year_country": (Filters(date(2025, 11, 1), date(2026, 10, 1)), ALL),
    # one month (the billing incident), two regions: few complaints, some groups empty
    "march_north_south": (Filters(date(2026, 3, 1), date(2026, 3, 1), regions=("Bắc", "Nam")), ALL),
    # a regional manager's scope ∩ a segment filter over six months
    "half_year_scoped_individual": (
        Filters(date(2026, 5, 1), date(2026, 10, 1), segments=("individual", "household")),
        Scope(role="regional_manager", provinces=frozenset({"01", "79", "38", "48"})),
    ),
}
TOLERANCE = 1e-9


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def assert_frames_equal(actual: pl.DataFrame, expected: pl.DataFrame, keys: list[str], columns: list[str]) -> None:
    """Same groups, and the same number in every column (NULL only where NULL is expected)."""
    actual = actual.sort(keys, nulls_last=True) if keys else actual
    expected = expected.sort(keys, nulls_last=True) if keys else expected
    assert actual.select(keys).rows() == expected.select(keys).rows(), (actual.select(keys), expected.select(keys))
    for name in columns:
        got, want = actual[name].to_list(), expected[name].to_list()
        for index, (a, b) in enumerate(zip(got, want, strict=True)):
            assert close(a, b), f"{name} at {actual.select(keys).row(index) if keys else ()}: got {a}, expected {b}"


# --- the independent side -------------------------------------------------------------------


def sla_target(frame: pl.DataFrame) -> pl.Expr:
    """The named settings, written independently of queries/measures_complaints.py."""
    return (
        pl.when(pl.col("is_key_account"))
        .then(rules.SLA_TARGET_HOURS_KEY_ACCOUNT)
        .when(pl.col("category") == "billing")
        .then(rules.SLA_TARGET_HOURS_BILLING)
        .otherwise(rules.SLA_TARGET_HOURS_OTHER)
    )


def with_flags(ctx, frame: pl.DataFrame) -> pl.DataFrame:
    keys = ctx.raw["customers"].select("customer_id", "is_key_account")
    return frame.join(keys, on="customer_id").with_columns(
        sla_class=pl.when(pl.col("is_key_account"))
        .then(pl.lit("key_account"))
        .when(pl.col("category") == "billing")
        .then(pl.lit("billing"))
        .otherwise(pl.lit("other"))
    )


def expected_handling(ctx, by: list[str]) -> pl.DataFrame:
    rows = with_flags(ctx, complaints_in(ctx, "resolved_at")).with_columns(hours("resolved_at", "opened_at").alias("h"))
    rows = rows.with_columns((pl.col("h") <= sla_target(rows)).alias("ok"))
    aggregations = [
        pl.len().cast(pl.Float64).alias("resolved"),
        pl.col("h").quantile(0.5, interpolation="linear").alias("median_h"),
        pl.col("h").quantile(0.9, interpolation="linear").alias("p90_h"),
        pl.col("ok").sum().cast(pl.Float64).alias("within_sla"),
        pl.col("ok").mean().alias("sla_share"),
        pl.col("resolved_first_contact").mean().alias("first_contact_share"),
        pl.col("reopened").mean().alias("reopened_share"),
        pl.col("escalated").sum().cast(pl.Float64).alias("escalated"),
        pl.col("escalated").mean().alias("escalated_share"),
        pl.col("csat").cast(pl.Float64).mean().alias("csat"),
        pl.col("csat").count().cast(pl.Float64).alias("csat_n"),
    ]
    if by:
        return rows.group_by(by).agg(aggregations)
    if rows.is_empty():
        return pl.DataFrame({"resolved": [0.0], "within_sla": [0.0], "escalated": [0.0], "csat_n": [0.0]}).with_columns(
            *(
                pl.lit(None, pl.Float64).alias(name)
                for name in ("median_h", "p90_h", "sla_share", "first_contact_share", "reopened_share")
            ),
            pl.lit(None, pl.Float64).alias("escalated_share"),
            pl.lit(None, pl.Float64).alias("csat"),
        )
    return rows.select(aggregations)


HANDLING_COLUMNS = [
    "resolved",
    "median_h",
    "p90_h",
    "within_sla",
    "sla_share",
    "first_contact_share",
    "reopened_share",
    "escalated",
    "escalated_share",
    "csat",
    "csat_n",
]


def bucket_counts(values: list[float], edges) -> list[float]:
    counts = []
    for order, (low, high) in enumerate(edges):
        inside = [v for v in values if (v > low or (order == 0 and v >= low)) and (high is None or v <= high)]
        counts.append(float(len(inside)))
    return counts


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_volume_rate_and_mix_equal_polars(warehouse_url, connections, case):
    filters, scope = CASES[case]
    connection = connect(connections, warehouse_url)
    ctx = make_context(load_raw(warehouse_url), filters, scope)
    opened = complaints_in(ctx, "opened_at")
    for by in (["category"], ["channel"], ["month", "category"], ["province_code"], ["segment"], ["area_type"]):
        actual = run(complaint_volume_select(filters, scope, by), connection)
        expected = opened.group_by(by).agg(pl.len().cast(pl.Float64).alias("value"))
        assert_frames_equal(actual, expected, by, ["value"])
    customer_months = revenue_rows(ctx).height
    for dimension in ("category", "channel"):
        actual = run(complaint_rate_by_select(filters, scope, dimension), connection)
        expected = opened.group_by(dimension).agg(
            (pl.len() * rules.COMPLAINT_RATE_MONTHS / customer_months).alias("value"),
            pl.len().cast(pl.Float64).alias("numerator"),
        )
        assert_frames_equal(actual, expected, [dimension], ["value", "numerator"])
        # the members add up to the registry's complaint rate
        total = run(measure_select("complaint_rate", filters, scope), connection)["value"][0]
        assert close(actual["value"].sum() if actual.height else None, total) or (actual.is_empty() and not total)
    mix = run(category_mix_select(filters, scope, "area_type"), connection)
    counts = opened.group_by("area_type", "category").agg(pl.len().cast(pl.Float64).alias("value"))
    counts = counts.with_columns((pl.col("value") / pl.col("value").sum().over("area_type")).alias("share"))
    assert_frames_equal(mix, counts, ["area_type", "category"], ["value", "share"])


@pytest.mark.parametrize("case", list(CASES))
def test_time_distributions_equal_polars_and_the_registry_population(warehouse_url, connections, case):
    filters, scope = CASES[case]
    connection = connect(connections, warehouse_url)
    ctx = make_context(load_raw(warehouse_url), filters, scope)
    ack = complaints_in(ctx, "opened_at").select(hours("acknowledged_at", "opened_at").alias("h")).drop_nulls()
    resolve = complaints_in(ctx, "resolved_at").select(hours("resolved_at", "opened_at").alias("h"))
    for which, frame, edges, median_name in (
        ("acknowledge", ack, ACK_BUCKETS_H, "ack_time_median_h"),
        ("resolve", resolve, RESOLVE_BUCKETS_H, "resolve_time_median_h"),
    ):
        actual = run(time_distribution_select(filters, scope, which), connection)
        assert actual["bucket_order"].to_list() == list(range(len(edges)))
        assert actual["low_h"].to_list() == [float(low) for low, _ in edges]
        assert actual["value"].to_list() == bucket_counts(frame["h"].to_list(), edges)
        registry = run(measure_select(median_name, filters, scope), connection)
        assert actual["value"].sum() == registry["n"][0]  # the same complaints as the median's


@pytest.mark.parametrize("case", list(CASES))
def test_handling_figures_equal_polars(warehouse_url, connections, case):
    """Medians, p90s, SLA, first-contact, reopened, escalated and CSAT, overall and by each
    complaint dimension; overall they equal the registry's measures."""
    filters, scope = CASES[case]
    connection = connect(connections, warehouse_url)
    ctx = make_context(load_raw(warehouse_url), filters, scope)
    for by in ([], ["departments_involved"], ["channel"], ["category"], ["sla_class"], ["area_type"]):
        actual = run(handling_select(filters, scope, by), connection)
        expected = expected_handling(ctx, by)
        if by:
            expected = expected.with_columns(pl.col(by[0]).cast(actual.schema[by[0]]))
        assert_frames_equal(actual, expected, by, HANDLING_COLUMNS)
    overall = run(handling_select(filters, scope), connection).row(0, named=True)
    for name, column in (
        ("resolve_time_median_h", "median_h"),
        ("resolve_time_p90_h", "p90_h"),
        ("sla_share", "sla_share"),
        ("first_contact_resolution", "first_contact_share"),
        ("reopened_rate", "reopened_share"),
        ("csat", "csat"),
    ):
        assert close(run(measure_select(name, filters, scope), connection)["value"][0], overall[column]), name


def test_department_cost_is_the_difference_from_one_department(warehouse_url, connections):
    filters, scope = CASES["year_country"]
    connection = connect(connections, warehouse_url)
    actual = run(department_cost_select(filters, scope), connection)
    expected = expected_handling(make_context(load_raw(warehouse_url), filters, scope), ["departments_involved"])
    expected = expected.sort("departments_involved")
    assert actual["departments_involved"].to_list()[0] == 1
    for column, base in (("extra_median_h", "median_h"), ("extra_p90_h", "p90_h")):
        wanted = (expected[base] - expected[base][0]).to_list()
        assert all(close(a, b) for a, b in zip(actual[column].to_list(), wanted, strict=True)), column
    # the planted behaviour, where groups are large enough to show it (4–5 departments are rare)
    medians = actual.filter(pl.col("resolved") >= 20)["median_h"].to_list()
    assert len(medians) >= 3 and medians == sorted(medians), actual


@pytest.mark.parametrize("case", list(CASES))
def test_breaches_are_open_past_their_target_newest_first(warehouse_url, connections, case):
    filters, scope = CASES[case]
    connection = connect(connections, warehouse_url)
    ctx = make_context(load_raw(warehouse_url), filters, scope)
    stop = as_ts(next_month(filters.end_month))
    rows = ctx.raw["complaints"].filter(
        (pl.col("opened_at") < stop) & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= stop))
    )
    rows = with_flags(ctx, rows.join(ctx.cust.select("customer_id"), on="customer_id"))
    rows = rows.with_columns(
        ((pl.lit(stop) - pl.col("opened_at")).dt.total_microseconds() / 3_600_000_000).alias("hours_open")
    )
    rows = rows.filter(pl.col("hours_open") > sla_target(rows)).sort(
        ["opened_at", "complaint_id"], descending=[True, True]
    )
    actual = run(breaches_select(filters, scope, "en"), connection)
    assert actual["complaint_id"].to_list() == rows["complaint_id"].to_list()
    assert all(close(a, b) for a, b in zip(actual["hours_open"], rows["hours_open"], strict=True))
    assert (actual["hours_overdue"] > 0).all()
    assert run(breach_count_select(filters, scope), connection)["value"][0] == rows.height


def test_breaches_exist_somewhere(warehouse_url, connections):
    """The list test above means something only if the seeded data has breaches in progress."""
    filters = Filters(date(2026, 10, 1), date(2026, 10, 1))
    assert run(breach_count_select(filters, ALL), connect(connections, warehouse_url))["value"][0] > 0


@pytest.mark.parametrize("case", list(CASES))
def test_care_channels_equal_polars(warehouse_url, connections, case):
    filters, scope = CASES[case]
    connection = connect(connections, warehouse_url)
    raw = load_raw(warehouse_url)
    care = raw["care_contacts_monthly"].filter(
        (pl.col("contact_month") >= filters.start_month) & (pl.col("contact_month") < next_month(filters.end_month))
    )
    care = care.join(raw["provinces"].select("province_code", "macro_region"), on="province_code")
    allowed = allowed_provinces(filters, scope)
    if allowed is not None:
        care = care.filter(pl.col("province_code").is_in(sorted(allowed)))
    if filters.regions:
        care = care.filter(pl.col("macro_region").is_in(list(filters.regions)))
    for by in (["channel"], ["month", "channel"]):
        frame = care.rename({"contact_month": "month"}) if "month" in by else care
        expected = frame.group_by(by).agg(
            pl.col("contacts_offered").sum().cast(pl.Float64).alias("offered"),
            pl.col("contacts_handled").sum().cast(pl.Float64).alias("handled"),
            (pl.col("answered_within_60s").sum() / pl.col("contacts_offered").sum())
            .alias("answer_rate")
            .fill_nan(None),
            (pl.col("handle_time_s_total").sum() / pl.col("contacts_handled").sum()).alias("avg_handle_s"),
            pl.col("answered_within_60s").is_not_null().any().alias("has_answers"),
        )
        expected = expected.with_columns(
            pl.when(pl.col("has_answers")).then(pl.col("answer_rate")).alias("answer_rate")
        )
        actual = run(care_channels_select(filters, scope, by_month="month" in by), connection)
        assert_frames_equal(actual, expected, by, ["offered", "handled", "answer_rate", "avg_handle_s"])
    call_centre = run(care_channels_select(filters, scope), connection).filter(pl.col("channel") == "call_centre")
    registry = run(measure_select("call_answer_rate", filters, scope), connection)["value"][0]
    assert close(call_centre["answer_rate"][0] if call_centre.height else None, registry)


# --- the SLA rule is the named settings --------------------------------------------------------


def test_stored_targets_agree_with_the_named_settings(warehouse_url):
    """The generator writes complaints.sla_hours from the same targets: the settings and the
    seeded data tell one story (so the registry's reference, which reads sla_hours, agrees)."""
    raw = load_raw(warehouse_url)
    ctx = make_context(raw, Filters(date(2023, 11, 1), date(2026, 10, 1)), ALL)
    rows = with_flags(ctx, raw["complaints"])
    assert rows.filter(pl.col("sla_hours") != sla_target(rows)).is_empty()


def test_sla_share_follows_the_named_settings(warehouse_url, connections, monkeypatch):
    """Tighten one target: the registry's sla_share and the page's SLA by category both drop,
    and still equal the independent computation with the new setting."""
    filters, scope = CASES["year_country"]
    connection = connect(connections, warehouse_url)
    ctx = make_context(load_raw(warehouse_url), filters, scope)
    before = run(measure_select("sla_share", filters, scope), connection)["value"][0]
    by_class_before = run(handling_select(filters, scope, ["sla_class"]), connection)
    monkeypatch.setattr(rules, "SLA_TARGET_HOURS_OTHER", 24)
    monkeypatch.setattr(rules, "SLA_TARGET_HOURS_BILLING", 48)
    after = run(measure_select("sla_share", filters, scope), connection)["value"][0]
    by_class = run(handling_select(filters, scope, ["sla_class"]), connection)
    assert after < before - 0.2
    expected = expected_handling(ctx, ["sla_class"])
    assert_frames_equal(by_class, expected, ["sla_class"], ["within_sla", "sla_share"])
    overall = expected_handling(ctx, [])
    assert close(after, overall["sla_share"][0])
    key_accounts = by_class.filter(pl.col("sla_class") == "key_account")["sla_share"]
    assert key_accounts.to_list() == by_class_before.filter(pl.col("sla_class") == "key_account")["sla_share"].to_list()


# --- exact boundaries on a hand-made warehouse -------------------------------------------------


def test_sla_and_breach_boundaries_are_exact(tiny_complaints_url):
    """Billing target 360 h: resolved at exactly 360 h is within, one second later is not; a
    key customer's target is 240 h whatever the category; open at the period end for exactly
    the target is not yet a breach, one second more is."""
    engine = create_engine(tiny_complaints_url)
    filters = Filters(date(2026, 10, 1), date(2026, 10, 1))
    with engine.connect() as connection:
        by_class = run(handling_select(filters, ALL, ["sla_class"]), connection)
        shares = dict(zip(by_class["sla_class"], by_class["sla_share"], strict=True))
        assert shares == {"billing": 0.5, "key_account": 0.5}
        assert run(measure_select("sla_share", filters, ALL), connection)["value"][0] == 0.5
        breaches = run(breaches_select(filters, ALL), connection)
        assert breaches["complaint_id"].to_list() == [12]
        ack = run(time_distribution_select(filters, ALL, "acknowledge"), connection)
        # 48 h exactly is in the (24, 48] bucket; 48 h + 1 s in (48, 72]; 0 h in the first
        assert ack.filter(pl.col("value") > 0)["low_h"].to_list() == [0.0, 24.0, 48.0]
    engine.dispose()


@pytest.fixture(params=["duckdb", "postgresql"])
def tiny_complaints_url(request):
    from tests.queries.test_queries_debt import write_tiny_warehouse

    url = request.getfixturevalue("empty_duck_url" if request.param == "duckdb" else "empty_pg_url")
    opened = datetime(2026, 10, 5)
    hour, second = timedelta(hours=1), timedelta(seconds=1)
    end = datetime(2026, 11, 1)

    def complaint(complaint_id, customer_id, category, opened_at, acknowledged, resolved):
        return dict(
            complaint_id=complaint_id,
            customer_id=customer_id,
            staff_id=1,
            channel="hotline",
            category=category,
            opened_at=opened_at,
            acknowledged_at=acknowledged,
            resolved_at=resolved,
            closed_at=resolved,
            sla_hours=0,  # deliberately wrong: the rules decide, not the stored column
            departments_involved=1,
            escalated=False,
            reopened=False,
            resolved_first_contact=False,
            csat=None,
        )

    rows = [
        complaint(1, 1, "billing", opened, opened + 48 * hour, opened + 360 * hour),
        complaint(2, 1, "billing", opened, opened + 48 * hour + second, opened + 360 * hour + second),
        complaint(3, 2, "coverage", opened, opened, opened + 240 * hour),  # key customer: 240 h
        complaint(4, 2, "coverage", opened, opened, opened + 240 * hour + second),
        complaint(11, 1, "coverage", end - 720 * hour, None, None),  # open exactly 720 h: not yet
        complaint(12, 1, "coverage", end - 720 * hour - second, None, None),  # one second past
    ]
    write_tiny_warehouse(url, customers=[(1, "individual", False), (2, "enterprise", True)], complaints=rows)
    return url


# --- compile: both dialects, user values only as bound parameters -------------------------------

INJECTION = "01'); DROP TABLE customers; --"


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_every_select_compiles_with_values_bound(dialect):
    from sqlalchemy.dialects import postgresql

    from queries import complaints as q

    engine_dialect = (
        create_engine("duckdb:///:memory:").dialect if dialect == "duckdb" else postgresql.psycopg2.dialect()
    )
    filters = Filters(date(2026, 1, 1), date(2026, 6, 1), provinces=("79", INJECTION), segments=("individual",))
    scope = Scope(role="regional_manager", provinces=frozenset({"79", "01"}))
    labels = {"category": {"billing": "Cước phí " + INJECTION}}
    selects = [
        q.complaint_volume_select(filters, scope, ("month", "category", "province_code")),
        q.complaint_rate_by_select(filters, scope, "channel"),
        q.category_mix_select(filters, scope, "area_type"),
        q.time_distribution_select(filters, scope, "acknowledge"),
        q.time_distribution_select(filters, scope, "resolve"),
        q.handling_select(filters, scope, ("sla_class", "macro_region")),
        q.department_cost_select(filters, scope),
        q.breaches_select(filters, scope, "vi", labels),
        q.breach_count_select(filters, scope),
        q.care_channels_select(filters, scope, by_month=True),
    ]
    for select in selects:
        compiled = select.compile(dialect=engine_dialect)
        assert INJECTION not in str(compiled) and "Cước" not in str(compiled)
    with pytest.raises(ValueError):
        q.complaint_volume_select(filters, scope, ("customer_id",))
    with pytest.raises(ValueError):
        q.time_distribution_select(filters, scope, "close")
