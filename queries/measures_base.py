"""The pieces every measure is built from: the Measure record, dimensions, the month spine.

A measure's select is built in two steps, the same way for every topic:
1. a row-level *facts* subquery: one row per event (or per customer × month-end), with one
   column per requested dimension (named after it) and the numbers the measure adds up;
2. `summarise()`: group the facts by the dimensions, aggregate, and compute `value`.
Dimension expressions live in a subquery so GROUP BY names plain columns (an expression
with bound parameters repeated in GROUP BY does not match on every engine).

Month boundaries are computed in Python and enter as bound parameters through the
*month spine* (a VALUES list), so SQL never does calendar arithmetic.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Integer,
    Select,
    Subquery,
    case,
    column,
    func,
    literal,
    select,
    values,
)

from queries.filters import AGE_BANDS, Filters, Scope, add_months, customer_conditions, province_condition
from queries.rules import FREQUENT_DEBTOR_WINDOW_MONTHS
from queries.sql_functions import as_double, ratio
from queries.tables import customers, metadata, provinces

DIMENSIONS: tuple[str, ...] = ("month", "province_code", "macro_region", "segment", "plan", "area_type", "age_band")
PROVINCE_DIMENSIONS: tuple[str, ...] = ("month", "province_code", "macro_region")
UNITS = ("count", "vnd", "percent", "points", "hours", "days", "score", "seconds")
KINDS = ("flow", "stock")

Builder = Callable[[Filters, Scope, tuple[str, ...]], Select]


@dataclass(frozen=True)
class Measure:
    """One KPI, defined once. `build(filters, scope, by)` returns the select; call it through
    `queries.metrics.measure_select`, which validates `by` first.

    unit: 'count' | 'vnd' | 'percent' (a fraction 0–1) | 'points' (NPS, −100…100) | 'hours' |
    'days' | 'score' (a mean on a 1–5 scale) | 'seconds'.
    direction: +1 up is good, −1 down is good, 0 neutral.
    kind: 'flow' (over the period) or 'stock' (at the period end; with by month, at each month end).
    dimensions: the `by` values the measure supports.
    customer_filters: False when the source has no customer (segment, plan, age band and area
    type filters cannot apply; only provinces and regions do).
    summable: whether values of parts add up to the whole (provinces, months). None means
    "by unit": counts and money totals add up, rates, means and percentiles do not. ARPU is
    money but a ratio, so it says False.
    sources: the warehouse tables (queries/tables.py) the measure reads, its facts first
    (`customers` where the facts are attributed to the customer's province, segment, …);
    documentation only (docs/measures.md), checked against the select by
    tests/queries/test_measures_doc.py. The marts the select may read instead are built from these.
    """

    name: str
    label_vi: str
    label_en: str
    description_vi: str
    description_en: str
    unit: str
    direction: int
    kind: str
    topic: str
    build: Builder = field(repr=False, compare=False)
    dimensions: tuple[str, ...] = DIMENSIONS
    customer_filters: bool = True
    summable: bool | None = None
    sources: tuple[str, ...] = ()

    @property
    def additive(self) -> bool:
        """Parts add up to the whole (a count or a money total), so a missing group reads 0."""
        return self.unit in ("count", "vnd") if self.summable is None else self.summable

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"{self.name}: unknown unit {self.unit!r}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        if self.direction not in (-1, 0, 1):
            raise ValueError(f"{self.name}: direction must be -1, 0 or 1")
        if not set(self.dimensions) <= set(DIMENSIONS):
            raise ValueError(f"{self.name}: unknown dimensions {self.dimensions}")
        if not self.sources or not set(self.sources) <= set(metadata.tables):
            raise ValueError(f"{self.name}: sources must name tables of queries/tables.py, got {self.sources}")

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_vi

    def description(self, language: str) -> str:
        return self.description_en if language == "en" else self.description_vi


def validate_by(by: Iterable[str], allowed: Sequence[str] = DIMENSIONS, measure: str = "") -> tuple[str, ...]:
    """The breakdown as a tuple, or ValueError for an unknown, unsupported or repeated dimension."""
    by = tuple(by)
    unknown = [name for name in by if name not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {unknown}; choose from {DIMENSIONS}")
    unsupported = [name for name in by if name not in allowed]
    if unsupported:
        raise ValueError(f"{measure or 'this select'} cannot be broken down by {unsupported}")
    if len(set(by)) != len(by):
        raise ValueError(f"repeated dimension in {by}")
    return by


# --- months -------------------------------------------------------------------------


def period_months(filters: Filters) -> list[date]:
    if filters.end_month < filters.start_month:
        raise ValueError("the period ends before it starts")
    return [add_months(filters.start_month, offset) for offset in range(filters.month_count)]


def spine_months(filters: Filters, by: Sequence[str], *, whole_period: bool) -> list[date]:
    """Months a measure evaluates: every month of the period, or only the end month for a
    stock measure not broken down by month."""
    if whole_period or "month" in by:
        return period_months(filters)
    return [filters.end_month]


def month_spine(months: Sequence[date], name: str = "months") -> FromClause:
    """A VALUES list, one row per month, every boundary a bound parameter:
    month (first day), next_month (first day of the next), last_day, prev_month,
    window_start (first month of the frequent-debtor window ending with this month), days."""
    rows = []
    for month in months:
        next_month = add_months(month, 1)
        rows.append(
            (
                month,
                next_month,
                next_month - timedelta(days=1),
                add_months(month, -1),
                add_months(month, -(FREQUENT_DEBTOR_WINDOW_MONTHS - 1)),
                (next_month - month).days,
            )
        )
    return values(
        column("month", Date),
        column("next_month", Date),
        column("last_day", Date),
        column("prev_month", Date),
        column("window_start", Date),
        column("days", Integer),
        name=name,
    ).data(rows)


@dataclass(frozen=True)
class SpineBounds:
    """The extreme boundaries of a spine: used as plain WHERE prefilters on a fact table
    before its non-equi join with the spine, so only rows that can match are joined
    (a large win on PostgreSQL, whose nested loop would otherwise see every bill or customer)."""

    first_month: date
    first_next_month: date
    last_next_month: date
    first_last_day: date
    last_last_day: date
    first_window_start: date


def spine_bounds(months: Sequence[date]) -> SpineBounds:
    first, last = min(months), max(months)
    return SpineBounds(
        first_month=first,
        first_next_month=add_months(first, 1),
        last_next_month=add_months(last, 1),
        first_last_day=add_months(first, 1) - timedelta(days=1),
        last_last_day=add_months(last, 1) - timedelta(days=1),
        first_window_start=add_months(first, -(FREQUENT_DEBTOR_WINDOW_MONTHS - 1)),
    )


def period_bounds(filters: Filters) -> tuple[date, date]:
    """[first day of the start month, first day after the end month)."""
    return filters.start_month, add_months(filters.end_month, 1)


def timestamp_bounds(filters: Filters) -> tuple[datetime, datetime]:
    start, stop = period_bounds(filters)
    return datetime(start.year, start.month, 1), datetime(stop.year, stop.month, 1)


# --- dimensions ---------------------------------------------------------------------


def age_band(birth_year: ColumnElement, end_year: int) -> ColumnElement:
    """Age band from the age reached in the END month's calendar year (as queries.filters)."""
    return case(
        *[(birth_year.between(end_year - high, end_year - low), literal(label)) for label, low, high in AGE_BANDS],
        else_=None,
    )


def customer_dimensions(by: Sequence[str], filters: Filters, month: ColumnElement | None) -> list[ColumnElement]:
    """Labelled dimension columns for a source joined to `customers` (and to `provinces`
    when macro_region is asked for: see with_customer())."""
    available = {
        "month": month,
        "province_code": customers.c.province_code,
        "macro_region": provinces.c.macro_region,
        "segment": customers.c.segment,
        "plan": customers.c.plan,
        "area_type": customers.c.area_type,
        "age_band": age_band(customers.c.birth_year, filters.end_month.year),
    }
    return [_labelled(available, name) for name in by]


def province_dimensions(by: Sequence[str], province_code: ColumnElement, month: ColumnElement) -> list[ColumnElement]:
    """Labelled dimension columns for a source with a province but no customer."""
    available = {"month": month, "province_code": province_code, "macro_region": provinces.c.macro_region}
    return [_labelled(available, name) for name in by]


def _labelled(available: Mapping[str, ColumnElement | None], name: str) -> ColumnElement:
    expression = available.get(name)
    if expression is None:
        raise ValueError(f"dimension {name!r} is not available for this source")
    return expression.label(name)


def with_customer(source: FromClause, customer_id: ColumnElement, by: Sequence[str]) -> FromClause:
    """Join a fact source to its customer (and the customer's province for macro_region)."""
    joined = source.join(customers, customers.c.customer_id == customer_id)
    if "macro_region" in by:
        joined = joined.join(provinces, provinces.c.province_code == customers.c.province_code)
    return joined


def customer_scope(filters: Filters, scope: Scope) -> ColumnElement[bool]:
    """Every customer-based select carries this: the filters intersected with the role scope."""
    return customer_conditions(filters, scope, customers, provinces)


def province_scope(province_code: ColumnElement, filters: Filters, scope: Scope) -> ColumnElement[bool]:
    """Scope for sources without a customer: provinces (intersected with the role scope) and
    regions. Customer-dimension filters cannot apply (see Measure.customer_filters)."""
    condition = province_condition(province_code, filters, scope)
    if filters.regions:
        in_regions = select(provinces.c.province_code).where(provinces.c.macro_region.in_(filters.regions))
        condition = condition & province_code.in_(in_regions)
    return condition


def with_province(source: FromClause, province_code: ColumnElement, by: Sequence[str]) -> FromClause:
    if "macro_region" in by:
        return source.join(provinces, provinces.c.province_code == province_code)
    return source


# --- aggregation --------------------------------------------------------------------


def count_if(condition: ColumnElement[bool]) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def sum_if(condition: ColumnElement[bool], amount: ColumnElement) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, amount), else_=0)), 0)


def total(amount: ColumnElement) -> ColumnElement:
    return func.coalesce(func.sum(amount), 0)


Columns = Mapping[str, ColumnElement]


def summarise(
    facts: Subquery,
    by: Sequence[str],
    aggregates: Mapping[str, Callable[[Columns], ColumnElement]],
    value: Callable[[Columns], ColumnElement],
    *,
    months: Sequence[date] | None = None,
    additive: Iterable[str] | None = None,
    derived: Mapping[str, Callable[[Columns], ColumnElement]] | None = None,
) -> Select:
    """Group `facts` by `by`, aggregate, and compute `value`: columns [*by, value, *aggregates].

    `value` receives the aggregates and the dimension columns, by name. Aggregates whose
    name starts with "_" feed `value` but are not returned.

    With by == ('month',) and `months` given, every month appears (left join from the month
    spine); additive aggregates (all by default) read 0 in a month without facts.
    Every number comes back as double precision, so the result has one dtype per column on
    both engines (PostgreSQL's sum(bigint) would otherwise be a Decimal).
    """
    keys = [facts.c[name] for name in by]
    grouped = (
        select(*keys, *(build(facts.c).label(name) for name, build in aggregates.items()))
        .select_from(facts)
        .group_by(*keys)
        .subquery("grouped")
    )
    columns: dict[str, ColumnElement] = {name: grouped.c[name] for name in aggregates}
    dimensions = [grouped.c[name] for name in by]
    source: FromClause = grouped
    if months is not None and tuple(by) == ("month",):
        spine = month_spine(months, name="all_months")
        source = spine.outerjoin(grouped, grouped.c.month == spine.c.month)
        dimensions = [spine.c.month]
        zero_filled = set(aggregates if additive is None else additive)
        columns = {
            name: (func.coalesce(expression, 0) if name in zero_filled else expression)
            for name, expression in columns.items()
        }
    named_dimensions = dict(zip(by, dimensions, strict=True))
    shown = {name: expression for name, expression in columns.items() if not name.startswith("_")}
    available = {**named_dimensions, **columns}
    return (
        select(
            *(dimension.label(name) for name, dimension in named_dimensions.items()),
            as_double(value(available)).label("value"),
            *(as_double(expression).label(name) for name, expression in shown.items()),
            *(as_double(build(available)).label(name) for name, build in (derived or {}).items()),
        )
        .select_from(source)
        .order_by(*dimensions)
    )


def share_of_total(by: Sequence[str], *, positive_whole: bool = False) -> Callable[[Columns], ColumnElement]:
    """value = the group's numerator ÷ the sum over every group of the same month (or of the
    whole result): a share within the filtered set, 1.0 when nothing is broken down.

    positive_whole: the numerator may be negative (net revenue after credits and refunds), so
    the whole may be zero or below; a share of that says nothing, so it is NULL. A negative
    group within a positive whole keeps its negative share: the shares still add up to 1."""

    def value(columns: Columns) -> ColumnElement:
        window = func.sum(columns["numerator"])
        whole = window.over(partition_by=columns["month"]) if "month" in by else window.over()
        if positive_whole:
            whole = case((whole > 0, whole))  # no else: NULL
        return ratio(columns["numerator"], whole)

    return value
