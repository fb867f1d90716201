"""Data contracts: every check holds on the seeded warehouses, and each kind catches a broken frame.

The broken-frame tests evaluate each check twice, in Polars (what the importer uses) and as
its SQL select run by DuckDB over the same frame, and expect the same offending rows from both.
"""

from datetime import date, datetime

import polars as pl
import pytest
from sqlalchemy import Text, create_engine
from sqlalchemy.dialects import postgresql

from queries import contracts
from queries import tables as t
from queries.contracts import (
    ACCEPTED_VALUES,
    CHECKS,
    FREE_TEXT,
    SIGNED_MONEY,
    AcceptedValues,
    Check,
    FirstOfMonth,
    HasPartner,
    Implies,
    Matches,
    NotNull,
    Order,
    OrderAcross,
    PartnerIs,
    PlausibleBirthYear,
    Range,
    Relationship,
    Unique,
    checks_for_data_year,
)

_engines = {}


def engine_for(url: str):
    if url not in _engines:
        _engines[url] = create_engine(url)
    return _engines[url]


@pytest.fixture(scope="module", autouse=True)
def dispose_engines():
    yield
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.name)
def test_seeded_warehouse_has_no_violations(check: Check, warehouse_url: str):
    with engine_for(warehouse_url).connect() as connection:
        assert connection.execute(check.violations()).scalar_one() == 0


def test_check_names_are_unique_and_every_kind_is_used():
    names = [check.name for check in CHECKS]
    assert len(names) == len(set(names))
    kinds = {check.kind for check in CHECKS}
    assert kinds == {
        "Unique",
        "NotNull",
        "AcceptedValues",
        "Relationship",
        "Range",
        "Order",
        "FirstOfMonth",
        "Implies",
        "Matches",
        "HasPartner",
        "PartnerIs",
        "OrderAcross",
        "PlausibleBirthYear",
    }


def test_derived_checks_cover_schema_facts():
    """Keys, not-null columns, foreign keys, money and months are covered without a hand-written line."""
    names = {check.name for check in CHECKS}
    for table in t.metadata.sorted_tables:
        key = ", ".join(column.name for column in table.primary_key.columns)
        assert any(name.startswith(f"{table.name}.{key}: must be unique") for name in names), table.name
        for column in table.columns:
            if not column.nullable:
                assert f"{table.name}.{column.name}: must not be empty" in names
            for foreign in column.foreign_keys:
                assert f"{table.name}.{column.name}: must exist in {foreign.target_fullname}" in names
            if column.name.endswith("_vnd") and (table.name, column.name) not in SIGNED_MONEY:
                assert f"{table.name}.{column.name}: must be ≥ 0" in names
            if column.name.endswith("_month"):
                assert f"{table.name}.{column.name}: must be the first day of a month" in names


def test_every_text_column_is_either_a_closed_list_or_declared_free():
    """A new category column must get its accepted values (or be declared free text) here."""
    undecided = []
    for table in t.metadata.sorted_tables:
        for column in table.columns:
            key = (table.name, column.name)
            if not isinstance(column.type, Text) or column.foreign_keys:
                continue
            if key not in ACCEPTED_VALUES and key not in FREE_TEXT:
                undecided.append(key)
    assert undecided == []
    for table, column in [*ACCEPTED_VALUES, *FREE_TEXT]:
        assert column in t.metadata.tables[table].c, (table, column)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.name)
def test_every_select_compiles_for_postgresql(check: Check):
    assert "SELECT" in str(check.violations().compile(dialect=postgresql.dialect()))


# --- each kind catches a broken frame, in Polars and in SQL alike ----------------------------


def offending_ids(check: Check, frames: dict[str, pl.DataFrame], id_column: str) -> list:
    return sorted(check.offending_rows(frames).get_column(id_column).to_list())


def sql_count(check: Check, frames: dict[str, pl.DataFrame]) -> int:
    """Run the check's compiled select in DuckDB over the frames registered under the table names."""
    engine = create_engine("duckdb:///:memory:")
    try:
        with engine.connect() as connection:
            for name, frame in frames.items():
                connection.connection.driver_connection.register(name, frame.to_arrow())
            return connection.execute(check.violations()).scalar_one()
    finally:
        engine.dispose()


def assert_caught(check: Check, frames: dict[str, pl.DataFrame], id_column: str, expected: list) -> None:
    assert offending_ids(check, frames, id_column) == sorted(expected)
    assert sql_count(check, frames) == len(expected)


def test_not_null_catches_empty_value():
    frames = {"customers": pl.DataFrame({"customer_id": [1, 2, 3], "segment": ["individual", None, "enterprise"]})}
    assert_caught(NotNull(t.customers, "segment"), frames, "customer_id", [2])


def test_accepted_values_catches_unknown_category_and_ignores_empty():
    frames = {"complaints": pl.DataFrame({"complaint_id": [1, 2, 3], "category": ["billing", "weather", None]})}
    check = AcceptedValues(t.complaints, "category", t.COMPLAINT_CATEGORIES)
    assert_caught(check, frames, "complaint_id", [2])


def test_range_catches_negative_money_and_out_of_scale_scores():
    bills = {"bills": pl.DataFrame({"bill_id": [1, 2], "billed_vnd": [150_000, -1]})}
    assert_caught(Range(t.bills, "billed_vnd", minimum=0), bills, "bill_id", [2])
    surveys = {"surveys": pl.DataFrame({"survey_id": [1, 2, 3, 4], "nps_score": [0, 10, 11, -1]})}
    assert_caught(Range(t.surveys, "nps_score", 0, 10), surveys, "survey_id", [3, 4])


def test_order_catches_resolved_before_opened_and_ignores_open_complaints():
    frame = pl.DataFrame(
        {
            "complaint_id": [1, 2, 3],
            "opened_at": [datetime(2026, 3, 1, 9), datetime(2026, 3, 1, 9), datetime(2026, 3, 1, 9)],
            "resolved_at": [datetime(2026, 3, 2, 9), datetime(2026, 2, 28, 9), None],
        }
    )
    assert_caught(Order(t.complaints, "resolved_at", "opened_at"), {"complaints": frame}, "complaint_id", [2])


def test_order_at_most_catches_paid_above_billed():
    frame = pl.DataFrame({"bill_id": [1, 2, 3], "billed_vnd": [100, 100, 100], "paid_vnd": [100, 101, 0]})
    check = Order(t.bills, "paid_vnd", "billed_vnd", at_most=True)
    assert check.problem == "must be ≤ billed_vnd"
    assert_caught(check, {"bills": frame}, "bill_id", [2])


def test_first_of_month_catches_mid_month_date():
    frame = pl.DataFrame(
        {"customer_id": [1, 2], "revenue_month": [date(2026, 1, 1), date(2026, 1, 15)], "revenue_vnd": [1, 1]}
    )
    check = FirstOfMonth(t.revenue_monthly, "revenue_month")
    assert offending_ids(check, {"revenue_monthly": frame}, "revenue_month") == [date(2026, 1, 15)]
    assert sql_count(check, {"revenue_monthly": frame}) == 1


def test_implies_catches_churned_customer_without_date_and_active_with_one():
    frame = pl.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "status": ["active", "churned", "churned", "active"],
            "churned_on": [None, date(2026, 1, 3), None, date(2026, 1, 3)],
        }
    )
    frames = {"customers": frame}
    needs_date = contracts.Implies(t.customers, contracts.Is("status", "churned"), contracts.Filled("churned_on"))
    assert_caught(needs_date, frames, "customer_id", [3])
    needs_status = Implies(t.customers, contracts.Filled("churned_on"), contracts.Is("status", "churned"))
    assert_caught(needs_status, frames, "customer_id", [4])
    assert needs_date.problem == "churned_on must be filled when status = 'churned'"


def test_unique_catches_duplicate_ids_and_names_the_first_row():
    frame = pl.DataFrame({"customer_id": [7, 8, 7, 7], contracts.ROW: [2, 3, 4, 5]})
    check = Unique(t.customers, ("customer_id",))
    rows = check.offending_rows({"customers": frame})
    assert rows.get_column(contracts.ROW).to_list() == [4, 5]
    assert check.explain(rows.row(0, named=True)) == "duplicate customer_id (first on row 2)"
    assert sql_count(check, {"customers": frame.drop(contracts.ROW)}) == 2


def test_unique_on_composite_key():
    frame = pl.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "revenue_month": [date(2026, 1, 1), date(2026, 2, 1), date(2026, 1, 1)],
            "revenue_vnd": [1, 2, 3],
        }
    )
    check = Unique(t.revenue_monthly, ("customer_id", "revenue_month"))
    assert offending_ids(check, {"revenue_monthly": frame}, "revenue_vnd") == [3]
    assert sql_count(check, {"revenue_monthly": frame}) == 1


def test_relationship_catches_dangling_reference_and_accepts_the_extra_code():
    customers = pl.DataFrame({"customer_id": [1, 2]})
    complaints = pl.DataFrame({"complaint_id": [10, 11, 12], "customer_id": [1, 3, None]})
    frames = {"customers": customers, "complaints": complaints}
    assert_caught(Relationship(t.complaints, "customer_id", t.customers, "customer_id"), frames, "complaint_id", [11])

    provinces = pl.DataFrame({"province_code": ["01", "79"]})
    targets = pl.DataFrame({"measure": ["a", "b", "c"], "province_code": ["00", "01", "99"]})
    check = next(c for c in CHECKS if isinstance(c, Relationship) and c.table is t.kpi_targets)
    assert_caught(check, {"provinces": provinces, "kpi_targets": targets}, "measure", ["c"])


def test_relationship_to_a_missing_table_rejects_every_reference():
    complaints = pl.DataFrame({"complaint_id": [10], "staff_id": [5]})
    check = Relationship(t.complaints, "staff_id", t.staff, "staff_id")
    assert offending_ids(check, {"complaints": complaints}, "complaint_id") == [10]


def test_matches_catches_churn_date_that_disagrees_with_the_customer():
    customers = pl.DataFrame({"customer_id": [1, 2, 3], "churned_on": [date(2026, 1, 5), date(2026, 2, 5), None]})
    churn = pl.DataFrame(
        {"customer_id": [1, 2, 3, 4], "churned_on": [date(2026, 1, 5), date(2026, 2, 6)] + [date(2026, 3, 1)] * 2}
    )
    check = Matches(t.churn_events, "churned_on", t.customers, "churned_on", key="customer_id")
    # 2 differs. 3 has no churn date on the customer: that is PartnerIs' and Implies' to say (each
    # broken row once); 4 has no customer at all (Relationship reports that).
    assert_caught(check, {"customers": customers, "churn_events": churn}, "customer_id", [2])
    rows = check.offending_rows({"customers": customers, "churn_events": churn})
    assert check.explain(rows.row(0, named=True)) == "must equal customers.churned_on (2026-02-05)"


def churn_frames(statuses: dict[int, str], events: dict[int, date], activated: date = date(2024, 1, 1)):
    customers = pl.DataFrame(
        {
            "customer_id": list(statuses),
            "status": list(statuses.values()),
            "activated_on": [activated] * len(statuses),
            contracts.ROW: [index + 2 for index in range(len(statuses))],
        }
    )
    churn = pl.DataFrame(
        {
            "customer_id": list(events),
            "churned_on": list(events.values()),
            contracts.ROW: [index + 2 for index in range(len(events))],
        }
    )
    return {"customers": customers, "churn_events": churn}


def test_churned_customer_without_a_churn_event_is_caught():
    frames = churn_frames({1: "churned", 2: "churned", 3: "active"}, {1: date(2026, 1, 5)})
    check = next(c for c in CHECKS if isinstance(c, HasPartner) and c.table is t.customers)
    assert check.column == "status"
    assert_caught(check, frames, "customer_id", [2])
    rows = check.offending_rows(frames)
    assert check.explain(rows.row(0, named=True)) == (
        "churned customer without a churn event: no churn_events row with customer_id = 2"
    )
    # No churn_events table at all: every churned customer lacks its event.
    assert offending_ids(check, {"customers": frames["customers"]}, "customer_id") == [1, 2]


def test_churn_event_of_a_customer_not_churned_is_caught():
    frames = churn_frames({1: "churned", 2: "active"}, {1: date(2026, 1, 5), 2: date(2026, 1, 6), 9: date(2026, 1, 7)})
    check = next(c for c in CHECKS if isinstance(c, PartnerIs))
    # 9 has no customer at all: Relationship's job, not this one's.
    assert_caught(check, frames, "customer_id", [2])
    rows = check.offending_rows(frames)
    assert check.explain(rows.row(0, named=True)) == (
        "churn event of a customer not churned: the customers row with customer_id = 2 has status = 'active'"
    )
    assert (
        check.name
        == "churn_events.customer_id: customers.status must be 'churned' on the row with the same customer_id"
    )


def test_churn_before_activation_is_caught_across_tables():
    frames = churn_frames(
        {1: "churned", 2: "churned", 3: "churned"},
        {1: date(2024, 1, 1), 2: date(2023, 12, 31), 3: date(2025, 1, 1)},
        activated=date(2024, 1, 1),
    )
    check = next(c for c in CHECKS if isinstance(c, OrderAcross))
    assert_caught(check, frames, "customer_id", [2])  # the activation day itself is fine
    rows = check.offending_rows(frames)
    assert check.explain(rows.row(0, named=True)) == (
        "churn before activation: must be on or after customers.activated_on (2024-01-01, customer_id 2)"
    )


def test_a_rule_on_a_missing_partner_table_finds_nothing_to_compare():
    churn = churn_frames({}, {1: date(2026, 1, 5)})["churn_events"]
    for check in CHECKS:
        if isinstance(check, PartnerIs | OrderAcross | Matches):
            assert check.offending_rows({"churn_events": churn}).height == 0


def test_unknown_customer_is_named_with_its_key():
    customers = pl.DataFrame({"customer_id": [1]})
    bills = pl.DataFrame({"bill_id": [10, 11], "customer_id": [1, 77]})
    check = Relationship(t.bills, "customer_id", t.customers, "customer_id")
    rows = check.offending_rows({"customers": customers, "bills": bills})
    assert check.explain(rows.row(0, named=True)) == "unknown customer: no customers row with customer_id = 77"


def test_birth_year_bounds_follow_the_year_of_the_data():
    assert contracts.plausible_birth_years(2026) == (1906, 2012)
    assert contracts.plausible_birth_years(2015) == (1895, 2001)


def test_birth_years_are_judged_in_the_year_of_the_data():
    frame = pl.DataFrame({"customer_id": [1, 2, 3, 4], "birth_year": [1896, 1894, 2001, 2002]})
    check = next(c for c in checks_for_data_year(2015) if isinstance(c, PlausibleBirthYear))
    assert check.data_year == 2015
    # Aged 119 and 14 in 2015: plausible then, whatever the year is now.
    assert_caught(check, {"customers": frame}, "customer_id", [2, 4])
    rows = check.offending_rows({"customers": frame})
    assert check.explain(rows.row(0, named=True)) == (
        "must give an age of 14 to 120 in the year of the data (2015: born 1895 to 2001)"
    )
    # Every other check is the same object as in CHECKS.
    assert [c for c in checks_for_data_year(2015) if not isinstance(c, PlausibleBirthYear)] == [
        c for c in CHECKS if not isinstance(c, PlausibleBirthYear)
    ]


def test_a_warehouse_is_judged_in_the_year_its_meta_records():
    customers = pl.DataFrame({"customer_id": [1, 2], "birth_year": [1896, 1960]})
    check = next(c for c in CHECKS if isinstance(c, PlausibleBirthYear))
    assert check.data_year is None
    old = pl.DataFrame({"key": ["data_through"], "value": ["2015-12-01"]})
    assert sql_count(check, {"customers": customers, "warehouse_meta": old}) == 0
    # Without a recorded date the year is this year's: born 1896 is then far too old.
    none = pl.DataFrame(schema={"key": pl.String, "value": pl.String})
    assert sql_count(check, {"customers": customers, "warehouse_meta": none}) == 1
