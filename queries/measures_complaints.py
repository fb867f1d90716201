"""Complaint handling measures: volume, rate, response and resolution times, SLA, backlog.

Which complaints each measure looks at (all attributed to the customer's dimensions):
- volume, rate, acknowledgement: complaints *opened* in the period (month = month opened);
- resolution time, SLA, first-contact resolution, reopened, CSAT: complaints *resolved*
  in the period (month = month resolved);
- open complaints and backlog: complaints open at the period end (opened before it and
  not resolved by it), with their age at that instant.
Times are hours between local (Asia/Ho_Chi_Minh) timestamps.
"""

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Subquery, and_, case, func, literal, or_, select, union_all

from queries import rules
from queries.filters import Filters, Scope
from queries.marts import answered_from_mart
from queries.marts import complaints as complaints_mart
from queries.measures_base import (
    DIMENSIONS as CUSTOMER_DIMENSIONS,
)
from queries.measures_base import (
    Measure,
    count_if,
    customer_dimensions,
    customer_scope,
    month_spine,
    period_bounds,
    period_months,
    spine_bounds,
    spine_months,
    summarise,
    timestamp_bounds,
    validate_by,
    with_customer,
)
from queries.rules import ACK_TARGET_HOURS, BACKLOG_AGE_BUCKETS, COMPLAINT_RATE_MONTHS
from queries.sla import sla_target_hours
from queries.sql_functions import as_double, hours_between, month_start, percentile, ratio
from queries.tables import complaints, revenue_monthly

k = complaints.c


@answered_from_mart(complaints_mart.opened_facts)
def opened_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    start, stop = timestamp_bounds(filters)
    ack_hours = hours_between(k.opened_at, k.acknowledged_at)
    return (
        select(
            *customer_dimensions(by, filters, month_start(k.opened_at)),
            ack_hours.label("ack_hours"),
            case((ack_hours <= ACK_TARGET_HOURS, 1), else_=0).label("acknowledged_in_time"),
        )
        .select_from(with_customer(complaints, k.customer_id, by))
        .where(k.opened_at >= start, k.opened_at < stop, customer_scope(filters, scope))
        .subquery("facts")
    )


@answered_from_mart(complaints_mart.resolved_facts)
def resolved_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    start, stop = timestamp_bounds(filters)
    resolve_hours = hours_between(k.opened_at, k.resolved_at)
    return (
        select(
            *customer_dimensions(by, filters, month_start(k.resolved_at)),
            resolve_hours.label("resolve_hours"),
            case((resolve_hours <= sla_target_hours(), 1), else_=0).label("within_sla"),
            case((k.resolved_first_contact, 1), else_=0).label("first_contact"),
            case((k.reopened, 1), else_=0).label("reopened"),
            k.csat.label("csat"),
        )
        .select_from(with_customer(complaints, k.customer_id, by))
        .where(k.resolved_at >= start, k.resolved_at < stop, customer_scope(filters, scope))
        .subquery("facts")
    )


@answered_from_mart(complaints_mart.open_facts)
def open_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> tuple[Subquery, list]:
    """One row per complaint open at each evaluated month end, with its age in hours then."""
    months = spine_months(filters, by, whole_period=False)
    spine = month_spine(months)
    open_at_month_end = and_(
        k.opened_at < spine.c.next_month,
        or_(k.resolved_at.is_(None), k.resolved_at >= spine.c.next_month),
    )
    source = with_customer(complaints.join(spine, open_at_month_end), k.customer_id, by)
    bounds = spine_bounds(months)
    facts = (
        select(
            *customer_dimensions(by, filters, spine.c.month),
            hours_between(k.opened_at, spine.c.next_month).label("age_hours"),
        )
        .select_from(source)
        .where(
            customer_scope(filters, scope),
            k.opened_at < bounds.last_next_month,
            or_(k.resolved_at.is_(None), k.resolved_at >= bounds.first_next_month),
        )
        .subquery("facts")
    )
    return facts, months


def _complaint_count(filters: Filters, scope: Scope, by):
    facts = opened_facts(filters, scope, by)
    return summarise(
        facts, by, {"complaints": lambda f: func.count()}, lambda a: a["complaints"], months=period_months(filters)
    )


@answered_from_mart(complaints_mart.complaint_rate_facts)
def complaint_rate_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    # Complaints and customer-months side by side in one fact list, so both are grouped
    # by the same dimension expressions without a join.
    start, stop = timestamp_bounds(filters)
    first_month, after_last = period_bounds(filters)
    r = revenue_monthly.c
    complaint_rows = (
        select(
            *customer_dimensions(by, filters, month_start(k.opened_at)),
            literal(1).label("complaint"),
            literal(0).label("customer_month"),
        )
        .select_from(with_customer(complaints, k.customer_id, by))
        .where(k.opened_at >= start, k.opened_at < stop, customer_scope(filters, scope))
    )
    customer_month_rows = (
        select(
            *customer_dimensions(by, filters, r.revenue_month),
            literal(0).label("complaint"),
            literal(1).label("customer_month"),
        )
        .select_from(with_customer(revenue_monthly, r.customer_id, by))
        .where(r.revenue_month >= first_month, r.revenue_month < after_last, customer_scope(filters, scope))
    )
    facts = union_all(complaint_rows, customer_month_rows).subquery("facts")
    return facts


def _complaint_rate(filters: Filters, scope: Scope, by):
    facts = complaint_rate_facts(filters, scope, by)
    return summarise(
        facts,
        by,
        {"numerator": lambda f: func.sum(f.complaint), "denominator": lambda f: func.sum(f.customer_month)},
        lambda a: ratio(a["numerator"] * COMPLAINT_RATE_MONTHS, a["denominator"]),
        months=period_months(filters),
    )


def _percentile_builder(facts_of, column: str, fraction: float):
    def build(filters: Filters, scope: Scope, by):
        facts = facts_of(filters, scope, by)
        return summarise(
            facts,
            by,
            {"n": lambda f: func.count(f[column]), "_percentile": lambda f: percentile(f[column], fraction)},
            lambda a: a["_percentile"],
            months=period_months(filters),
            additive=("n",),
        )

    return build


def _share_builder(facts_of, flag: str, *, denominator: str | None = None):
    """flag rows ÷ rows (or ÷ non-null `denominator` values)."""

    def build(filters: Filters, scope: Scope, by):
        facts = facts_of(filters, scope, by)
        return summarise(
            facts,
            by,
            {
                "numerator": lambda f: func.coalesce(func.sum(f[flag]), 0),
                "denominator": (lambda f: func.count(f[denominator])) if denominator else (lambda f: func.count()),
            },
            lambda a: ratio(a["numerator"], a["denominator"]),
            months=period_months(filters),
        )

    return build


def _csat(filters: Filters, scope: Scope, by):
    facts = resolved_facts(filters, scope, by)
    return summarise(
        facts,
        by,
        {"numerator": lambda f: func.coalesce(func.sum(f.csat), 0), "denominator": lambda f: func.count(f.csat)},
        lambda a: ratio(a["numerator"], a["denominator"]),
        months=period_months(filters),
    )


def backlog_bucket_condition(age_hours: ColumnElement, first_day: int, last_day: int | None) -> ColumnElement[bool]:
    """Whole days since opened within [first_day, last_day] ⇔ hours within [24·first, 24·(last+1))."""
    condition = age_hours >= first_day * 24
    if last_day is not None:
        condition = and_(condition, age_hours < (last_day + 1) * 24)
    return condition


def _open_complaints(filters: Filters, scope: Scope, by):
    facts, months = open_facts(filters, scope, by)
    return summarise(facts, by, {"open": lambda f: func.count()}, lambda a: a["open"], months=months)


def _backlog_builder(first_day: int, last_day: int | None):
    def build(filters: Filters, scope: Scope, by):
        facts, months = open_facts(filters, scope, by)
        return summarise(
            facts,
            by,
            {"open": lambda f: count_if(backlog_bucket_condition(f.age_hours, first_day, last_day))},
            lambda a: a["open"],
            months=months,
        )

    return build


def backlog_ageing_select(filters: Filters, scope: Scope, by: Sequence[str] = ()):
    """Open complaints at the period end by age bucket: columns [*by, age_bucket, value].
    Buckets are queries.rules.BACKLOG_AGE_BUCKETS, in order (bucket_order 0, 1, …)."""
    by = validate_by(by, CUSTOMER_DIMENSIONS)
    facts, _ = open_facts(filters, scope, by)
    bucket = case(
        *[
            (backlog_bucket_condition(facts.c.age_hours, first, last), literal(label))
            for label, first, last in BACKLOG_AGE_BUCKETS
        ],
        else_=None,
    )
    order = case(
        *[
            (backlog_bucket_condition(facts.c.age_hours, first, last), literal(position))
            for position, (_, first, last) in enumerate(BACKLOG_AGE_BUCKETS)
        ],
        else_=None,
    )
    bucketed = select(
        *(facts.c[name] for name in by), bucket.label("age_bucket"), order.label("bucket_order")
    ).subquery("bucketed")
    keys = [bucketed.c[name] for name in (*by, "age_bucket", "bucket_order")]
    counted = select(*keys, as_double(func.count()).label("value")).group_by(*keys)
    return counted.order_by(*keys[: len(by)], bucketed.c.bucket_order)


_OPENED = "Khiếu nại mở trong kỳ"
_RESOLVED_VI = "khiếu nại được giải quyết trong kỳ"
_RESOLVED_EN = "complaints resolved in the period"


def _backlog_measure(label: str, first_day: int, last_day: int | None) -> Measure:
    span_vi = f"từ {first_day} ngày trở lên" if last_day is None else f"{first_day}–{last_day} ngày"
    span_en = f"{first_day}+ days" if last_day is None else f"{first_day}–{last_day} days"
    name = f"backlog_{first_day}d_plus" if last_day is None else f"backlog_{first_day}_{last_day}d"
    return Measure(
        name=name,
        label_vi=f"Khiếu nại tồn đọng {span_vi}",
        label_en=f"Backlog aged {span_en}",
        description_vi=f"Số khiếu nại còn mở cuối kỳ đã mở được {span_vi} (số ngày tròn tính đến hết kỳ).",
        description_en=f"Complaints open at period end that had been open {span_en} (whole days to the period end).",
        unit="count",
        direction=-1,
        kind="stock",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_backlog_builder(first_day, last_day),
    )


COMPLAINT_MEASURES: tuple[Measure, ...] = (
    Measure(
        name="complaint_count",
        label_vi="Số khiếu nại",
        label_en="Complaints",
        description_vi="Số khiếu nại tiếp nhận trong kỳ.",
        description_en="Complaints received (opened) in the period.",
        unit="count",
        direction=-1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_complaint_count,
    ),
    Measure(
        name="complaint_rate",
        label_vi="Tỷ lệ khiếu nại (trên 100 khách hàng/quý)",
        label_en="Complaint rate (per 100 customers per quarter)",
        description_vi="Số khiếu nại trong kỳ ÷ số khách hàng hoạt động bình quân × 3 ÷ số tháng; hiển thị dạng % "
        "nghĩa là số khiếu nại trên 100 khách hàng mỗi quý (ngưỡng QCVN khoảng 0,25).",
        description_en="Complaints in the period ÷ average active customers × 3 ÷ months; shown as a %, i.e. "
        "complaints per 100 customers per quarter (QCVN threshold about 0.25).",
        unit="percent",
        direction=-1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "revenue_monthly", "customers"),
        build=_complaint_rate,
    ),
    Measure(
        name="ack_time_median_h",
        label_vi="Thời gian phản hồi (trung vị, giờ)",
        label_en="Time to acknowledge (median, hours)",
        description_vi=f"Trung vị của (phản hồi đầu tiên − tiếp nhận), giờ, trên {_OPENED.lower()} đã được phản hồi.",
        description_en="Median of (first response − opened), hours, over complaints opened in the period "
        "that have been acknowledged.",
        unit="hours",
        direction=-1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_percentile_builder(opened_facts, "ack_hours", 0.5),
    ),
    Measure(
        name="ack_time_p90_h",
        label_vi="Thời gian phản hồi (P90, giờ)",
        label_en="Time to acknowledge (p90, hours)",
        description_vi="Phân vị 90 của (phản hồi đầu tiên − tiếp nhận), giờ, trên khiếu nại mở trong kỳ "
        "đã được phản hồi.",
        description_en="90th percentile of (first response − opened), hours, over complaints opened in the "
        "period that have been acknowledged.",
        unit="hours",
        direction=-1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_percentile_builder(opened_facts, "ack_hours", 0.9),
    ),
    Measure(
        name="ack_within_48h_share",
        label_vi="Tỷ lệ phản hồi trong 48 giờ",
        label_en="Acknowledged within 48 h",
        description_vi=f"Khiếu nại mở trong kỳ được phản hồi trong {ACK_TARGET_HOURS} giờ ÷ khiếu nại mở trong kỳ "
        "(chưa phản hồi tính là không đạt).",
        description_en=f"Complaints opened in the period and acknowledged within {ACK_TARGET_HOURS} h ÷ "
        "complaints opened in the period (not yet acknowledged counts as missed).",
        unit="percent",
        direction=1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_share_builder(opened_facts, "acknowledged_in_time"),
    ),
    Measure(
        name="resolve_time_median_h",
        label_vi="Thời gian giải quyết (trung vị, giờ)",
        label_en="Time to resolve (median, hours)",
        description_vi=f"Trung vị của (giải quyết − tiếp nhận), giờ, trên {_RESOLVED_VI}.",
        description_en=f"Median of (resolved − opened), hours, over {_RESOLVED_EN}.",
        unit="hours",
        direction=-1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_percentile_builder(resolved_facts, "resolve_hours", 0.5),
    ),
    Measure(
        name="resolve_time_p90_h",
        label_vi="Thời gian giải quyết (P90, giờ)",
        label_en="Time to resolve (p90, hours)",
        description_vi=f"Phân vị 90 của (giải quyết − tiếp nhận), giờ, trên {_RESOLVED_VI}.",
        description_en=f"90th percentile of (resolved − opened), hours, over {_RESOLVED_EN}.",
        unit="hours",
        direction=-1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_percentile_builder(resolved_facts, "resolve_hours", 0.9),
    ),
    Measure(
        name="sla_share",
        label_vi="Tỷ lệ giải quyết đúng hạn (SLA)",
        label_en="Resolved within SLA",
        description_vi=f"Số giải quyết trong thời hạn ÷ số {_RESOLVED_VI}. Thời hạn: khách hàng lớn "
        f"{rules.SLA_TARGET_HOURS_KEY_ACCOUNT // 24} ngày, cước {rules.SLA_TARGET_HOURS_BILLING // 24} ngày, "
        f"loại khác {rules.SLA_TARGET_HOURS_OTHER // 24} ngày.",
        description_en=f"Resolved within the target ÷ {_RESOLVED_EN}. Targets: key customers "
        f"{rules.SLA_TARGET_HOURS_KEY_ACCOUNT // 24} days, billing {rules.SLA_TARGET_HOURS_BILLING // 24} days, "
        f"other categories {rules.SLA_TARGET_HOURS_OTHER // 24} days.",
        unit="percent",
        direction=1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_share_builder(resolved_facts, "within_sla"),
    ),
    Measure(
        name="first_contact_resolution",
        label_vi="Tỷ lệ giải quyết ngay lần đầu",
        label_en="First-contact resolution",
        description_vi=f"Số giải quyết ngay lần tiếp xúc đầu ÷ số {_RESOLVED_VI}.",
        description_en=f"Resolved at the first contact ÷ {_RESOLVED_EN}.",
        unit="percent",
        direction=1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_share_builder(resolved_facts, "first_contact"),
    ),
    Measure(
        name="reopened_rate",
        label_vi="Tỷ lệ khiếu nại mở lại",
        label_en="Reopened rate",
        description_vi=f"Số bị mở lại sau khi giải quyết ÷ số {_RESOLVED_VI}.",
        description_en=f"Reopened after resolution ÷ {_RESOLVED_EN}.",
        unit="percent",
        direction=-1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_share_builder(resolved_facts, "reopened"),
    ),
    Measure(
        name="csat",
        label_vi="CSAT sau giải quyết khiếu nại (1–5)",
        label_en="CSAT after complaint resolution (1–5)",
        description_vi=f"Điểm hài lòng trung bình (1–5) khảo sát sau giải quyết, trên {_RESOLVED_VI} có điểm.",
        description_en=f"Mean post-resolution satisfaction score (1–5) over {_RESOLVED_EN} that were scored.",
        unit="score",
        direction=1,
        kind="flow",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_csat,
    ),
    Measure(
        name="open_complaints",
        label_vi="Khiếu nại đang mở",
        label_en="Open complaints",
        description_vi="Số khiếu nại đã tiếp nhận trước cuối kỳ và chưa được giải quyết tính đến cuối kỳ.",
        description_en="Complaints opened before the period end and not resolved by it.",
        unit="count",
        direction=-1,
        kind="stock",
        topic="complaints",
        sources=("complaints", "customers"),
        build=_open_complaints,
    ),
    *(_backlog_measure(label, first, last) for label, first, last in BACKLOG_AGE_BUCKETS),
)
