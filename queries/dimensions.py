"""Selects for the filter widgets and the freshness stamp: which provinces, which months,
data through when. Provinces are always limited to the role scope (the UI only hides
what this layer already refuses)."""

from datetime import date

from sqlalchemy import Connection, Date, Engine, Select, cast, false, func, select, true, union_all

from queries.filters import AGE_BAND_LABELS, Scope
from queries.run import run
from queries.sql_functions import month_start
from queries.tables import (
    AREA_TYPES,
    MACRO_REGIONS,
    PLANS,
    SEGMENTS,
    bills,
    care_contacts_monthly,
    churn_events,
    complaints,
    provinces,
    revenue_monthly,
    surveys,
    warehouse_meta,
)

# Option lists that do not depend on the data (accepted values of the schema).
STATIC_OPTIONS: dict[str, tuple[str, ...]] = {
    "regions": MACRO_REGIONS,
    "segments": SEGMENTS,
    "plans": PLANS,
    "area_types": AREA_TYPES,
    "age_bands": AGE_BAND_LABELS,
}


def _meta_value(key: str):
    return select(warehouse_meta.c.value).where(warehouse_meta.c.key == key).scalar_subquery()


def freshness_select() -> Select:
    """One row: data_through (DATE, first day of the last complete month: warehouse_meta's
    'data_through', else the latest revenue month), loaded_at and data_version (text, NULL
    when the loader did not record them)."""
    latest_revenue_month = select(func.max(revenue_monthly.c.revenue_month)).scalar_subquery()
    recorded = cast(_meta_value("data_through"), Date)
    return select(
        cast(func.coalesce(recorded, latest_revenue_month), Date).label("data_through"),
        _meta_value("loaded_at").label("loaded_at"),
        _meta_value("data_version").label("data_version"),
    )


def data_through(connection_or_engine: Connection | Engine) -> date | None:
    """First day of the last complete month in the warehouse (None when it holds no data)."""
    frame = run(freshness_select(), connection_or_engine)
    return frame["data_through"][0] if frame.height else None


# Dated facts that show which months hold data when there is no revenue. Revenue is the usual
# measure of the window (every active customer-month has a row), but an extract without it
# still has customers, churn, complaints … for the pages to show: saying "no data yet" then
# would be false. Each date counts for the month it falls in.
MONTHS_WITHOUT_REVENUE = (
    churn_events.c.churned_on,
    complaints.c.opened_at,
    bills.c.bill_month,
    surveys.c.surveyed_on,
    care_contacts_monthly.c.contact_month,
)


def month_range_select() -> Select:
    """One row: first_month, last_month (DATEs, first days; NULL when unknown).

    With revenue: its first and last month. Without: first_month is the earliest month of
    the other dated facts (MONTHS_WITHOUT_REVENUE) and last_month is NULL, since no monthly
    table then marks the end: the caller ends the months at data_through (freshness_select).
    The fallback is only evaluated without revenue (COALESCE stops at the first value)."""
    earliest = union_all(*(select(month_start(func.min(column)).label("month")) for column in MONTHS_WITHOUT_REVENUE))
    earliest = earliest.subquery("earliest_facts")
    first_revenue = select(func.min(revenue_monthly.c.revenue_month)).scalar_subquery()
    first_fact = select(func.min(earliest.c.month)).scalar_subquery()
    return select(
        cast(func.coalesce(first_revenue, first_fact), Date).label("first_month"),
        select(func.max(revenue_monthly.c.revenue_month)).scalar_subquery().label("last_month"),
    )


def _scope_condition(scope: Scope):
    if scope.provinces is None:
        return true()
    if not scope.provinces:
        return false()
    return provinces.c.province_code.in_(sorted(scope.provinces))


def province_options_select(scope: Scope) -> Select:
    """The provinces inside the scope: province_code, name_vi, name_en, macro_region,
    sub_region, population, lat, lon (centroid, for the map); north to south by code."""
    p = provinces.c
    return (
        select(p.province_code, p.name_vi, p.name_en, p.macro_region, p.sub_region, p.population, p.lat, p.lon)
        .where(_scope_condition(scope))
        .order_by(p.province_code)
    )


def region_options_select(scope: Scope) -> Select:
    """The macro regions (Bắc, Trung, Nam) that hold at least one province of the scope."""
    return select(provinces.c.macro_region).where(_scope_condition(scope)).distinct().order_by(provinces.c.macro_region)
