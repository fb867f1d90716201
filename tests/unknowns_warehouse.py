"""A small warehouse holding what real extracts hold and the generator never writes
(tests only): port-outs and port-ins whose competitor is 'unknown', customers whose area
type is 'unknown', NULL names, phones and genders, and a negative (credited) revenue row.

Seeded like every test warehouse (tests/conftest.py seed, 2,000 customers), then changed
with plain SQL on the raw tables, then the marts rebuilt from them
(data_seed.refresh.refresh_url, full), exactly as after an import. The independent figures
the tests compare with are plain SQL over the raw tables too (`scalar`, `rows`).
"""

from dataclasses import dataclass

from sqlalchemy import create_engine, text

from data_seed.refresh import refresh_url
from queries.filters import add_months
from tests.conftest import TEST_END_MONTH, seed

CUSTOMERS = 2_000
LAST_MONTH = TEST_END_MONTH
# Customers of Hà Nội keep a known area type: area 'unknown' + Hà Nội selects nobody.
KNOWN_AREA_PROVINCE = "01"

CHANGES = (
    # Half of the port-outs lose their destination, in the churn event and in the completed request.
    "UPDATE churn_events SET ported_to = 'unknown' WHERE ported_to IS NOT NULL AND customer_id % 2 = 0",
    "UPDATE port_out_requests SET to_competitor = 'unknown' WHERE outcome = 'completed' AND customer_id IN "
    "(SELECT customer_id FROM churn_events WHERE ported_to = 'unknown')",
    # A third of the port-ins lose their donor.
    "UPDATE customers SET ported_in_from = 'unknown' WHERE ported_in_from IS NOT NULL AND customer_id % 3 = 0",
    "UPDATE customers SET area_type = 'unknown' "
    f"WHERE customer_id % 5 = 0 AND province_code <> '{KNOWN_AREA_PROVINCE}'",
    "UPDATE customers SET full_name = NULL WHERE customer_id % 7 IN (1, 3)",
    "UPDATE customers SET phone = NULL WHERE customer_id % 7 IN (2, 3)",
    "UPDATE customers SET gender = NULL WHERE customer_id % 4 = 0",
)


@dataclass(frozen=True)
class CreditedCell:
    """The province × segment of LAST_MONTH whose net revenue the credit turned negative."""

    province_code: str
    segment: str
    customer_id: int
    revenue_vnd: int  # the credited row's (negative) net revenue
    total_vnd: int  # the cell's net revenue after the credit (negative)


def scalar(url: str, sql: str, **parameters):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), parameters).scalar()
    finally:
        engine.dispose()


def rows(url: str, sql: str, **parameters) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), parameters)]
    finally:
        engine.dispose()


def _credit(connection) -> CreditedCell:
    """Credit one customer of LAST_MONTH more than the rest of its province × segment
    earned, so that cell nets to −1,000,000 VND: the smallest cell of at least three rows,
    so the change stays an ordinary refund in size."""
    cells = connection.execute(
        text(
            "SELECT c.province_code, c.segment, SUM(r.revenue_vnd) AS total, COUNT(*) AS n "
            "FROM revenue_monthly r JOIN customers c ON c.customer_id = r.customer_id "
            "WHERE r.revenue_month = :month GROUP BY c.province_code, c.segment "
            "HAVING COUNT(*) >= 3 ORDER BY total, c.province_code, c.segment"
        ),
        {"month": LAST_MONTH},
    ).all()
    province_code, segment, _, _ = cells[0]
    customer_id, own = connection.execute(
        text(
            "SELECT r.customer_id, r.revenue_vnd FROM revenue_monthly r "
            "JOIN customers c ON c.customer_id = r.customer_id "
            "WHERE r.revenue_month = :month AND c.province_code = :province AND c.segment = :segment "
            "ORDER BY r.customer_id LIMIT 1"
        ),
        {"month": LAST_MONTH, "province": province_code, "segment": segment},
    ).one()
    total = int(cells[0][2])
    credited = -(total - int(own)) - 1_000_000
    connection.execute(
        text(
            "UPDATE revenue_monthly SET revenue_vnd = :value WHERE customer_id = :customer AND revenue_month = :month"
        ),
        {"value": credited, "customer": customer_id, "month": LAST_MONTH},
    )
    return CreditedCell(province_code, segment, int(customer_id), credited, -1_000_000)


def build(url: str) -> CreditedCell:
    """Seed `url`, write the unknowns and the credit into its raw tables, rebuild its marts."""
    seed(url, customers=CUSTOMERS)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in CHANGES:
                connection.execute(text(statement))
            credited = _credit(connection)
    finally:
        engine.dispose()
    refresh_url(url, full=True, log=lambda _: None)
    _require_the_cases(url)
    return credited


def _require_the_cases(url: str) -> None:
    """The seed must give the tests something to see in the default view (the last month)."""
    counts = dict(
        rows(
            url,
            "SELECT CASE WHEN ported_to = 'unknown' THEN 'unknown' ELSE 'known' END, COUNT(*) FROM churn_events "
            "WHERE ported_to IS NOT NULL AND churned_on >= :start AND churned_on < :stop GROUP BY 1",
            start=LAST_MONTH,
            stop=add_months(LAST_MONTH, 1),
        )
    )
    assert counts.get("unknown") and counts.get("known"), f"port-outs in the last month: {counts}"
