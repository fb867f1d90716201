"""Selects for the Complaints page that the registry has no dimension for.

The registry (queries/metrics.py) answers the KPIs by month and by customer dimensions
(province, segment, area type …). The page also needs complaint-side dimensions
(category, channel, departments involved, SLA class), the distribution of handling
times, the complaints breaching their SLA now, and the care channels' volumes. They are
built here from the registry's own pieces, so each rule exists once:

- which complaints: opened in the period (volume, acknowledgement), resolved in the period
  (resolution, SLA, quality), open at the period end (backlog, breaches), as in
  queries/measures_complaints.py, whose fact subqueries are reused where they fit;
- the SLA target of a complaint: queries.sla.sla_target_hours (the named settings of
  queries/rules.py), for the SLA shares and the breaches alike;
- the scope: measures_base.customer_scope (filters ∩ role scope) on every customer-based
  select, measures_base.province_scope on care_contacts_monthly (no customer there).

Every function returns a Select; nothing is executed here.
"""

from collections.abc import Callable, Sequence

from sqlalchemy import (
    ColumnElement,
    Double,
    FromClause,
    Integer,
    Select,
    and_,
    case,
    column,
    func,
    literal,
    or_,
    select,
    values,
)

from queries.filters import Filters, Scope
from queries.marts import answered_from_mart, mart_complaints
from queries.marts import customer_month as customer_month_mart
from queries.marts.reading import mart_scope, on_mart, with_region
from queries.measures_base import (
    DIMENSIONS,
    customer_dimensions,
    customer_scope,
    period_bounds,
    province_scope,
    timestamp_bounds,
    with_customer,
)
from queries.measures_complaints import opened_facts, resolved_facts
from queries.rules import COMPLAINT_RATE_MONTHS
from queries.sla import sla_target_hours
from queries.sql_functions import as_double, hours_between, month_start, percentile, ratio
from queries.tables import care_contacts_monthly, complaints, customers, provinces, revenue_monthly
from queries.value_labels import Labels, column_labels, labelled

k = complaints.c
c = customers.c

SLA_CLASSES: tuple[str, ...] = ("key_account", "billing", "other")


def sla_class() -> ColumnElement:
    """Which target applies (same order of precedence as queries.sla.sla_target_hours)."""
    return case(
        (c.is_key_account, literal("key_account")),
        (k.category == "billing", literal("billing")),
        else_=literal("other"),
    )


# Complaint-side dimensions: name -> expression (built when asked, so rules are read then).
TOPIC_DIMENSIONS: dict[str, Callable[[], ColumnElement]] = {
    "category": lambda: k.category,
    "channel": lambda: k.channel,
    "departments_involved": lambda: k.departments_involved,
    "sla_class": sla_class,
}
COMPLAINT_DIMENSIONS: tuple[str, ...] = (*DIMENSIONS, *TOPIC_DIMENSIONS)

# Histogram buckets of handling times, hours: (low, high] (the first includes 0; None = open).
# The acknowledgement buckets close at 48 h (the regulation); the resolution buckets at the
# SLA targets' usual values (10, 15, 30 days), so the bars read against them.
ACK_BUCKETS_H: tuple[tuple[float, float | None], ...] = (
    (0, 4),
    (4, 8),
    (8, 12),
    (12, 24),
    (24, 48),
    (48, 72),
    (72, None),
)
RESOLVE_BUCKETS_H: tuple[tuple[float, float | None], ...] = (
    (0, 1),
    (1, 4),
    (4, 12),
    (12, 24),
    (24, 48),
    (48, 72),
    (72, 120),
    (120, 240),
    (240, 360),
    (360, 720),
    (720, None),
)
TIME_DISTRIBUTIONS = ("acknowledge", "resolve")


def _validate(by: Sequence[str], allowed: Sequence[str] = COMPLAINT_DIMENSIONS) -> tuple[str, ...]:
    by = tuple(by)
    unknown = [name for name in by if name not in allowed]
    if unknown:
        raise ValueError(f"unknown complaint dimension(s) {unknown}; choose from {tuple(allowed)}")
    if len(set(by)) != len(by):
        raise ValueError(f"repeated dimension in {by}")
    return by


def _dimension_columns(by: Sequence[str], filters: Filters, month: ColumnElement) -> list[ColumnElement]:
    columns = []
    for name in by:
        if name in TOPIC_DIMENSIONS:
            columns.append(TOPIC_DIMENSIONS[name]().label(name))
        else:
            columns.extend(customer_dimensions([name], filters, month))
    return columns


def complaint_rows(
    columns: Sequence[ColumnElement],
    conditions: Sequence[ColumnElement],
    filters: Filters,
    scope: Scope,
    by: Sequence[str],
    joins: Sequence[tuple[FromClause, ColumnElement]] = (),
) -> Select:
    """select(columns) of the complaints meeting `conditions`, in view, one row per complaint
    (`joins`: more tables, each with its ON condition, e.g. the staff). The expressions are
    written on complaints (k) and customers (c); with the marts on they read
    queries.marts.mart_complaints instead, whose columns carry the same names (no join to
    the customers table), else complaints ⋈ customers."""
    source, in_view, on = _complaint_source(filters, scope, by)
    for table, condition in joins:
        source = source.join(table, on(condition))
    return select(*(on(column) for column in columns)).select_from(source).where(*map(on, conditions), in_view)


def _complaint_source_on_mart(filters: Filters, scope: Scope, by: Sequence[str]):
    """mart_complaints, its scope, and the expressions moved onto its columns."""
    mart = mart_complaints

    def on(expression):
        return on_mart(expression, mart, complaints, customers)

    return with_region(mart, by), mart_scope(filters, scope, mart), on


@answered_from_mart(_complaint_source_on_mart)
def _complaint_source(filters: Filters, scope: Scope, by: Sequence[str]):
    """(source, in-view condition, how an expression on complaints/customers reads on the
    source): complaints ⋈ customers, expressions as written."""
    return with_customer(complaints, k.customer_id, by), customer_scope(filters, scope), lambda expression: expression


@answered_from_mart(customer_month_mart.customer_months)
def _customer_months(filters: Filters, scope: Scope) -> ColumnElement:
    """Customer-months of the filtered base in the period (the complaint rate's denominator)."""
    r = revenue_monthly.c
    start, stop = period_bounds(filters)
    return (
        select(func.count())
        .select_from(revenue_monthly.join(customers, c.customer_id == r.customer_id))
        .where(r.revenue_month >= start, r.revenue_month < stop, customer_scope(filters, scope))
        .scalar_subquery()
    )


# --- volume -------------------------------------------------------------------------------


def complaint_volume_select(filters: Filters, scope: Scope, by: Sequence[str] = ()) -> Select:
    """Complaints opened in the period: [*by, value] (a count), groups with data only."""
    by = _validate(by)
    start, stop = timestamp_bounds(filters)
    columns = _dimension_columns(by, filters, month_start(k.opened_at))
    facts = complaint_rows(columns, [k.opened_at >= start, k.opened_at < stop], filters, scope, by).subquery("facts")
    keys = [facts.c[name] for name in by]
    return select(*keys, as_double(func.count()).label("value")).select_from(facts).group_by(*keys).order_by(*keys)


def complaint_rate_by_select(filters: Filters, scope: Scope, dimension: str) -> Select:
    """Complaint rate contributed by each category or channel: [dimension, value, numerator,
    denominator]; value = the member's complaints × 3 ÷ customer-months of the whole filtered
    base (registry complaint_rate's unit), so the members add up to complaint_rate."""
    _validate((dimension,), tuple(TOPIC_DIMENSIONS))
    counts = complaint_volume_select(filters, scope, (dimension,)).subquery("counts")
    base = _customer_months(filters, scope)
    return select(
        counts.c[dimension],
        ratio(counts.c.value * COMPLAINT_RATE_MONTHS, base).label("value"),
        counts.c.value.label("numerator"),
        as_double(base).label("denominator"),
    ).order_by(counts.c.value.desc(), counts.c[dimension])


def category_mix_select(filters: Filters, scope: Scope, dimension: str) -> Select:
    """Category mix of the complaints opened in the period within each member of a dimension:
    [dimension, category, value (count), share (of the member's complaints)]."""
    counts = complaint_volume_select(filters, scope, (dimension, "category")).subquery("counts")
    whole = func.sum(counts.c.value).over(partition_by=counts.c[dimension])
    return select(
        counts.c[dimension], counts.c.category, counts.c.value, ratio(counts.c.value, whole).label("share")
    ).order_by(counts.c[dimension], counts.c.category)


# --- time distributions ---------------------------------------------------------------------


def time_distribution_select(filters: Filters, scope: Scope, which: str) -> Select:
    """Histogram of handling times, bucketed in the warehouse: [bucket_order, low_h, high_h, value].

    which='acknowledge': hours from opened to first response, complaints opened in the period
    and acknowledged (the population of ack_time_median_h); 'resolve': hours from opened to
    resolved, complaints resolved in the period (that of resolve_time_median_h). A bucket
    holds hours in (low_h, high_h]; the first also holds 0; high_h NULL is open-ended. Every
    bucket has a row (0 when empty)."""
    if which not in TIME_DISTRIBUTIONS:
        raise ValueError(f"unknown time distribution {which!r}; choose from {TIME_DISTRIBUTIONS}")
    if which == "acknowledge":
        facts, edges = opened_facts(filters, scope, ()), ACK_BUCKETS_H
        hours = facts.c.ack_hours
    else:
        facts, edges = resolved_facts(filters, scope, ()), RESOLVE_BUCKETS_H
        hours = facts.c.resolve_hours
    buckets = values(
        column("bucket_order", Integer), column("low_h", Double), column("high_h", Double), name="buckets"
    ).data([(order, float(low), None if high is None else float(high)) for order, (low, high) in enumerate(edges)])
    inside = and_(
        or_(hours > buckets.c.low_h, and_(buckets.c.bucket_order == 0, hours >= buckets.c.low_h)),
        or_(buckets.c.high_h.is_(None), hours <= buckets.c.high_h),
    )
    keys = [buckets.c.bucket_order, buckets.c.low_h, buckets.c.high_h]
    return (
        select(*keys, as_double(func.count(hours)).label("value"))
        .select_from(buckets.outerjoin(facts, inside))
        .group_by(*keys)
        .order_by(buckets.c.bucket_order)
    )


# --- resolution and handling quality --------------------------------------------------------


def handling_select(filters: Filters, scope: Scope, by: Sequence[str] = ()) -> Select:
    """Complaints resolved in the period, by any complaint dimension: [*by, resolved,
    median_h, p90_h, within_sla, sla_share, first_contact_share, reopened_share, escalated,
    escalated_share, csat, csat_n]. Same populations and rules as the registry's
    resolve_time_*, sla_share, first_contact_resolution, reopened_rate and csat, so with
    by=() the figures equal those measures; escalated is the share escalated to a higher level."""
    by = _validate(by)
    start, stop = timestamp_bounds(filters)
    hours = hours_between(k.opened_at, k.resolved_at)
    flag = lambda condition: case((condition, 1), else_=0)  # noqa: E731 - a local shorthand
    columns = [
        *_dimension_columns(by, filters, month_start(k.resolved_at)),
        hours.label("hours"),
        flag(hours <= sla_target_hours()).label("within_sla"),
        flag(k.resolved_first_contact).label("first_contact"),
        flag(k.reopened).label("reopened"),
        flag(k.escalated).label("escalated"),
        k.csat.label("csat"),
    ]
    conditions = [k.resolved_at >= start, k.resolved_at < stop]
    facts = complaint_rows(columns, conditions, filters, scope, by).subquery("facts")
    f = facts.c
    keys = [f[name] for name in by]
    resolved = func.count()
    return (
        select(
            *keys,
            as_double(resolved).label("resolved"),
            percentile(f.hours, 0.5).label("median_h"),
            percentile(f.hours, 0.9).label("p90_h"),
            as_double(func.coalesce(func.sum(f.within_sla), 0)).label("within_sla"),
            ratio(func.sum(f.within_sla), resolved).label("sla_share"),
            ratio(func.sum(f.first_contact), resolved).label("first_contact_share"),
            ratio(func.sum(f.reopened), resolved).label("reopened_share"),
            as_double(func.coalesce(func.sum(f.escalated), 0)).label("escalated"),
            ratio(func.sum(f.escalated), resolved).label("escalated_share"),
            as_double(func.avg(f.csat)).label("csat"),
            as_double(func.count(f.csat)).label("csat_n"),
        )
        .select_from(facts)
        .group_by(*keys)
        .order_by(*keys)
    )


def department_cost_select(filters: Filters, scope: Scope) -> Select:
    """What each extra department costs: handling_select by departments_involved, plus
    extra_median_h and extra_p90_h = the row's median (p90) − that of the fewest departments
    present (one, wherever a complaint was handled by one department alone)."""
    rows = handling_select(filters, scope, ("departments_involved",)).subquery("by_departments")
    fewest = rows.c.departments_involved
    first = lambda value: func.first_value(value).over(order_by=fewest)  # noqa: E731
    return select(
        *rows.c,
        (rows.c.median_h - first(rows.c.median_h)).label("extra_median_h"),
        (rows.c.p90_h - first(rows.c.p90_h)).label("extra_p90_h"),
    ).order_by(fewest)


# --- backlog: breaches in progress -----------------------------------------------------------

BREACH_COLUMNS: tuple[str, ...] = (
    "complaint_id",
    "opened_at",
    "category",
    "channel",
    "province",
    "segment",
    "full_name",
    "phone",
    "hours_open",
    "target_hours",
    "hours_overdue",
    "departments_involved",
    "escalated",
)


def _open_past_sla(filters: Filters) -> tuple[ColumnElement, ColumnElement[bool]]:
    """(hours open at the period end, the condition: still open then and past its SLA)."""
    _, stop = timestamp_bounds(filters)
    hours_open = hours_between(k.opened_at, literal(stop))
    still_open = and_(k.opened_at < stop, or_(k.resolved_at.is_(None), k.resolved_at >= stop))
    return hours_open, and_(still_open, hours_open > sla_target_hours())


def breaches_select(filters: Filters, scope: Scope, lang: str = "vi", labels: Labels | None = None) -> Select:
    """Complaints still open at the period end and already past their SLA target, newest first
    (one row per complaint: BREACH_COLUMNS; full_name and phone are the customer's, masked by
    the list). Open since any time: a complaint opened before the period is still a breach."""
    hours_open, breaching = _open_past_sla(filters)
    target = sla_target_hours()
    columns = [
        k.complaint_id,
        k.opened_at,
        k.category,
        k.channel,
        c.province_code.label("province_code"),
        c.segment.label("segment"),
        c.full_name.label("full_name"),
        c.phone.label("phone"),
        hours_open.label("hours_open"),
        target.label("target_hours"),
        k.departments_involved,
        k.escalated,
    ]
    rows = complaint_rows(columns, [breaching], filters, scope, ()).subquery("breaching")
    province_name = provinces.c.name_en if lang == "en" else provinces.c.name_vi
    return (
        select(
            rows.c.complaint_id,
            rows.c.opened_at,
            labelled(rows.c.category, column_labels(labels, "category")).label("category"),
            labelled(rows.c.channel, column_labels(labels, "channel")).label("channel"),
            province_name.label("province"),
            labelled(rows.c.segment, column_labels(labels, "segment")).label("segment"),
            rows.c.full_name,
            rows.c.phone,
            rows.c.hours_open,
            rows.c.target_hours,
            (rows.c.hours_open - rows.c.target_hours).label("hours_overdue"),
            rows.c.departments_involved,
            rows.c.escalated,
        )
        .select_from(rows.join(provinces, provinces.c.province_code == rows.c.province_code))
        .order_by(rows.c.opened_at.desc(), rows.c.complaint_id.desc())
    )


def breach_count_select(filters: Filters, scope: Scope) -> Select:
    """One row: value = complaints open at the period end and past their SLA target."""
    _, breaching = _open_past_sla(filters)
    rows = complaint_rows([k.complaint_id], [breaching], filters, scope, ()).subquery("breaching")
    return select(as_double(func.count()).label("value")).select_from(rows)


# --- care channels ---------------------------------------------------------------------------


def care_channels_select(filters: Filters, scope: Scope, by_month: bool = False) -> Select:
    """care_contacts_monthly in the period, by channel (and month): [month?, channel,
    offered, handled, answered_60s, answer_rate, avg_handle_s]. answer_rate (call centre
    only, NULL elsewhere) and avg_handle_s follow the registry's call_answer_rate and
    avg_handle_time. No customer in this table: only province and region filters apply."""
    m = care_contacts_monthly.c
    start, stop = period_bounds(filters)
    keys = [m.contact_month, m.channel] if by_month else [m.channel]
    shown = [m.contact_month.label("month"), m.channel] if by_month else [m.channel]
    answered = func.sum(m.answered_within_60s)
    return (
        select(
            *shown,
            as_double(func.sum(m.contacts_offered)).label("offered"),
            as_double(func.sum(m.contacts_handled)).label("handled"),
            as_double(answered).label("answered_60s"),
            ratio(answered, func.sum(m.contacts_offered)).label("answer_rate"),
            ratio(func.sum(m.handle_time_s_total), func.sum(m.contacts_handled)).label("avg_handle_s"),
        )
        .where(m.contact_month >= start, m.contact_month < stop, province_scope(m.province_code, filters, scope))
        .group_by(*keys)
        .order_by(*keys)
    )
