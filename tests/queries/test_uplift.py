"""Retention-campaign uplift: a data set with a known answer, worked out by hand.

Campaign A (discount, individual): control 1,000 customers of whom 200 churned within 90 days,
contacted 3,000 of whom 300 churned.
    p_c = 200/1000 = 0.20, p_t = 300/3000 = 0.10, uplift = 0.10
    variance = 0.20·0.80/1000 + 0.10·0.90/3000 = 0.00016 + 0.00003 = 0.00019
    se = √0.00019 = 0.0137840488, 1.96·se = 0.0270167356
    95% interval = [0.0729832644, 0.1270167356]; kept = 0.10·3000 = 300, [218.94979, 381.05021]
Campaign B (data bonus, household): control 400 / 60 churned, contacted 1,600 / 200 churned.
    p_c = 0.15, p_t = 0.125, uplift = 0.025
    variance = 0.15·0.85/400 + 0.125·0.875/1600 = 0.00031875 + 0.0000683594 = 0.0003871094
    1.96·se = 0.0385631868 → [-0.0135631868, 0.0635631868]; kept = 40, [-21.70110, 101.70110]
Both pooled (the 'total' row): control 1,400 / 260, contacted 4,600 / 500.
    p_c = 0.1857142857, p_t = 0.1086956522, uplift = 0.0770186335, interval [0.0547505354, 0.0992867317]
"""

from datetime import date

import duckdb
import polars as pl
import pytest

from data_seed.load import create_table_ddl
from queries.filters import UNRESTRICTED, Filters, Scope
from queries.metrics import measure_select
from queries.run import run
from queries.tables import campaign_targets, campaigns, customers, provinces
from queries.uplift import campaign_counts_select, campaign_window, uplift_interval, with_uplift

A = {"uplift": 0.10, "ci_low": 0.0729832644, "ci_high": 0.1270167356, "kept": 300.0, "kept_low": 218.949793}
B = {"uplift": 0.025, "ci_low": -0.0135631868, "ci_high": 0.0635631868, "kept": 40.0, "kept_high": 101.701099}
TOTAL = {"uplift": 0.0770186335, "ci_low": 0.0547505354, "ci_high": 0.0992867317}
TARGETED_ON = date(2026, 3, 2)


def test_the_formula_matches_the_hand_computation():
    a = uplift_interval(control_n=1000, control_churned=200, contacted_n=3000, contacted_churned=300)
    assert a.control_rate == pytest.approx(0.20) and a.contacted_rate == pytest.approx(0.10)
    for name, expected in A.items():
        assert getattr(a, name) == pytest.approx(expected, abs=1e-5), name
    assert a.kept_high == pytest.approx(381.05021, abs=1e-4)
    b = uplift_interval(400, 60, 1600, 200)
    for name, expected in B.items():
        assert getattr(b, name) == pytest.approx(expected, abs=1e-5), name
    assert b.ci_low < 0 < b.ci_high  # B's effect is not distinguishable from none


def test_an_empty_group_has_no_uplift():
    assert uplift_interval(0, 0, 100, 10) is None
    assert uplift_interval(100, 10, 0, 0) is None


def _people(first_id: int, count: int, churned: int, group: str, campaign: int, segment: str) -> list[dict]:
    return [
        {
            "campaign_id": campaign,
            "customer_id": first_id + index,
            "group_name": group,
            "targeted_on": TARGETED_ON,
            "accepted_offer": group == "contacted" and index % 3 == 0,
            "churned_within_90d": index < churned,
            "segment": segment,
            "province_code": "01" if index % 2 else "79",
        }
        for index in range(count)
    ]


@pytest.fixture(scope="module")
def known_url(tmp_path_factory) -> str:
    """A warehouse holding only what the campaign select reads, with the counts above."""
    from queries.reference import provinces_frame

    path = tmp_path_factory.mktemp("uplift") / "known.duckdb"
    rows = (
        _people(1, 1000, 200, "control", 1, "individual")
        + _people(10_001, 3000, 300, "contacted", 1, "individual")
        + _people(20_001, 400, 60, "control", 2, "household")
        + _people(30_001, 1600, 200, "contacted", 2, "household")
    )
    targets = pl.DataFrame(rows)
    people = targets.select(
        "customer_id",
        pl.col("customer_id").cast(pl.String).alias("customer_key"),
        "segment",
        "province_code",
        pl.lit("urban").alias("area_type"),
        pl.lit(1980, pl.Int16).alias("birth_year"),
        pl.lit("female").alias("gender"),
        pl.lit("prepaid").alias("plan"),
        pl.lit(True).alias("has_mobile"),
        pl.lit(False).alias("has_home_internet"),
        pl.lit(False).alias("has_tv"),
        pl.lit(False).alias("has_enterprise_solutions"),
        pl.lit(False).alias("is_key_account"),
        pl.lit(date(2020, 1, 1)).alias("activated_on"),
        pl.lit("active").alias("status"),
        pl.lit(None, pl.Date).alias("churned_on"),
        pl.lit(None, pl.String).alias("ported_in_from"),
        pl.lit("Nguyễn Văn A").alias("full_name"),
        (pl.lit("09") + pl.col("customer_id").cast(pl.String).str.zfill(8)).alias("phone"),
    )
    offers = pl.DataFrame(
        {
            "campaign_id": [1, 2],
            "name": ["Giảm cước A", "Tặng data B"],
            "offer": ["discount", "data_bonus"],
            "target_segment": ["individual", "household"],
            "started_on": [TARGETED_ON, TARGETED_ON],
            "ended_on": [TARGETED_ON, TARGETED_ON],
        }
    )
    with duckdb.connect(str(path)) as connection:
        for table, frame in (
            (provinces, provinces_frame()),
            (customers, people),
            (campaigns, offers),
            (campaign_targets, targets.select([column.name for column in campaign_targets.columns])),
        ):
            connection.execute(create_table_ddl(table, "duckdb"))
            connection.register("incoming", frame.to_arrow())
            connection.execute(f'INSERT INTO "{table.name}" SELECT * FROM incoming')
            connection.unregister("incoming")
    return f"duckdb:///{path}"


def _counts(url: str, grouping: str, scope: Scope = UNRESTRICTED) -> pl.DataFrame:
    from sqlalchemy import create_engine

    from queries.marts import use_marts

    # The hand-made warehouse holds only the tables the raw select reads, no marts: the raw
    # path is checked here, and tests/queries/test_marts.py holds the mart path equal to it.
    engine = create_engine(url, connect_args={"read_only": True})
    use_marts(False)
    try:
        filters = Filters(date(2026, 3, 1), date(2026, 3, 1))
        return with_uplift(run(campaign_counts_select(filters, scope, grouping), engine))
    finally:
        use_marts(True)
        engine.dispose()


def test_the_warehouse_select_gives_the_known_answer(known_url):
    by_campaign = {row["campaign_id"]: row for row in _counts(known_url, "campaign").iter_rows(named=True)}
    assert by_campaign[1]["control_n"] == 1000 and by_campaign[1]["contacted_churned"] == 300
    for campaign, expected in ((1, A), (2, B)):
        for name, value in expected.items():
            assert by_campaign[campaign][name] == pytest.approx(value, abs=1e-5), (campaign, name)
    (total,) = _counts(known_url, "total").iter_rows(named=True)
    for name, value in TOTAL.items():
        assert total[name] == pytest.approx(value, abs=1e-8), name
    offers = {row["offer"]: row["uplift"] for row in _counts(known_url, "offer").iter_rows(named=True)}
    assert offers == pytest.approx({"discount": 0.10, "data_bonus": 0.025})
    segments = {row["segment"]: row["kept"] for row in _counts(known_url, "segment").iter_rows(named=True)}
    assert segments == pytest.approx({"individual": 300.0, "household": 40.0})


def test_the_role_scope_applies(known_url):
    """A regional manager of Hà Nội (01) counts only the odd-numbered half planted there."""
    hanoi = _counts(known_url, "total", Scope(role="regional_manager", provinces=frozenset({"01"})))
    assert hanoi["control_n"][0] == (1000 + 400) / 2
    nobody = _counts(known_url, "total", Scope(role="regional_manager", provinces=frozenset()))
    assert nobody["contacted_n"][0] == 0 and nobody["uplift"][0] is None


def test_it_agrees_with_the_registry_measure(duck_url):
    """Same Wald interval as queries.metrics' campaign_uplift, on the seeded warehouse."""
    from sqlalchemy import create_engine

    engine = create_engine(duck_url, connect_args={"read_only": True})
    filters = Filters(date(2024, 1, 1), date(2026, 10, 1))
    try:
        mine = with_uplift(run(campaign_counts_select(filters, UNRESTRICTED, "total"), engine)).row(0, named=True)
        registry = run(measure_select("campaign_uplift", filters, UNRESTRICTED), engine).row(0, named=True)
    finally:
        engine.dispose()
    assert mine["contacted_n"] > 1000  # the seeded campaigns are in the window
    for name in ("uplift", "ci_low", "ci_high"):
        assert mine[name] == pytest.approx(registry["value" if name == "uplift" else name], rel=1e-9), name
    assert mine["ci_low"] > 0  # the planted effect (contacted hazard × 0.30 / 0.85) is detected


def test_the_window_reaches_back_twelve_months():
    window = campaign_window(Filters(date(2026, 10, 1), date(2026, 10, 1)))
    assert (window.start_month, window.end_month) == (date(2025, 11, 1), date(2026, 10, 1))
    year = campaign_window(Filters(date(2025, 1, 1), date(2025, 12, 1)))
    assert year.start_month == date(2025, 1, 1)
