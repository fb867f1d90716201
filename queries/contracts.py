"""Data contracts: the rules every warehouse row must obey, declared once as a list (like dbt tests).

Each check answers the same question in two places:
- ``violations()`` is a SQLAlchemy Core select counting the offending rows in a warehouse
  (the same select runs on DuckDB and PostgreSQL);
- ``offending_rows(frames)`` returns the offending rows of incoming Polars frames, so the
  importer can name them before anything is written.

What can be read off queries/tables.py is derived, so a new column is covered without
touching this file: primary keys are unique, ``nullable=False`` columns are filled,
foreign keys resolve, ``*_vnd`` money is never negative, ``*_month`` dates are first of
month. The semantic rules (accepted values, score ranges, dates in order, fields filled
together, one fact told alike in two tables: churned ⇔ a churn event, no churn before
activation) are listed by hand at the bottom. A test fails when a text column is neither
given accepted values nor declared free text, so a new category column cannot slip by.

They live in the query layer, beside the tables they are written on, because both sides
need them: the importer (data_seed) and the dashboard's targets upload check with them,
and the schema documentation lists them.

Null handling follows SQL in both worlds: a rule on an empty (NULL) value is not a
violation; emptiness is the business of the NotNull checks.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Select,
    Table,
    and_,
    cast,
    exists,
    extract,
    func,
    not_,
    or_,
    select,
)

from queries import tables as t
from queries.metrics import MEASURES

# Column the importer adds to every incoming frame: the row number as the user sees it in
# the file. Checks carry it through untouched; Unique uses it to name the first occurrence.
ROW = "__row"
FIRST_ROW = "__first_row"
MATCH_PREFIX = "__target_"

# Birth years a subscription holder can plausibly have. The bounds are wide on purpose: they
# catch typos (198, 2099) and placeholder years, not unusual but real customers.
OLDEST_AGE = 120
YOUNGEST_AGE = 14


def plausible_birth_years(data_year: int | None = None) -> tuple[int, int]:
    """Oldest and youngest plausible birth year for data of ``data_year`` (default: this year).

    The age that matters is the age in the year the data describes: an extract of 2015 may
    hold a customer born in 1896 (aged 119 then), and must not be refused for it in 2026."""
    year = data_year or date.today().year
    return year - OLDEST_AGE, year - YOUNGEST_AGE


class Check:
    """One rule on one table. Subclasses define the rule in SQL and in Polars."""

    table: Table
    column: str  # the column a report points at

    @property
    def kind(self) -> str:
        return type(self).__name__

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}: {self.problem}"

    @property
    def problem(self) -> str:
        raise NotImplementedError

    def violations(self) -> Select:
        """A select returning one integer: how many rows break the rule."""
        raise NotImplementedError

    def offending_rows(self, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        """Rows of ``frames[table]`` that break the rule (extra columns such as ROW kept)."""
        raise NotImplementedError

    def explain(self, row: Mapping[str, object]) -> str:
        """What is wrong with one offending row, for a human."""
        return self.problem


class RowCheck(Check):
    """A rule each row satisfies on its own: violation = NOT rule (NULL counts as no violation)."""

    def sql_rule(self) -> ColumnElement[bool]:
        raise NotImplementedError

    def polars_rule(self) -> pl.Expr:
        raise NotImplementedError

    def violations(self) -> Select:
        return select(func.count()).select_from(self.table).where(not_(self.sql_rule()))

    def offending_rows(self, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        # filter() drops rows where the negated rule is NULL, exactly like SQL's WHERE.
        return frames[self.table.name].filter(~self.polars_rule())


@dataclass(frozen=True)
class NotNull(RowCheck):
    table: Table
    column: str

    @property
    def problem(self) -> str:
        return "must not be empty"

    def sql_rule(self) -> ColumnElement[bool]:
        return self.table.c[self.column].is_not(None)

    def polars_rule(self) -> pl.Expr:
        return pl.col(self.column).is_not_null()


@dataclass(frozen=True)
class AcceptedValues(RowCheck):
    table: Table
    column: str
    values: tuple
    wording: str | None = None  # for long lists that live elsewhere (the measure registry)

    @property
    def problem(self) -> str:
        return self.wording or "must be one of " + ", ".join(str(value) for value in self.values)

    def sql_rule(self) -> ColumnElement[bool]:
        return self.table.c[self.column].in_(self.values)

    def polars_rule(self) -> pl.Expr:
        return pl.col(self.column).is_in(self.values)


@dataclass(frozen=True)
class Range(RowCheck):
    """minimum ≤ value ≤ maximum; either bound may be None (open)."""

    table: Table
    column: str
    minimum: float | None = None
    maximum: float | None = None
    wording: str | None = None  # when the bounds move with time, say what they mean instead

    @property
    def problem(self) -> str:
        if self.wording:
            return self.wording
        if self.maximum is None:
            return f"must be ≥ {self.minimum}"
        if self.minimum is None:
            return f"must be ≤ {self.maximum}"
        return f"must be between {self.minimum} and {self.maximum}"

    def _rule(self, column):
        parts = []
        if self.minimum is not None:
            parts.append(column >= self.minimum)
        if self.maximum is not None:
            parts.append(column <= self.maximum)
        return parts

    def sql_rule(self) -> ColumnElement[bool]:
        return and_(*self._rule(self.table.c[self.column]))

    def polars_rule(self) -> pl.Expr:
        return pl.all_horizontal(self._rule(pl.col(self.column)))


@dataclass(frozen=True)
class PlausibleBirthYear(RowCheck):
    """A birth year giving an age of YOUNGEST_AGE to OLDEST_AGE in the year of the data.

    ``data_year`` is that year. The importer sets it from the extract's last month
    (checks_for_data_year); left None, a warehouse is checked against the year of its
    warehouse_meta 'data_through' (this year when it records none), frames against this year."""

    table: Table
    column: str
    data_year: int | None = None

    @property
    def problem(self) -> str:
        return f"must give an age of {YOUNGEST_AGE} to {OLDEST_AGE} in the year of the data"

    def _sql_year(self):
        if self.data_year is not None:
            return self.data_year
        meta = t.warehouse_meta
        recorded = select(meta.c.value).where(meta.c.key == "data_through").scalar_subquery()
        return func.coalesce(extract("year", cast(recorded, Date)), extract("year", func.current_date()))

    def sql_rule(self) -> ColumnElement[bool]:
        year, column = self._sql_year(), self.table.c[self.column]
        return and_(column >= year - OLDEST_AGE, column <= year - YOUNGEST_AGE)

    def polars_rule(self) -> pl.Expr:
        oldest, youngest = plausible_birth_years(self.data_year)
        return pl.col(self.column).is_between(oldest, youngest)

    def explain(self, row: Mapping[str, object]) -> str:
        oldest, youngest = plausible_birth_years(self.data_year)
        year = self.data_year or date.today().year
        return f"{self.problem} ({year}: born {oldest} to {youngest})"


@dataclass(frozen=True)
class Order(RowCheck):
    """``column`` ≥ ``other`` in the same row (dates in order), or ≤ with ``at_most`` (paid ≤ billed)."""

    table: Table
    column: str
    other: str
    at_most: bool = False

    @property
    def problem(self) -> str:
        if self.at_most:
            return f"must be ≤ {self.other}"
        if isinstance(self.table.c[self.column].type, Date | DateTime):
            return f"must be on or after {self.other}"
        return f"must be ≥ {self.other}"

    def _rule(self, column, other):
        return column <= other if self.at_most else column >= other

    def sql_rule(self) -> ColumnElement[bool]:
        return self._rule(self.table.c[self.column], self.table.c[self.other])

    def polars_rule(self) -> pl.Expr:
        return self._rule(pl.col(self.column), pl.col(self.other))

    def explain(self, row: Mapping[str, object]) -> str:
        return f"{self.problem} ({row.get(self.other)})"


@dataclass(frozen=True)
class FirstOfMonth(RowCheck):
    table: Table
    column: str

    @property
    def problem(self) -> str:
        return "must be the first day of a month"

    def sql_rule(self) -> ColumnElement[bool]:
        return extract("day", self.table.c[self.column]) == 1

    def polars_rule(self) -> pl.Expr:
        return pl.col(self.column).dt.day() == 1


# Conditions for Implies: each renders in SQL and in Polars, and reads as text.
@dataclass(frozen=True)
class Is:
    column: str
    value: object
    compare: Callable = operator.eq
    symbol: str = "="

    @property
    def _shown(self) -> str:
        return f"'{self.value}'" if isinstance(self.value, str) else str(self.value).lower()

    @property
    def text(self) -> str:
        return f"{self.column} {self.symbol} {self._shown}"

    @property
    def required(self) -> str:
        verb = "must be" if self.symbol == "=" else f"must be {self.symbol}"
        return f"{self.column} {verb} {self._shown}"

    def sql(self, table: Table) -> ColumnElement[bool]:
        return self.compare(table.c[self.column], self.value)

    def polars(self) -> pl.Expr:
        return self.compare(pl.col(self.column), self.value)


@dataclass(frozen=True)
class Filled:
    column: str

    @property
    def text(self) -> str:
        return f"{self.column} is filled"

    @property
    def required(self) -> str:
        return f"{self.column} must be filled"

    def sql(self, table: Table) -> ColumnElement[bool]:
        return table.c[self.column].is_not(None)

    def polars(self) -> pl.Expr:
        return pl.col(self.column).is_not_null()


@dataclass(frozen=True)
class Implies(RowCheck):
    """When ``when`` holds, ``then`` must hold (e.g. a churned customer has a churn date)."""

    table: Table
    when: Is | Filled
    then: Is | Filled

    @property
    def column(self) -> str:
        return self.then.column

    @property
    def problem(self) -> str:
        return f"{self.then.required} when {self.when.text}"

    @property
    def name(self) -> str:
        return f"{self.table.name}: {self.problem}"

    def sql_rule(self) -> ColumnElement[bool]:
        return or_(not_(self.when.sql(self.table)), self.then.sql(self.table))

    def polars_rule(self) -> pl.Expr:
        return ~self.when.polars() | self.then.polars()


@dataclass(frozen=True)
class Unique(Check):
    table: Table
    columns: tuple[str, ...]

    @property
    def column(self) -> str:
        return ", ".join(self.columns)

    @property
    def problem(self) -> str:
        return "must be unique" if len(self.columns) == 1 else "must be unique together"

    def violations(self) -> Select:
        # Surplus rows: a value seen three times counts 2, like the rows the importer reports.
        key = [self.table.c[name] for name in self.columns]
        groups = select(func.count().label("n")).select_from(self.table).group_by(*key).having(func.count() > 1)
        groups = groups.subquery()
        return select(func.coalesce(func.sum(groups.c.n - 1), 0))

    def offending_rows(self, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        frame = frames[self.table.name]
        key = pl.struct(self.columns)
        duplicates = frame.filter(~key.is_first_distinct())
        if ROW in frame.columns and duplicates.height:
            firsts = frame.group_by(self.columns).agg(pl.col(ROW).min().alias(FIRST_ROW))
            duplicates = duplicates.join(firsts, on=list(self.columns), how="left", nulls_equal=True)
        return duplicates

    def explain(self, row: Mapping[str, object]) -> str:
        if row.get(FIRST_ROW) is not None:
            return f"duplicate {self.column} (first on row {row[FIRST_ROW]})"
        return f"duplicate {self.column}"


@dataclass(frozen=True)
class Relationship(Check):
    """Every filled ``column`` value exists in ``target_table.target_column`` (or is in ``also``)."""

    table: Table
    column: str
    target_table: Table
    target_column: str
    also: tuple = ()

    @property
    def problem(self) -> str:
        extra = f" (or {', '.join(map(str, self.also))})" if self.also else ""
        return f"must exist in {self.target_table.name}.{self.target_column}{extra}"

    def violations(self) -> Select:
        source = self.table.c[self.column]
        target = self.target_table.c[self.target_column]
        found = exists(select(target).where(target == source))
        rule = [source.is_not(None), not_(found)]
        if self.also:
            rule.append(source.not_in(self.also))
        return select(func.count()).select_from(self.table).where(*rule)

    def offending_rows(self, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        frame = frames[self.table.name]
        target = frames.get(self.target_table.name)
        known = (
            target.get_column(self.target_column).unique()
            if target is not None
            else pl.Series(self.target_column, [], dtype=frame.schema[self.column])
        )
        if self.also:
            known = pl.concat([known, pl.Series(self.target_column, self.also, dtype=known.dtype)])
        column = pl.col(self.column)
        return frame.filter(column.is_not_null() & ~column.is_in(known.implode()))

    def explain(self, row: Mapping[str, object]) -> str:
        noun = SINGULAR.get(self.target_table.name, f"{self.target_table.name} key")
        return f"unknown {noun}: no {self.target_table.name} row with {self.target_column} = {row.get(self.column)}"


# What one row of a referenced table is, for "unknown customer: …".
SINGULAR = {"customers": "customer", "staff": "staff member", "campaigns": "campaign", "provinces": "province"}


def _partners(check: Check, frames: Mapping[str, pl.DataFrame], key: str, *columns: pl.Expr) -> pl.DataFrame | None:
    """The rows of ``check.table`` joined with their partner (the ``check.target_table`` row with
    the same ``key``), the partner's ``columns`` added; rows without a partner are dropped.
    None when the target table is not given at all (then no row has a partner)."""
    target = frames.get(check.target_table.name)
    if target is None:
        return None
    return frames[check.table.name].join(target.select(pl.col(key), *columns), on=key, how="inner")


def _partner_value(name: str) -> str:
    return MATCH_PREFIX + name


@dataclass(frozen=True)
class Matches(Check):
    """``column`` equals ``target_table.target_column`` on the row with the same ``key``
    (one fact recorded in two tables must agree). Rows without a partner are Relationship's
    job; an empty value on either side is the job of the checks that require it (NotNull,
    Implies, PartnerIs), so each broken row is reported once."""

    table: Table
    column: str
    target_table: Table
    target_column: str
    key: str

    @property
    def problem(self) -> str:
        return f"must equal {self.target_table.name}.{self.target_column}"

    def violations(self) -> Select:
        source, target = self.table, self.target_table
        joined = source.join(target, source.c[self.key] == target.c[self.key])
        return select(func.count()).select_from(joined).where(source.c[self.column] != target.c[self.target_column])

    def offending_rows(self, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        partner = _partner_value(self.target_column)
        joined = _partners(self, frames, self.key, pl.col(self.target_column).alias(partner))
        if joined is None:
            return frames[self.table.name].clear()
        return joined.filter(pl.col(self.column) != pl.col(partner))

    def explain(self, row: Mapping[str, object]) -> str:
        return f"{self.problem} ({row.get(_partner_value(self.target_column))})"


@dataclass(frozen=True)
class OrderAcross(Check):
    """``column`` is on or after ``target_table.target_column`` on the row with the same ``key``
    (Order across two tables: a churn event is not before the customer's activation)."""

    table: Table
    column: str
    target_table: Table
    target_column: str
    key: str
    wording: str = ""  # what the broken rule means, leading the explanation

    @property
    def problem(self) -> str:
        return f"must be on or after {self.target_table.name}.{self.target_column}"

    def violations(self) -> Select:
        source, target = self.table, self.target_table
        joined = source.join(target, source.c[self.key] == target.c[self.key])
        return select(func.count()).select_from(joined).where(source.c[self.column] < target.c[self.target_column])

    def offending_rows(self, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        partner = _partner_value(self.target_column)
        joined = _partners(self, frames, self.key, pl.col(self.target_column).alias(partner))
        if joined is None:
            return frames[self.table.name].clear()
        return joined.filter(pl.col(self.column) < pl.col(partner))

    def explain(self, row: Mapping[str, object]) -> str:
        lead = f"{self.wording}: " if self.wording else ""
        partner = row.get(_partner_value(self.target_column))
        return f"{lead}{self.problem} ({partner}, {self.key} {row.get(self.key)})"


@dataclass(frozen=True)
class HasPartner(Check):
    """Every row of ``table`` where ``when`` holds has a row in ``target_table`` with the same
    ``key``: one fact told in two tables is told in both (a churned customer has a churn event)."""

    table: Table
    when: Is | Filled
    target_table: Table
    key: str
    wording: str  # the broken fact, e.g. "churned customer without a churn event"

    @property
    def column(self) -> str:
        return self.when.column

    @property
    def problem(self) -> str:
        return f"must have a {self.target_table.name} row with the same {self.key} when {self.when.text}"

    def violations(self) -> Select:
        source, target = self.table, self.target_table
        partner = exists(select(target.c[self.key]).where(target.c[self.key] == source.c[self.key]))
        return select(func.count()).select_from(source).where(self.when.sql(source), not_(partner))

    def offending_rows(self, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        frame = frames[self.table.name]
        target = frames.get(self.target_table.name)
        keys = target.get_column(self.key) if target is not None else pl.Series(self.key, [], frame.schema[self.key])
        return frame.filter(self.when.polars() & ~pl.col(self.key).is_in(keys.implode()))

    def explain(self, row: Mapping[str, object]) -> str:
        return f"{self.wording}: no {self.target_table.name} row with {self.key} = {row.get(self.key)}"


@dataclass(frozen=True)
class PartnerIs(Check):
    """The row of ``target_table`` with the same ``key``, where there is one, satisfies ``then``
    (a churn event's customer is churned). A row without a partner is Relationship's job."""

    table: Table
    key: str
    target_table: Table
    then: Is
    wording: str  # the broken fact, e.g. "churn event of a customer not churned"

    @property
    def column(self) -> str:
        return self.key

    @property
    def problem(self) -> str:
        return f"{self.target_table.name}.{self.then.required} on the row with the same {self.key}"

    def violations(self) -> Select:
        source, target = self.table, self.target_table
        joined = source.join(target, source.c[self.key] == target.c[self.key])
        return select(func.count()).select_from(joined).where(not_(self.then.sql(target)))

    def offending_rows(self, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        partner = _partner_value(self.then.column)
        joined = _partners(self, frames, self.key, pl.col(self.then.column).alias(partner))
        if joined is None:
            return frames[self.table.name].clear()
        return joined.filter(~self.then.compare(pl.col(partner), self.then.value))

    def explain(self, row: Mapping[str, object]) -> str:
        shown = row.get(_partner_value(self.then.column))
        return (
            f"{self.wording}: the {self.target_table.name} row with {self.key} = {row.get(self.key)} "
            f"has {self.then.column} = {shown!r}"
        )


# --- derived from queries/tables.py -------------------------------------------------------

# Money that may be negative: revenue is net of credits and refunds (docs/schema.md).
SIGNED_MONEY = frozenset({("revenue_monthly", "revenue_vnd")})


def derived_checks(table: Table) -> list[Check]:
    checks: list[Check] = [Unique(table, tuple(column.name for column in table.primary_key.columns))]
    for column in table.columns:
        if not column.nullable:
            checks.append(NotNull(table, column.name))
        for key in column.foreign_keys:
            checks.append(Relationship(table, column.name, key.column.table, key.column.name))
        if column.name.endswith("_vnd") and (table.name, column.name) not in SIGNED_MONEY:
            checks.append(Range(table, column.name, minimum=0))
        if column.name.endswith("_month") and isinstance(column.type, Date):
            checks.append(FirstOfMonth(table, column.name))
    return checks


# --- semantic rules, by hand ----------------------------------------------------------------

# Text columns whose values form a closed list. Keyed by (table, column).
ACCEPTED_VALUES: dict[tuple[str, str], tuple] = {
    ("provinces", "macro_region"): t.MACRO_REGIONS,
    ("customers", "segment"): t.SEGMENTS,
    ("customers", "area_type"): t.AREA_TYPES,
    ("customers", "gender"): t.GENDERS,
    ("customers", "plan"): t.PLANS,
    ("customers", "status"): t.CUSTOMER_STATUSES,
    ("customers", "ported_in_from"): t.PORT_DESTINATIONS,
    ("staff", "channel"): t.STAFF_CHANNELS,
    ("training", "course"): t.COURSES,
    ("complaints", "channel"): t.COMPLAINT_CHANNELS,
    ("complaints", "category"): t.COMPLAINT_CATEGORIES,
    ("churn_events", "churn_type"): t.CHURN_TYPES,
    ("churn_events", "reason"): t.CHURN_REASONS,
    ("churn_events", "ported_to"): t.PORT_DESTINATIONS,
    ("port_out_requests", "to_competitor"): t.PORT_DESTINATIONS,
    ("port_out_requests", "outcome"): t.PORT_OUT_OUTCOMES,
    ("campaigns", "offer"): t.CAMPAIGN_OFFERS,
    ("campaigns", "target_segment"): t.SEGMENTS,
    ("campaign_targets", "group_name"): t.CAMPAIGN_GROUPS,
    ("care_contacts_monthly", "channel"): t.CARE_CHANNELS,
    ("load_log", "kind"): t.LOAD_KINDS,
    ("load_log", "outcome"): t.LOAD_OUTCOMES,
    # A target for a measure the dashboard does not know would be silently ignored.
    ("kpi_targets", "measure"): tuple(MEASURES),
}
LIST_WORDING = {("kpi_targets", "measure"): "must be a measure name of the registry (queries/metrics.py)"}

# Text columns deliberately left open (names, codes checked by relationships, registry keys).
FREE_TEXT: frozenset[tuple[str, str]] = frozenset(
    {
        ("provinces", "name_vi"),
        ("provinces", "full_name_vi"),
        ("provinces", "name_en"),
        ("provinces", "sub_region"),
        ("legacy_provinces", "old_name_vi"),
        ("customers", "full_name"),
        ("customers", "phone"),
        ("customers", "customer_key"),
        ("churn_events", "reason_text"),
        ("campaigns", "name"),
        ("kpi_targets", "province_code"),
        ("warehouse_meta", "key"),
        ("warehouse_meta", "value"),
        ("load_log", "load_id"),
        ("load_log", "source"),
        ("load_log", "files"),
        ("load_log", "message"),
        ("load_log", "loaded_by"),
    }
)


def _accepted_values_checks() -> list[Check]:
    return [
        AcceptedValues(t.metadata.tables[table], column, values, LIST_WORDING.get((table, column)))
        for (table, column), values in ACCEPTED_VALUES.items()
    ]


def _semantic_checks() -> list[Check]:
    customers, bills, training, complaints = t.customers, t.bills, t.training, t.complaints
    churn, campaigns, targets, surveys, care = (
        t.churn_events,
        t.campaigns,
        t.campaign_targets,
        t.surveys,
        t.care_contacts_monthly,
    )
    return [
        # The operator's key names one customer (the warehouse's id is derived from it).
        Unique(customers, ("customer_key",)),
        # Ranges: scores, counts, plausible people.
        PlausibleBirthYear(customers, "birth_year"),
        Range(training, "score", 0, 100),
        Range(complaints, "csat", 1, 5),
        Range(complaints, "sla_hours", minimum=1),
        Range(complaints, "departments_involved", minimum=1),
        Range(surveys, "nps_score", 0, 10),
        *(
            Range(surveys, name, 1, 5)
            for name in (
                "csat_score",
                "network_quality_score",
                "procedure_speed_score",
                "staff_attitude_score",
                "price_score",
            )
        ),
        *(
            Range(care, name, minimum=0)
            for name in ("contacts_offered", "answered_within_60s", "handle_time_s_total", "contacts_handled")
        ),
        # Orders: things happen after what they depend on.
        Order(customers, "churned_on", "activated_on"),
        Order(bills, "due_on", "bill_month"),
        Order(bills, "paid_vnd", "billed_vnd", at_most=True),
        Order(bills, "one_way_block_on", "due_on"),
        Order(bills, "two_way_block_on", "one_way_block_on"),
        Order(bills, "terminated_on", "two_way_block_on"),
        Order(training, "completed_on", "enrolled_on"),
        Order(complaints, "acknowledged_at", "opened_at"),
        Order(complaints, "resolved_at", "opened_at"),
        Order(complaints, "closed_at", "resolved_at"),
        Order(churn, "won_back_on", "churned_on"),
        Order(campaigns, "ended_on", "started_on"),
        Order(care, "answered_within_60s", "contacts_offered", at_most=True),
        Order(care, "contacts_handled", "contacts_offered", at_most=True),
        # Fields filled together.
        Implies(customers, Is("status", "churned"), Filled("churned_on")),
        Implies(customers, Filled("churned_on"), Is("status", "churned")),
        Implies(bills, Is("paid_vnd", 0, operator.gt, ">"), Filled("paid_on")),
        Implies(bills, Filled("paid_on"), Is("paid_vnd", 0, operator.gt, ">")),
        Implies(training, Filled("completed_on"), Filled("score")),
        Implies(training, Filled("score"), Filled("completed_on")),
        Implies(complaints, Filled("closed_at"), Filled("resolved_at")),
        Implies(care, Is("channel", "call_centre"), Filled("answered_within_60s")),
        Implies(care, Filled("answered_within_60s"), Is("channel", "call_centre")),
        Implies(targets, Is("group_name", "control"), Is("accepted_offer", False)),
        # Involuntary churn is churn for non-payment, and only that.
        Implies(churn, Is("churn_type", "involuntary"), Is("reason", "non_payment")),
        Implies(churn, Is("reason", "non_payment"), Is("churn_type", "involuntary")),
        # One fact, two tables: told in both (churned ⇔ a churn event), and they agree.
        HasPartner(customers, Is("status", "churned"), churn, "customer_id", "churned customer without a churn event"),
        PartnerIs(churn, "customer_id", customers, Is("status", "churned"), "churn event of a customer not churned"),
        Matches(churn, "churned_on", customers, "churned_on", key="customer_id"),
        OrderAcross(churn, "churned_on", customers, "activated_on", "customer_id", "churn before activation"),
        # Country-wide targets use '00', every other code is a province.
        Relationship(t.kpi_targets, "province_code", t.provinces, "province_code", also=(t.COUNTRY_CODE,)),
    ]


def all_checks() -> list[Check]:
    checks: list[Check] = []
    for table in t.metadata.sorted_tables:
        checks.extend(derived_checks(table))
    checks.extend(_accepted_values_checks())
    checks.extend(_semantic_checks())
    return checks


CHECKS: tuple[Check, ...] = tuple(all_checks())


def checks_for_data_year(year: int) -> tuple[Check, ...]:
    """CHECKS for data describing ``year``: what is plausible then (birth years), not today."""
    return tuple(replace(check, data_year=year) if isinstance(check, PlausibleBirthYear) else check for check in CHECKS)


def count_violations(connection: Connection, checks: Iterable[Check] = CHECKS) -> dict[str, int]:
    """Run every check in a warehouse: {check name: offending rows}."""
    return {check.name: int(connection.execute(check.violations()).scalar_one()) for check in checks}
