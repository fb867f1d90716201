"""The ground every mart module stands on: the marts' MetaData, the switch between marts and raw
tables (and the one place that chooses), and the column helpers the mart tables share.
"""

import functools
from collections.abc import Callable, Sequence

from sqlalchemy import BigInteger, Column, Date, MetaData, SmallInteger, String, Table, Text

from queries.tables import customers

mart_metadata = MetaData()


_enabled = True


def use_marts(enabled: bool) -> None:
    """Answer measures from the marts (default) or from the raw tables (tests, benchmark)."""
    global _enabled
    _enabled = bool(enabled)


def marts_enabled() -> bool:
    return _enabled


# Every raw facts select that a mart also answers, with its mart twin: (raw, from the mart).
MART_ANSWERS: list[tuple[Callable, Callable]] = []


def answered_from_mart(from_mart: Callable) -> Callable[[Callable], Callable]:
    """Declare that a mart answers the decorated raw facts select: `from_mart` takes the
    same arguments and returns the same columns (tests/queries/test_marts.py holds them equal).

    This is the one place where the choice is made: with the marts on (the default),
    the mart answers; with `use_marts(False)`, the raw select. The raw select stays the
    definition and the test oracle, and is reachable as `.raw`."""

    def declare(raw: Callable) -> Callable:
        @functools.wraps(raw)
        def answer(*args, **kwargs):
            return (from_mart if _enabled else raw)(*args, **kwargs)

        answer.raw = raw
        answer.from_mart = from_mart
        MART_ANSWERS.append((raw, from_mart))
        return answer

    return declare


def group_columns(*, birth_year: bool, key: bool) -> list[Column]:
    columns = [
        Column("province_code", String(2), primary_key=key, nullable=False, doc="Customer's province (34 codes)"),
        Column("segment", Text, primary_key=key, nullable=False, doc="Customer's segment"),
        Column("plan", Text, primary_key=key, nullable=False, doc="prepaid or postpaid"),
        Column("area_type", Text, primary_key=key, nullable=False, doc="urban, rural, remote or unknown"),
    ]
    if birth_year:
        columns.append(
            Column(
                "birth_year",
                SmallInteger,
                primary_key=key,
                nullable=False,
                doc="Holder's birth year (age bands are derived at query time)",
            )
        )
    return columns


def copied_columns(source: Table, *names: str, key: Sequence[str] = ()) -> list[Column]:
    """Columns of a raw table as the mart keeps them: same name, type, nullability and doc
    (no foreign key); those in `key` are part of the mart's key."""
    return [
        Column(
            name,
            source.c[name].type,
            primary_key=name in key,
            autoincrement=False,
            nullable=source.c[name].nullable,
            doc=source.c[name].doc,
        )
        for name in names
    ]


def contact_columns() -> list[Column]:
    """The customer's name and phone, for the lists that name people (masked by the list
    for roles that may not see them): copied so a page of a list never joins the customers."""
    return copied_columns(customers, "full_name", "phone")


def count_column(name: str, doc: str) -> Column:
    return Column(name, BigInteger, nullable=False, doc=doc)


def customer_month_columns() -> list[Column]:
    return [
        count_column(
            "start_active", "Customers active at the start of the month (= active at the end of the month before)"
        ),
        count_column(
            "end_active", "Customers active at the end of the month (activated and not churned by its last day)"
        ),
        count_column("new_customers", "Customers activated in the month"),
        count_column("churned", "Customers who churned in the month (customers.churned_on)"),
        count_column("churned_voluntary", "Of those, with a voluntary churn event"),
        count_column("churned_involuntary", "Of those, with an involuntary (non-payment) churn event"),
        count_column(
            "port_ins",
            "Customers activated in the month with a number ported in from a competitor (named or unknown)",
        ),
        count_column("port_outs", "Churn events in the month with a number ported to a competitor (named or unknown)"),
        count_column("churn_events", "Churn events in the month (churn_events.churned_on): the win-back cohort"),
        count_column("won_back", "Of those, re-acquired within queries.rules.WINBACK_WINDOW_DAYS days"),
        count_column("customer_months", "revenue_monthly rows of the month (one per customer active in it)"),
        count_column(
            "revenue_vnd", "Net service revenue earned in the month, VND (less credits and refunds; may be negative)"
        ),
        count_column("campaign_control", "Campaign targets selected in the month, control group"),
        count_column("campaign_control_churned", "Of those, churned within 90 days"),
        count_column("campaign_contacted", "Campaign targets selected in the month, contacted group"),
        count_column("campaign_contacted_churned", "Of those, churned within 90 days"),
    ]


def month_column(doc: str, key: bool = True) -> Column:
    return Column("month", Date, primary_key=key, nullable=False, doc=doc)


CUSTOMER_MONTH_DOC = "Month (first day) the row describes"


def rollup_of(fine: Table) -> Table:
    """The same mart summed over birth years (every number in it adds up)."""
    return Table(
        f"{fine.name}_rollup",
        mart_metadata,
        *(column._copy() for column in fine.columns if column.name != "birth_year"),
    )


def rollup_named(fine: Table) -> Table:
    """The rollup of a fine mart (defined beside it by `rollup_of`)."""
    return mart_metadata.tables[f"{fine.name}_rollup"]
