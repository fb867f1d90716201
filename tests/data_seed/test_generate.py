"""The generator: deterministic, inside its window, and internally consistent.

Consistency checks are independent SQL over the seeded DuckDB warehouse (duck_url), so
they test what the dashboard will read, not the generator's own bookkeeping.
"""

from datetime import date

import duckdb
import polars as pl
import pytest

from data_seed.__main__ import main
from data_seed.generate import generate_tables
from data_seed.generate_calendar import Window
from queries.engine import duckdb_path
from queries.tables import metadata
from tests.conftest import TEST_CUSTOMERS, TEST_END_MONTH, TEST_MONTHS

WINDOW_START = date(2023, 11, 1)  # 36 months ending with TEST_END_MONTH (2026-10)
CUTOFF = date(2026, 11, 1)  # first day after the data


def collect(**arguments) -> dict[str, pl.DataFrame]:
    chunks: dict[str, list[pl.DataFrame]] = {}
    for name, frame in generate_tables(**arguments):
        chunks.setdefault(name, []).append(frame)
    return {name: pl.concat(frames) for name, frames in chunks.items()}


@pytest.fixture(scope="module")
def sql(duck_url):
    connection = duckdb.connect(str(duckdb_path(duck_url)), read_only=True)

    def run(query: str, parameters: list | None = None) -> list[tuple]:
        return connection.execute(query, parameters or []).fetchall()

    yield run
    connection.close()


def one(sql, query: str, parameters: list | None = None):
    return sql(query, parameters)[0][0]


# --- determinism ------------------------------------------------------------------------------


def test_same_arguments_give_identical_tables_and_another_seed_differs():
    arguments = {"customers": 3_000, "months": 14, "seed": 11, "end_month": date(2026, 10, 1)}
    first, second = collect(**arguments), collect(**arguments)
    assert set(first) == set(metadata.tables) - {"warehouse_meta", "load_log"}
    for name in first:
        assert first[name].equals(second[name]), name
    other = collect(**{**arguments, "seed": 12})
    assert not first["customers"].equals(other["customers"])
    assert not first["revenue_monthly"].equals(other["revenue_monthly"])


def test_chunks_keep_ids_unique_and_dense(monkeypatch):
    from data_seed import generate_params

    monkeypatch.setattr(generate_params, "CHUNK_CUSTOMERS", 1_000)
    frames = collect(customers=2_500, months=6, seed=5, end_month=date(2026, 10, 1))
    assert frames["customers"]["customer_id"].to_list() == list(range(1, 2_501))
    for table, key in (("bills", "bill_id"), ("complaints", "complaint_id"), ("surveys", "survey_id")):
        ids = frames[table][key].sort().to_list()
        assert ids == list(range(1, len(ids) + 1)), table
    assert frames["revenue_monthly"]["customer_id"].n_unique() == 2_500


def test_default_end_month_is_the_last_complete_month():
    from datetime import datetime

    from data_seed.generate_calendar import VIETNAM, last_complete_month

    assert last_complete_month(datetime(2026, 11, 24, 10, tzinfo=VIETNAM)) == date(2026, 10, 1)
    # 1 Jan 2027 00:30 in Vietnam is still 31 Dec in UTC: Vietnam's calendar decides.
    assert last_complete_month(datetime(2027, 1, 1, 0, 30, tzinfo=VIETNAM)) == date(2026, 12, 1)


def test_the_seeded_warehouse_matches_a_fresh_generation(sql):
    """The fixture warehouse holds exactly what the generator yields for the same arguments."""
    checksum = one(sql, "SELECT sum(hash(customer_id, revenue_month, revenue_vnd)) FROM revenue_monthly")
    frames = collect(customers=TEST_CUSTOMERS, months=TEST_MONTHS, seed=20261124, end_month=TEST_END_MONTH)
    connection = duckdb.connect()
    connection.register("frame", frames["revenue_monthly"].to_arrow())
    fresh = connection.execute("SELECT sum(hash(customer_id, revenue_month, revenue_vnd)) FROM frame").fetchall()[0][0]
    assert fresh == checksum
    assert one(sql, "SELECT count(*) FROM customers") == frames["customers"].height == TEST_CUSTOMERS


# --- sizes and shares ---------------------------------------------------------------------------


def test_row_counts_are_sane(sql):
    counts = {table: one(sql, f'SELECT count(*) FROM "{table}"') for table in metadata.tables}
    assert counts["customers"] == TEST_CUSTOMERS
    assert counts["provinces"] == 34 and counts["legacy_provinces"] == 63
    assert 15 * TEST_CUSTOMERS < counts["revenue_monthly"] < 30 * TEST_CUSTOMERS
    assert 0.08 * counts["revenue_monthly"] < counts["bills"] < 0.25 * counts["revenue_monthly"]
    assert counts["care_contacts_monthly"] == 36 * 34 * 6
    assert counts["kpi_targets"] == 9 * 36 * 35
    assert counts["campaigns"] == 6
    for table in ("complaints", "churn_events", "port_out_requests", "campaign_targets", "surveys", "training"):
        assert counts[table] > 0, table
    assert counts["warehouse_meta"] == 5


def test_shares_follow_the_domain(sql):
    prepaid = one(sql, "SELECT avg((plan = 'prepaid')::int) FROM customers")
    assert 0.85 < prepaid < 0.93
    segments = dict(sql("SELECT segment, count(*) / sum(count(*)) OVER () FROM customers GROUP BY 1"))
    assert 0.75 < segments["individual"] < 0.85
    assert 0.03 < segments["enterprise"] < 0.08
    # Complaints per 100 customers per quarter around the QCVN threshold (0.25).
    rate = one(sql, "SELECT 300.0 * (SELECT count(*) FROM complaints) / (SELECT count(*) FROM revenue_monthly)")
    assert 0.15 < rate < 0.40
    monthly_churn = one(
        sql,
        """SELECT sum((c.churned_on >= r.revenue_month AND c.churned_on < r.revenue_month + INTERVAL 1 MONTH)::int)
                  / sum((c.activated_on < r.revenue_month)::int)
           FROM customers c JOIN revenue_monthly r USING (customer_id)""",
    )
    assert 0.015 < monthly_churn < 0.04
    phones = sql("SELECT count(*), count(DISTINCT phone), min(length(phone)), max(length(phone)) FROM customers")[0]
    assert phones[0] == phones[1] and phones[2] == phones[3] == 10
    assert one(sql, "SELECT count(*) FROM customers WHERE NOT regexp_matches(phone, '^0[0-9]{9}$')") == 0


# --- consistency ------------------------------------------------------------------------------------


def test_one_revenue_row_for_every_active_month_and_no_other(sql):
    mismatches = one(
        sql,
        """
        WITH months AS (
            SELECT CAST(m AS DATE) AS month FROM range(DATE '2023-11-01', DATE '2026-11-01', INTERVAL 1 MONTH) t(m)
        ),
        expected AS (
            SELECT c.customer_id, m.month FROM customers c JOIN months m
              ON c.activated_on < m.month + INTERVAL 1 MONTH AND (c.churned_on IS NULL OR c.churned_on >= m.month)
        )
        SELECT count(*) FROM expected e FULL OUTER JOIN revenue_monthly r
          ON r.customer_id = e.customer_id AND r.revenue_month = e.month
        WHERE r.customer_id IS NULL OR e.customer_id IS NULL
        """,
    )
    assert mismatches == 0


def test_postpaid_customers_have_one_bill_per_active_month(sql):
    mismatches = one(
        sql,
        """
        SELECT count(*) FROM (SELECT r.customer_id, r.revenue_month FROM revenue_monthly r
                              JOIN customers c USING (customer_id) WHERE c.plan = 'postpaid') e
        FULL OUTER JOIN bills b ON b.customer_id = e.customer_id AND b.bill_month = e.revenue_month
        WHERE b.bill_id IS NULL OR e.customer_id IS NULL
        """,
    )
    assert mismatches == 0
    billed_differently = one(
        sql,
        """SELECT count(*) FROM bills b JOIN revenue_monthly r
             ON r.customer_id = b.customer_id AND r.revenue_month = b.bill_month
           WHERE r.revenue_vnd <> b.billed_vnd""",
    )
    assert billed_differently == 0


def test_status_churn_date_and_churn_events_agree(sql):
    assert one(sql, "SELECT count(*) FROM customers WHERE (status = 'churned') <> (churned_on IS NOT NULL)") == 0
    unmatched = one(
        sql,
        """SELECT count(*) FROM customers c FULL OUTER JOIN churn_events e USING (customer_id)
           WHERE (c.churned_on IS NULL) <> (e.customer_id IS NULL) OR c.churned_on <> e.churned_on""",
    )
    assert unmatched == 0
    assert (
        one(sql, "SELECT count(*) FROM churn_events WHERE churn_type = 'involuntary' AND reason <> 'non_payment'") == 0
    )
    assert one(sql, "SELECT count(*) FROM churn_events WHERE churn_type = 'involuntary' AND ported_to IS NOT NULL") == 0


def test_port_outs_and_terminations_match_churn(sql):
    # Completed port-out requests are exactly the churn events with a destination, same competitor.
    unmatched = one(
        sql,
        """SELECT count(*) FROM (SELECT * FROM port_out_requests WHERE outcome = 'completed') p
           FULL OUTER JOIN (SELECT * FROM churn_events WHERE ported_to IS NOT NULL) e USING (customer_id)
           WHERE p.customer_id IS NULL OR e.customer_id IS NULL OR p.to_competitor <> e.ported_to
              OR p.requested_on > e.churned_on""",
    )
    assert unmatched == 0
    # Refused requests come from customers with a bill unpaid and past due at the time.
    refused_without_debt = one(
        sql,
        """SELECT count(*) FROM port_out_requests p WHERE outcome = 'refused_debt' AND NOT EXISTS (
               SELECT 1 FROM bills b WHERE b.customer_id = p.customer_id AND b.due_on < p.requested_on
                 AND (b.paid_on IS NULL OR b.paid_on > p.requested_on OR b.paid_vnd < b.billed_vnd))""",
    )
    assert refused_without_debt == 0
    # A termination for non-payment is the customer's involuntary churn, on the same day.
    terminations = sql(
        """SELECT count(*), count(e.customer_id) FROM bills b
           LEFT JOIN churn_events e ON e.customer_id = b.customer_id AND e.churned_on = b.terminated_on
                                   AND e.churn_type = 'involuntary'
           WHERE b.terminated_on IS NOT NULL"""
    )[0]
    assert terminations[0] > 0 and terminations[0] == terminations[1]
    assert one(sql, "SELECT count(*) FROM bills WHERE terminated_on IS NOT NULL AND paid_vnd > 0") == 0


def test_campaign_outcomes_follow_the_churn_dates(sql):
    wrong = one(
        sql,
        """SELECT count(*) FROM campaign_targets t JOIN customers c USING (customer_id)
           WHERE t.churned_within_90d <> coalesce(c.churned_on > t.targeted_on
                                                  AND c.churned_on <= t.targeted_on + INTERVAL 90 DAY, false)""",
    )
    assert wrong == 0
    # Targets were customers when targeted; the control group is about a fifth.
    not_customers_then = one(
        sql,
        """SELECT count(*) FROM campaign_targets t JOIN customers c USING (customer_id)
           WHERE c.activated_on > t.targeted_on OR c.churned_on <= t.targeted_on""",
    )
    assert not_customers_then == 0
    control = one(sql, "SELECT avg((group_name = 'control')::int) FROM campaign_targets")
    assert 0.15 < control < 0.25


def test_nothing_falls_outside_the_window(sql):
    monthly = {
        "revenue_monthly": "revenue_month",
        "bills": "bill_month",
        "care_contacts_monthly": "contact_month",
        "kpi_targets": "target_month",
    }
    for table, column in monthly.items():
        low, high = sql(f'SELECT min("{column}"), max("{column}") FROM "{table}"')[0]
        assert (low, high) == (WINDOW_START, TEST_END_MONTH), table
    dated = {
        "customers": ("churned_on",),
        "churn_events": ("churned_on", "won_back_on"),
        "bills": ("paid_on", "one_way_block_on", "two_way_block_on", "terminated_on"),
        "port_out_requests": ("requested_on",),
        "surveys": ("surveyed_on",),
        "campaign_targets": ("targeted_on",),
        "training": ("enrolled_on", "completed_on"),
        "complaints": ("opened_at", "acknowledged_at", "resolved_at", "closed_at"),
    }
    for table, columns in dated.items():
        for column in columns:
            low, high = sql(f'SELECT min("{column}")::DATE, max("{column}")::DATE FROM "{table}"')[0]
            assert low >= WINDOW_START and high < CUTOFF, (table, column, low, high)
    assert one(sql, "SELECT max(activated_on) FROM customers") < CUTOFF
    assert one(sql, "SELECT value FROM warehouse_meta WHERE key = 'data_through'") == TEST_END_MONTH.isoformat()


def test_window_arithmetic():
    window = Window(date(2026, 10, 1), 36)
    assert window.start_month == WINDOW_START
    assert window.month(35) == TEST_END_MONTH
    with pytest.raises(ValueError):
        Window(date(2026, 10, 2), 3)


# --- command line ---------------------------------------------------------------------------------


def test_cli_generates_and_summarises(tmp_path, capsys):
    url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    assert main(["generate", "--customers", "400", "--months", "3", "--end-month", "2026-10", "--url", url]) == 0
    output = capsys.readouterr().out
    assert "customers" in output and "400" in output and "Loaded" in output
    with duckdb.connect(str(tmp_path / "cli.duckdb"), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM customers").fetchall()[0][0] == 400


@pytest.mark.parametrize(
    "arguments",
    [
        ["generate"],
        ["generate", "--customers", "0"],
        ["generate", "--customers", "ten"],
        ["generate", "--customers", "5", "--end-month", "2026-13"],
        ["explode"],
    ],
)
def test_cli_rejects_bad_arguments(arguments, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err
