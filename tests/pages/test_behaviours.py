"""The article's claims must be measurable in the synthetic data: one test per behaviour.

Each claim is measured independently of the generator, with SQL over a seeded DuckDB
warehouse. Complaints are rare (≈ 0.25 per 100 customers per quarter), so the 20,000
customers of the shared fixture are too few for complaint-based claims: this module seeds
its own, larger warehouse (150,000 customers, a few seconds).
"""

import math
from datetime import date

import duckdb
import pytest

from data_seed import generate_events as ev
from data_seed import seed_warehouse
from data_seed.generate_calendar import Window
from data_seed.generate_events import Events
from queries.rules import FREQUENT_DEBTOR_LATE_BILLS, FREQUENT_DEBTOR_WINDOW_MONTHS
from tests.conftest import TEST_END_MONTH, TEST_MONTHS, TEST_SEED

CUSTOMERS = 150_000
DATA_END = date(2026, 11, 1)  # first day after the data

# Customer-months with flags: active at the start of the month, churned in it (the dashboard's rule).
CUSTOMER_MONTHS = """
    SELECT c.*, r.revenue_month AS month, r.revenue_vnd,
           (c.activated_on < r.revenue_month)::INT AS start_active,
           (c.churned_on >= r.revenue_month AND c.churned_on < r.revenue_month + INTERVAL 1 MONTH)::INT AS churned,
           CASE WHEN 2026 - c.birth_year <= 24 THEN '18-24' WHEN 2026 - c.birth_year <= 34 THEN '25-34'
                WHEN 2026 - c.birth_year <= 44 THEN '35-44' WHEN 2026 - c.birth_year <= 54 THEN '45-54'
                WHEN 2026 - c.birth_year <= 64 THEN '55-64' ELSE '65+' END AS age_band
    FROM customers c JOIN revenue_monthly r USING (customer_id)
"""


@pytest.fixture(scope="module")
def sql(tmp_path_factory):
    path = tmp_path_factory.mktemp("behaviours") / "warehouse.duckdb"
    seed_warehouse(f"duckdb:///{path}", CUSTOMERS, TEST_MONTHS, TEST_SEED, TEST_END_MONTH)
    connection = duckdb.connect(str(path), read_only=True)

    def run(query: str, parameters: list | None = None) -> list[tuple]:
        return connection.execute(query, parameters or []).fetchall()

    yield run
    connection.close()


@pytest.fixture(scope="module")
def events() -> dict:
    window = Window(TEST_END_MONTH, TEST_MONTHS)
    return Events.place(window).describe(window)


def churn_by(sql, dimension: str, where: str = "TRUE") -> dict[str, float]:
    rows = sql(
        f"SELECT {dimension}, sum(churned) / sum(start_active) FROM ({CUSTOMER_MONTHS}) WHERE {where} GROUP BY 1"
    )
    return dict(rows)


def test_enterprises_and_government_churn_least_and_stay_longest(sql):
    churn = churn_by(sql, "segment")
    loyal = ("enterprise", "government")
    others = ("individual", "household", "foreign")
    assert max(churn[name] for name in loyal) < 0.5 * min(churn[name] for name in others)
    tenure = dict(
        sql(
            "SELECT segment, avg(date_diff('day', activated_on, coalesce(churned_on, ?))) FROM customers GROUP BY 1",
            [DATA_END],
        )
    )
    assert min(tenure[name] for name in loyal) > 1.3 * max(tenure[name] for name in others)


def test_individuals_churn_most_yet_bring_the_largest_revenue_share(sql):
    churn = churn_by(sql, "segment")
    assert churn["individual"] == max(churn.values())
    revenue = dict(
        sql(
            "SELECT c.segment, sum(r.revenue_vnd) / sum(sum(r.revenue_vnd)) OVER () "
            "FROM revenue_monthly r JOIN customers c USING (customer_id) GROUP BY 1"
        )
    )
    assert revenue["individual"] == max(revenue.values())
    assert revenue["individual"] > 0.4
    # … while an enterprise is worth several individuals (value sits with organisations).
    arpu = dict(sql(f"SELECT segment, avg(revenue_vnd) FROM ({CUSTOMER_MONTHS}) GROUP BY 1"))
    assert arpu["enterprise"] > 3 * arpu["individual"]


def test_churn_falls_with_age(sql):
    churn = churn_by(sql, "age_band", "segment IN ('individual', 'household', 'foreign')")
    bands = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
    rates = [churn[band] for band in bands]
    assert rates[0] > 2 * rates[-1]
    assert churn["18-24"] > churn["55-64"]
    assert all(later < earlier for earlier, later in zip(rates, rates[1:], strict=False)), rates


def test_remote_customers_exist_and_complain_about_coverage(sql):
    remote_share = sql("SELECT avg((area_type = 'remote')::INT) FROM customers")[0][0]
    assert 0.04 < remote_share < 0.2
    coverage = dict(
        sql(
            "SELECT c.area_type, avg((k.category = 'coverage')::INT) "
            "FROM complaints k JOIN customers c USING (customer_id) GROUP BY 1"
        )
    )
    assert coverage["remote"] > 1.5 * coverage["urban"]
    assert coverage["remote"] > coverage["rural"] > coverage["urban"]


def test_campaign_contacts_churn_less_than_the_control_group(sql):
    rows = dict(
        (group, (count, rate))
        for group, count, rate in sql(
            "SELECT group_name, count(*), avg(churned_within_90d::INT) FROM campaign_targets GROUP BY 1"
        )
    )
    (contacted_n, contacted), (control_n, control) = rows["contacted"], rows["control"]
    uplift = control - contacted
    error = math.sqrt(contacted * (1 - contacted) / contacted_n + control * (1 - control) / control_n)
    assert uplift - 1.96 * error > 0, (contacted, control, error)


def test_trained_staff_get_higher_csat(sql):
    scores = dict(
        sql(
            """SELECT EXISTS (SELECT 1 FROM training t WHERE t.staff_id = k.staff_id
                                AND t.completed_on <= CAST(k.opened_at AS DATE)) AS trained,
                      avg(k.csat)
               FROM complaints k WHERE k.csat IS NOT NULL GROUP BY 1"""
        )
    )
    assert scores[True] > scores[False] + 0.25


def test_frequent_debtors_churn_involuntarily_more(sql):
    """Debtor status as of a reference month, involuntary churn measured only afterwards (once
    every earlier non-payment has run its course), so the rule predicts rather than restates."""
    reference_end = date(2025, 11, 1)  # status as of the end of October 2025
    window_start = date(2024, 11, 1)  # … counting bills due in the 12 months before
    follow_from = date(2026, 3, 1)  # terminations of earlier bills are over by then
    rows = sql(
        """
        WITH late AS (
            SELECT customer_id, count(*) AS late_bills FROM bills
            WHERE due_on >= ? AND due_on < ?
              AND billed_vnd > CASE WHEN paid_on <= due_on THEN paid_vnd ELSE 0 END
            GROUP BY 1
        ),
        followed AS (
            SELECT c.customer_id, coalesce(l.late_bills, 0) >= ? AS frequent_debtor,
                   coalesce(e.churn_type = 'involuntary', false) AS involuntary
            FROM customers c
            LEFT JOIN late l USING (customer_id)
            LEFT JOIN churn_events e USING (customer_id)
            WHERE c.plan = 'postpaid' AND c.activated_on < ? AND (c.churned_on IS NULL OR c.churned_on >= ?)
        )
        SELECT frequent_debtor, count(*), avg(involuntary::INT) FROM followed GROUP BY 1
        """,
        [window_start, reference_end, FREQUENT_DEBTOR_LATE_BILLS, window_start, follow_from],
    )
    assert FREQUENT_DEBTOR_WINDOW_MONTHS == 12  # the dates above span this window
    result = {debtor: (count, rate) for debtor, count, rate in rows}
    assert result[True][0] >= 100
    assert result[True][1] > 3 * result[False][1]


def test_more_departments_take_longer_to_resolve(sql):
    medians = [
        hours
        for _, hours in sql(
            """SELECT least(departments_involved, 4), median(date_diff('minute', opened_at, resolved_at)) / 60.0
               FROM complaints WHERE resolved_at IS NOT NULL AND NOT resolved_first_contact GROUP BY 1 ORDER BY 1"""
        )
    ]
    assert len(medians) == 4
    assert all(later > 1.3 * earlier for earlier, later in zip(medians, medians[1:], strict=False)), medians


def test_outage_province_month_is_the_top_coverage_month(sql, events):
    rows = sql(
        """SELECT c.province_code, CAST(date_trunc('month', k.opened_at) AS DATE) AS month, count(*) AS n
           FROM complaints k JOIN customers c USING (customer_id) WHERE k.category = 'coverage'
           GROUP BY 1, 2 ORDER BY n DESC LIMIT 2"""
    )
    (province, month, top), (_, _, second) = rows
    assert (province, month) == (ev.OUTAGE_PROVINCE, events["outage_month"])
    assert top > 2 * second
    usual = sql(
        """SELECT median(n) FROM (SELECT CAST(date_trunc('month', k.opened_at) AS DATE) AS month, count(*) AS n
           FROM complaints k JOIN customers c USING (customer_id)
           WHERE k.category = 'coverage' AND c.province_code = ? GROUP BY 1) WHERE month <> ?""",
        [ev.OUTAGE_PROVINCE, events["outage_month"]],
    )[0][0]
    assert top > 5 * usual


def test_competitor_promotion_drives_port_outs_in_its_region(sql, events):
    rows = sql(
        """SELECT CAST(date_trunc('month', e.churned_on) AS DATE) AS month, count(*)
           FROM churn_events e JOIN customers c USING (customer_id) JOIN provinces p USING (province_code)
           WHERE e.ported_to = ? AND p.sub_region = ? GROUP BY 1""",
        [ev.PROMOTION_COMPETITOR, ev.PROMOTION_SUB_REGION],
    )
    by_month = dict(rows)
    during = [by_month.get(month, 0) for month in events["promotion_months"]]
    others = [count for month, count in by_month.items() if month not in events["promotion_months"]]
    assert len(during) >= 2
    assert min(during) > 2.5 * (sum(others) / len(others))
    # Elsewhere, port-outs to that competitor do not move in those months.
    elsewhere = dict(
        sql(
            """SELECT CAST(date_trunc('month', e.churned_on) AS DATE) IN (SELECT unnest(?)), count(*)
               FROM churn_events e JOIN customers c USING (customer_id) JOIN provinces p USING (province_code)
               WHERE e.ported_to = ? AND p.sub_region <> ? GROUP BY 1""",
            [events["promotion_months"], ev.PROMOTION_COMPETITOR, ev.PROMOTION_SUB_REGION],
        )
    )
    months = len(events["promotion_months"])
    assert elsewhere[True] / months < 1.5 * elsewhere[False] / (TEST_MONTHS - months)


def test_billing_incident_month_has_a_billing_complaint_spike(sql, events):
    rows = sql(
        """SELECT CAST(date_trunc('month', opened_at) AS DATE) AS month, count(*) AS n
           FROM complaints WHERE category = 'billing' GROUP BY 1 ORDER BY n DESC"""
    )
    (month, top), (_, second) = rows[0], rows[1]
    assert month == events["billing_incident_month"]
    assert top > 2.5 * second
