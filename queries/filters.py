"""The one value that carries every filter, and the role scope it is intersected with.

Both are frozen so they can key caches. Empty tuples mean "no restriction".
Where-clauses built here use bound parameters only; column names come from the
table definitions, never from user input.
"""

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Table, and_, false, or_, true

from queries.tables import AREA_TYPES, PLANS, SEGMENTS

# Age bands of adult customers: (label, min age, max age inclusive). Age is the age
# reached in the calendar year of the period end: end_year - birth_year.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, 120),
)
AGE_BAND_LABELS = tuple(label for label, _, _ in AGE_BANDS)
COMPARISONS = ("previous", "last_year")


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    """Last day of the month holding ``day``."""
    return add_months(day.replace(day=1), 1) - timedelta(days=1)


def months_between(start: date, end: date) -> int:
    """Number of months in the inclusive range start..end (both first-of-month)."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


@dataclass(frozen=True)
class Filters:
    start_month: date
    end_month: date
    comparison: str = "previous"
    regions: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()
    area_types: tuple[str, ...] = ()

    @property
    def month_count(self) -> int:
        return months_between(self.start_month, self.end_month)

    def comparison_filters(self) -> "Filters":
        """The same view over the comparison period (previous period or same period last year)."""
        shift = -self.month_count if self.comparison == "previous" else -12
        return replace(
            self,
            start_month=add_months(self.start_month, shift),
            end_month=add_months(self.end_month, shift),
        )


@dataclass(frozen=True)
class Scope:
    """What the logged-in user may see. provinces=None means every province."""

    role: str = "executive"
    provinces: frozenset[str] | None = None
    can_list_customers: bool = True
    mask_personal_data: bool = False
    user: str = field(default="", compare=True)


UNRESTRICTED = Scope()


def allowed_provinces(filters: Filters, scope: Scope) -> frozenset[str] | None:
    """Provinces a query may touch: the filter intersected with the scope (None = all)."""
    chosen = frozenset(filters.provinces) if filters.provinces else None
    if scope.provinces is None:
        return chosen
    if chosen is None:
        return scope.provinces
    return chosen & scope.provinces


def province_condition(column, filters: Filters, scope: Scope) -> ColumnElement[bool]:
    allowed = allowed_provinces(filters, scope)
    if allowed is None:
        return true()
    if not allowed:
        return false()
    return column.in_(sorted(allowed))


def customer_conditions(filters: Filters, scope: Scope, customers: Table, provinces: Table) -> ColumnElement[bool]:
    """Conditions on the customer dimensions. The caller joins `provinces` when regions are set."""
    end_year = filters.end_month.year
    conditions = [province_condition(customers.c.province_code, filters, scope)]
    if filters.regions:
        conditions.append(
            customers.c.province_code.in_(
                provinces.select()
                .with_only_columns(provinces.c.province_code)
                .where(provinces.c.macro_region.in_(filters.regions))
            )
        )
    for values, column, accepted in (
        (filters.segments, customers.c.segment, SEGMENTS),
        (filters.plans, customers.c.plan, PLANS),
        (filters.area_types, customers.c.area_type, AREA_TYPES),
    ):
        if values:
            conditions.append(column.in_([value for value in values if value in accepted]))
    if filters.age_bands:
        bands = [
            customers.c.birth_year.between(end_year - high, end_year - low)
            for label, low, high in AGE_BANDS
            if label in filters.age_bands
        ]
        conditions.append(or_(*bands) if bands else false())
    return and_(*conditions)
