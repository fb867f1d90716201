"""Selects for the Customers page: who the customers are, what they are worth, who is "big".

Every function takes (filters, scope) and returns a Select; the scope is intersected
with the filters in every one (queries.filters.customer_conditions through
measures_base.customer_scope). KPIs come from the registry (queries.metrics); what the
registry has no dimension for (services held, tenure band, key accounts, the top-revenue
rule, the customer list) is built here with the registry's one rule for "active":

    active at the end of month M: activated_on < M+1 and (churned_on is NULL or churned_on ≥ M+1)

Tests check that these selects agree with the registry where both answer (e.g. the
services and tenure mixes add up to active_customers).
"""

from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Select,
    String,
    Subquery,
    and_,
    case,
    column,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    values,
)

from queries.filters import Filters, Scope, add_months, customer_conditions
from queries.marts import (
    LISTED_CUSTOMER_COLUMNS,
    answered_from_mart,
    mart_big_customers,
    mart_customer_list,
)
from queries.marts import customers as customers_mart
from queries.marts.reading import grain
from queries.measures_base import customer_dimensions, customer_scope, period_bounds, with_province
from queries.metrics import measure_select
from queries.rules import TENURE_BANDS, TOP_REVENUE_SHARE, TOP_REVENUE_WINDOW_MONTHS
from queries.sql_functions import as_double, month_start, ratio
from queries.tables import customers, provinces, revenue_monthly
from queries.value_labels import labelled

c = customers.c
r = revenue_monthly.c

# Dimensions of the customer mix: the registry's customer dimensions, plus two built here.
REGISTRY_MIX_DIMENSIONS: tuple[str, ...] = ("segment", "macro_region", "province_code", "age_band", "plan", "area_type")
MIX_DIMENSIONS: tuple[str, ...] = (*REGISTRY_MIX_DIMENSIONS, "services", "tenure_band")
# Service flag column -> member name in the services mix (a customer may hold several).
SERVICES: dict[str, str] = {
    "has_mobile": "mobile",
    "has_home_internet": "home_internet",
    "has_tv": "tv",
    "has_enterprise_solutions": "enterprise_solutions",
}
TENURE_BAND_LABELS: tuple[str, ...] = tuple(label for label, _, _ in TENURE_BANDS)
# The remote-area view: customers, value and service indicators by area type.
AREA_MEASURES: tuple[str, ...] = (
    "active_customers",
    "customer_share",
    "revenue",
    "revenue_share",
    "arpu",
    "churn_rate",
    "complaint_rate",
    "sla_share",
    "nps",
)
PERIODS = ("current", "comparison")
# The customer group of the big-customer mart (queries.marts.mart_big_customers).
BIG_CUSTOMER_DIMENSIONS: tuple[str, ...] = ("province_code", "segment", "plan", "area_type", "birth_year")


def _text(value: str):
    return literal(value, String)


def month_after(month: date) -> date:
    return add_months(month, 1)


def active_at_end(filters: Filters) -> ColumnElement[bool]:
    """Active on the last day of the period (the registry's rule, see the module docstring)."""
    stop = month_after(filters.end_month)
    return and_(c.activated_on < stop, or_(c.churned_on.is_(None), c.churned_on >= stop))


def tenure_edges(as_of_month: date) -> dict[int, date]:
    """Tenure in months = as-of month − activation month, so tenure ≥ L ⇔ activated_on <
    first day of (as-of month − L + 1): for each band's lower bound L, that first day."""
    return {low: add_months(as_of_month, 1 - low) for _, low, _ in TENURE_BANDS}


def tenure_band(activated_on: ColumnElement, edges: dict[int, ColumnElement | date]) -> ColumnElement:
    """Tenure band label (queries.rules.TENURE_BANDS) from the edges of tenure_edges (dates,
    bound as parameters, or the columns of a month spine holding them)."""
    ordered = sorted(TENURE_BANDS, key=lambda band: band[1], reverse=True)
    return case(
        *[(activated_on < edges[low], literal(label)) for label, low, _ in ordered if low > 0],
        else_=literal(ordered[-1][0]),
    )


# --- the mix ------------------------------------------------------------------------------


def _registry_mix(filters: Filters, scope: Scope, dimension: str, period: str) -> Select:
    shares = measure_select("customer_share", filters, scope, by=(dimension,)).subquery()
    return select(
        shares.c[dimension].label("member"),
        _text(period).label("period"),
        shares.c.numerator.label("customers"),
        shares.c.value.label("share"),
    )


def _services_mix(filters: Filters, scope: Scope, period: str) -> Select:
    """One row per service: active customers at the period end holding it, and their share
    of all active customers (a customer may hold several, so shares do not add up to 1)."""
    base = (
        select(*(c[flag] for flag in SERVICES))
        .select_from(customers)
        .where(customer_scope(filters, scope), active_at_end(filters))
        .subquery("base")
    )
    total = func.count()
    parts = [
        select(
            _text(member).label("member"),
            _text(period).label("period"),
            as_double(func.coalesce(func.sum(case((base.c[flag], 1), else_=0)), 0)).label("customers"),
            ratio(func.sum(case((base.c[flag], 1), else_=0)), total).label("share"),
        ).select_from(base)
        for flag, member in SERVICES.items()
    ]
    return union_all(*parts)


@answered_from_mart(customers_mart.customer_lifetimes)
def customer_lifetimes(filters: Filters, scope: Scope, by: Sequence[str] = ()) -> Subquery:
    """Customers in view by [*by, activated_month, left_month (NULL while active), customers]:
    one row per raw customer (customers = 1). Tenure, cohorts and survival are month
    arithmetic on these."""
    return (
        select(
            *customer_dimensions(by, filters, None),
            month_start(c.activated_on).label("activated_month"),
            month_start(c.churned_on).label("left_month"),
            literal(1).label("customers"),
        )
        .select_from(with_province(customers, c.province_code, by))
        .where(customer_scope(filters, scope))
        .subquery("lifetimes")
    )


def _tenure_mix(filters: Filters, scope: Scope, period: str) -> Select:
    lifetimes = customer_lifetimes(filters, scope)
    end = filters.end_month
    active = and_(
        lifetimes.c.activated_month <= end, or_(lifetimes.c.left_month.is_(None), lifetimes.c.left_month > end)
    )
    member = tenure_band(lifetimes.c.activated_month, tenure_edges(end)).label("member")
    count = as_double(func.sum(lifetimes.c.customers))
    return (
        select(
            member,
            _text(period).label("period"),
            count.label("customers"),
            (count / func.nullif(func.sum(count).over(), 0.0)).label("share"),
        )
        .where(active)
        .group_by(member)
    )


def mix_select(filters: Filters, scope: Scope, dimension: str) -> Select:
    """The customer base at the period end by one dimension, in the period and in the
    comparison period: rows (member, period 'current'|'comparison', customers, share).

    member is the raw value (segment, province code, region, age band, plan, area type,
    service name of SERVICES, tenure band label). share is of the active customers in view
    (for services: of all active customers, since one may hold several).
    """
    if dimension not in MIX_DIMENSIONS:
        raise ValueError(f"unknown mix dimension {dimension!r}; choose from {MIX_DIMENSIONS}")
    parts = []
    for period, period_filters in zip(PERIODS, (filters, filters.comparison_filters()), strict=True):
        if dimension == "services":
            part = _services_mix(period_filters, scope, period)
        elif dimension == "tenure_band":
            part = _tenure_mix(period_filters, scope, period)
        else:
            part = _registry_mix(period_filters, scope, dimension, period)
        parts.append(part.subquery())
    columns = ("member", "period", "customers", "share")
    return union_all(*(select(*(part.c[name] for name in columns)) for part in parts))


# --- value by segment ---------------------------------------------------------------------


def segment_value_select(filters: Filters, scope: Scope) -> Select:
    """Customer share against revenue share by segment, with customers, revenue and ARPU:
    rows (segment, customers, customer_share, revenue, revenue_share, arpu), all registry
    measures (customer_share at the period end, revenue measures over the period)."""
    customers_part = measure_select("customer_share", filters, scope, by=("segment",)).subquery("cs")
    revenue_part = measure_select("revenue_share", filters, scope, by=("segment",)).subquery("rs")
    arpu_part = measure_select("arpu", filters, scope, by=("segment",)).subquery("ap")
    segment = func.coalesce(customers_part.c.segment, revenue_part.c.segment)
    joined = customers_part.join(revenue_part, customers_part.c.segment == revenue_part.c.segment, full=True).join(
        arpu_part, arpu_part.c.segment == segment, isouter=True
    )
    return (
        select(
            segment.label("segment"),
            func.coalesce(customers_part.c.numerator, 0.0).label("customers"),
            customers_part.c.value.label("customer_share"),
            func.coalesce(revenue_part.c.numerator, 0.0).label("revenue"),
            revenue_part.c.value.label("revenue_share"),
            arpu_part.c.value.label("arpu"),
        )
        .select_from(joined)
        .order_by(segment)
    )


# --- big customers ------------------------------------------------------------------------


def revenue_window(end_month: date) -> tuple[date, date]:
    """[first month, first day after the end month) of the top-revenue window."""
    stop = month_after(end_month)
    return add_months(stop, -TOP_REVENUE_WINDOW_MONTHS), stop


def revenue_last_12m(end_month: date) -> Subquery:
    """Per customer: revenue over the window ending with `end_month`."""
    start, stop = revenue_window(end_month)
    return (
        select(r.customer_id, func.sum(r.revenue_vnd).label("revenue_12m"))
        .where(r.revenue_month >= start, r.revenue_month < stop)
        .group_by(r.customer_id)
        .subquery("revenue_12m")
    )


def ranked_customers(end_month: date) -> Subquery:
    """Every customer of the operator active at the end of `end_month` (no filter, no scope:
    the rank is the operator's, queries.rules): the customer dimensions, is_key_account,
    is_top_revenue (cume_dist over revenue descending ≤ TOP_REVENUE_SHARE) and revenue_12m.
    The refresh step counts these into queries.marts.mart_big_customers; the raw path
    (marts off) reads them directly."""
    revenue = revenue_last_12m(end_month)
    amount = func.coalesce(revenue.c.revenue_12m, 0)
    stop = month_after(end_month)
    return (
        select(
            *(c[name] for name in BIG_CUSTOMER_DIMENSIONS),
            c.is_key_account,
            (func.cume_dist().over(order_by=amount.desc()) <= TOP_REVENUE_SHARE).label("is_top_revenue"),
            amount.label("revenue_12m"),
        )
        .select_from(customers.outerjoin(revenue, revenue.c.customer_id == c.customer_id))
        .where(c.activated_on < stop, or_(c.churned_on.is_(None), c.churned_on >= stop))
        .subquery("ranked")
    )


@answered_from_mart(customers_mart.big_customer_rows)
def big_customer_rows(
    filters: Filters, end_month: date
) -> tuple[FromClause, ColumnElement, ColumnElement, ColumnElement[bool]]:
    """(rows, customers, revenue over 12 months, condition) of the customers active at the
    end of `end_month`: the ranked raw customers, one row each."""
    source = ranked_customers(end_month)
    return source, literal(1), source.c.revenue_12m, true()


def big_customer_counts(filters: Filters, scope: Scope, end_month: date) -> Subquery:
    """Customers in view active at the end of `end_month`, grouped: [province_code, segment,
    month, is_key (0/1), is_top (0/1), customers, revenue_12m]: from the mart, or counted
    from the ranked raw customers when the marts are off (the same rows either way)."""
    source, customers_column, revenue_column, condition = big_customer_rows(filters, end_month)
    return (
        select(
            source.c.province_code,
            source.c.segment,
            literal(end_month, Date).label("month"),
            case((source.c.is_key_account, 1), else_=0).label("is_key"),
            case((source.c.is_top_revenue, 1), else_=0).label("is_top"),
            as_double(customers_column).label("customers"),
            as_double(revenue_column).label("revenue_12m"),
        )
        .where(condition, customer_conditions(filters, scope, source, provinces))
        .subquery("big")
    )


def big_customers_select(filters: Filters, scope: Scope, by: Sequence[str] = ()) -> Select:
    """Big customers at the period end: [*by, key_accounts, top_revenue, big_customers,
    big_revenue_12m, revenue_12m]. by ⊂ (province_code, segment). big = key account OR top
    revenue (the article's "khách hàng lớn"); the revenue columns cover the window."""
    unknown = set(by) - {"province_code", "segment"}
    if unknown:
        raise ValueError(f"big customers cannot be broken down by {sorted(unknown)}")
    facts = big_customer_counts(filters, scope, filters.end_month)
    big = case((or_(facts.c.is_key == 1, facts.c.is_top == 1), facts.c.customers), else_=0.0)
    big_revenue = case((or_(facts.c.is_key == 1, facts.c.is_top == 1), facts.c.revenue_12m), else_=0.0)
    keys = [facts.c[name] for name in by]
    return (
        select(
            *keys,
            func.coalesce(func.sum(facts.c.is_key * facts.c.customers), 0.0).label("key_accounts"),
            func.coalesce(func.sum(facts.c.is_top * facts.c.customers), 0.0).label("top_revenue"),
            func.coalesce(func.sum(big), 0.0).label("big_customers"),
            func.coalesce(func.sum(big_revenue), 0.0).label("big_revenue_12m"),
            func.coalesce(func.sum(facts.c.revenue_12m), 0.0).label("revenue_12m"),
        )
        .group_by(*keys)
        .order_by(*keys)
    )


def _key_account_counts_on_mart(filters: Filters, scope: Scope, month_list: list[date]) -> Subquery:
    """Key accounts per month from mart_big_customers (counted per customer group)."""
    mart = grain(mart_big_customers, filters, ())
    counts = (
        select(mart.c.month, func.sum(mart.c.customers).label("key_accounts"))
        .where(
            mart.c.month.in_(month_list),
            mart.c.is_key_account,
            customer_conditions(filters, scope, mart, provinces),
        )
        .group_by(mart.c.month)
        .subquery("counts")
    )
    return counts


@answered_from_mart(_key_account_counts_on_mart)
def _key_account_counts(filters: Filters, scope: Scope, month_list: list[date]) -> Subquery:
    """(month, key_accounts): key accounts active at each month end, from the customers table."""
    spine = values(column("month", Date), column("next_month", Date), name="key_months").data(
        [(month, month_after(month)) for month in month_list]
    )
    active = and_(c.activated_on < spine.c.next_month, or_(c.churned_on.is_(None), c.churned_on >= spine.c.next_month))
    counts = (
        select(spine.c.month.label("month"), func.count().label("key_accounts"))
        .select_from(customers.join(spine, active))
        .where(customer_scope(filters, scope), c.is_key_account)
        .group_by(spine.c.month)
        .subquery("counts")
    )
    return counts


def key_accounts_trend_select(filters: Filters, scope: Scope, months: int = 12) -> Select:
    """Key accounts active at each month end of the `months` months ending with the period
    end: rows (month, value). (The top-revenue group is a fixed share of the operator by
    construction, so its count has no national trend worth drawing; key accounts carry
    the big-customer trend.)"""
    month_list = [add_months(filters.end_month, offset) for offset in range(-(months - 1), 1)]
    counts = _key_account_counts(filters, scope, month_list)
    every_month = values(column("month", Date), name="trend_months").data([(month,) for month in month_list])
    return (
        select(every_month.c.month, as_double(func.coalesce(counts.c.key_accounts, 0)).label("value"))
        .select_from(every_month.outerjoin(counts, counts.c.month == every_month.c.month))
        .order_by(every_month.c.month)
    )


# --- areas --------------------------------------------------------------------------------


def area_view_select(filters: Filters, scope: Scope, names: Sequence[str] = AREA_MEASURES) -> Select:
    """Each measure by area type (urban, rural, remote, unknown): rows (measure, area_type, value)."""
    parts = []
    for name in names:
        values_ = measure_select(name, filters, scope, by=("area_type",)).subquery()
        parts.append(select(_text(name).label("measure"), values_.c.area_type, values_.c.value))
    return union_all(*parts)


# --- the customer list (drill-down) -------------------------------------------------------

LIST_COLUMNS: tuple[str, ...] = (
    "customer_key",
    "full_name",
    "phone",
    "segment",
    "province_code",
    "province",
    "plan",
    "activated_on",
    "status",
    "revenue_12m",
)


def listed_customers(end_month: date) -> Select:
    """Every customer with the columns the list shows and filters on (LISTED_CUSTOMER_COLUMNS),
    month (= end_month) and revenue_12m_vnd over the 12 months ending with it (0 without
    revenue). The refresh step stores it for the last month of data (mart_customer_list)."""
    revenue = revenue_last_12m(end_month)
    return select(
        *(c[name] for name in LISTED_CUSTOMER_COLUMNS),
        literal(end_month, Date).label("month"),
        func.coalesce(revenue.c.revenue_12m, 0).label("revenue_12m_vnd"),
    ).select_from(customers.outerjoin(revenue, revenue.c.customer_id == c.customer_id))


def ranked_month_select() -> Select:
    """One row (month): the month mart_customer_list ranks (none when it is empty). Read
    from the mart itself, so a list never takes the mart for a month it does not hold."""
    return select(mart_customer_list.c.month).limit(1)


def _customer_list_on_mart(end_month: date, ranked_month: date | None) -> FromClause:
    """mart_customer_list when it ranks `end_month`; a month it does not hold is ranked raw."""
    return mart_customer_list if ranked_month == end_month else listed_customers(end_month).subquery("listed")


@answered_from_mart(_customer_list_on_mart)
def customer_list_source(end_month: date, ranked_month: date | None) -> FromClause:
    """listed_customers(end_month): from the mart when it ranks that month (`ranked_month`,
    read with ranked_month_select), else computed from the raw tables."""
    return listed_customers(end_month).subquery("listed")


def customer_list_select(
    filters: Filters,
    scope: Scope,
    *,
    province_code: str | None = None,
    segment: str | None = None,
    lang: str = "vi",
    value_labels: Mapping[str, Mapping[str, str]] | None = None,
    ranked_month: date | None = None,
) -> Select:
    """Customers in view who were active at some time in the period, optionally of one
    province and/or one segment (both still intersected with the filters and the scope):
    columns LIST_COLUMNS (the customer shown by the operator's own key), biggest revenue over
    the 12 months ending at the period end first, then by id (a stable order for paging).
    status is as of the period end (active/churned). `province` is the short name in `lang`;
    value_labels ({"segment"|"plan"|"status": {code: label}}) shows codes as labels.
    `ranked_month` (ranked_month_select) lets a period ending then read the ranked mart. No
    limit here: the paged list adds LIMIT/OFFSET in the warehouse."""
    start, stop = period_bounds(filters)
    listed = customer_list_source(filters.end_month, ranked_month)
    labels = value_labels or {}
    conditions = [
        customer_conditions(filters, scope, listed, provinces),
        listed.c.month == filters.end_month,
        listed.c.activated_on < stop,
        or_(listed.c.churned_on.is_(None), listed.c.churned_on >= start),
    ]
    if province_code is not None:
        conditions.append(listed.c.province_code == province_code)
    if segment is not None:
        conditions.append(listed.c.segment == segment)
    amount = as_double(listed.c.revenue_12m_vnd)
    status = case((listed.c.churned_on < stop, literal("churned", String)), else_=literal("active", String))
    province_name = provinces.c.name_en if lang == "en" else provinces.c.name_vi
    return (
        select(
            listed.c.customer_key,
            listed.c.full_name,
            listed.c.phone,
            labelled(listed.c.segment, labels.get("segment")).label("segment"),
            listed.c.province_code,
            province_name.label("province"),
            labelled(listed.c.plan, labels.get("plan")).label("plan"),
            listed.c.activated_on,
            labelled(status, labels.get("status")).label("status"),
            amount.label("revenue_12m"),
        )
        .select_from(listed.join(provinces, provinces.c.province_code == listed.c.province_code))
        .where(*conditions)
        .order_by(amount.desc(), listed.c.customer_id)
    )
