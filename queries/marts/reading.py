"""Helpers for reading any mart: its grain (fine or rolled up), its dimension columns, the
filters and role scope on its copy of the customer's columns, raw rules rewritten onto it.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Column, ColumnElement, FromClause, Table, and_, case
from sqlalchemy.sql import visitors

from queries.filters import Filters, Scope, customer_conditions
from queries.marts.base import rollup_named
from queries.measures_base import age_band
from queries.tables import provinces


def needs_birth_year(filters: Filters, by: Sequence[str]) -> bool:
    return bool(filters.age_bands) or "age_band" in by


def grain(fine: Table, filters: Filters, by: Sequence[str]) -> Table:
    """The fine (birth-year) mart when an age band is filtered or broken down, else its rollup."""
    return fine if needs_birth_year(filters, by) else rollup_named(fine)


def mart_dimensions(by: Sequence[str], filters: Filters, mart: Table, month: ColumnElement) -> list[ColumnElement]:
    """Labelled dimension columns of a mart row (as queries.measures_base.customer_dimensions)."""
    available = {
        "month": month,
        "province_code": mart.c.province_code,
        "macro_region": provinces.c.macro_region,
        "segment": mart.c.segment,
        "plan": mart.c.plan,
        "area_type": mart.c.area_type,
    }
    if "birth_year" in mart.c:
        available["age_band"] = age_band(mart.c.birth_year, filters.end_month.year)
    columns = []
    for name in by:
        if name not in available:
            raise ValueError(f"dimension {name!r} is not available for {mart.name}")
        columns.append(available[name].label(name))
    return columns


def mart_scope(filters: Filters, scope: Scope, mart: Table) -> ColumnElement[bool]:
    """The customer filters ∩ the role scope, on the mart's copy of the customer's columns."""
    return customer_conditions(filters, scope, mart, provinces)


def with_region(mart: Table, by: Sequence[str]) -> FromClause:
    if "macro_region" in by:
        return mart.join(provinces, provinces.c.province_code == mart.c.province_code)
    return mart


def in_months(month: ColumnElement, months: Sequence[date]) -> ColumnElement[bool]:
    """Months of a spine are consecutive: a range, two bound parameters."""
    return and_(month >= min(months), month <= max(months))


def flag(condition: ColumnElement[bool]) -> ColumnElement:
    return case((condition, 1), else_=0)


def on_mart(expression: ColumnElement, mart: Table, *sources: Table) -> ColumnElement:
    """The same expression with the raw tables' columns replaced by the mart's columns of
    the same name: a rule written once for the raw tables (e.g. the SLA target) applies
    to the mart unchanged."""

    def replace(element):
        if isinstance(element, Column) and element.table in sources and element.name in mart.c:
            return mart.c[element.name]
        return None

    return visitors.replacement_traverse(expression, {}, replace)
