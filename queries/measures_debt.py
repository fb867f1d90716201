"""Postpaid debt measures (nợ cước): outstanding debt, ageing, collection, DSO, frequent debtors.

As-of logic: the measures evaluate at the last day E of the period (or of each month with
by month). A bill's payment is known as of E only when paid_on ≤ E. The bills table keeps
the amount paid so far and the date of the last payment, so a bill paid partly before E
and partly after is counted as unpaid as of E (the data cannot split it; a conservative
reading). "Paid on time" = paid_vnd when paid_on ≤ due_on, else 0.
Bills for usage month M are taken as issued on the first day of M+1 (due ~20th–25th).
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Subquery, and_, case, func, literal, or_, select

from queries.filters import Filters, Scope, add_months
from queries.marts import answered_from_mart
from queries.marts import debt as debt_mart
from queries.measures_base import (
    Measure,
    customer_dimensions,
    customer_scope,
    month_spine,
    period_bounds,
    period_months,
    spine_bounds,
    spine_months,
    sum_if,
    summarise,
    validate_by,
    with_customer,
)
from queries.rules import DEBT_AGE_BUCKETS, FREQUENT_DEBTOR_LATE_BILLS, FREQUENT_DEBTOR_WINDOW_MONTHS
from queries.sql_functions import as_double, days_between, month_start, ratio
from queries.tables import bills

b = bills.c


def paid_on_time_vnd() -> ColumnElement:
    return case((b.paid_on <= b.due_on, b.paid_vnd), else_=0)


def paid_as_of_vnd(as_of: ColumnElement) -> ColumnElement:
    return case((b.paid_on <= as_of, b.paid_vnd), else_=0)


def is_late(as_of: ColumnElement) -> ColumnElement[bool]:
    """Late as of a day: due before it, and not fully paid by the due date."""
    return and_(b.due_on < as_of, b.billed_vnd > paid_on_time_vnd())


def unpaid_at(as_of: ColumnElement) -> ColumnElement[bool]:
    """Something of the bill is still unpaid at the end of `as_of` (cheap pre-filter for joins)."""
    return or_(b.paid_on.is_(None), b.paid_on > as_of, b.paid_vnd < b.billed_vnd)


@answered_from_mart(debt_mart.past_due_facts)
def past_due_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> tuple[Subquery, list[date]]:
    """Bills past due and not fully paid at each evaluated month's last day, with the unpaid
    amount and the days past due then."""
    months = spine_months(filters, by, whole_period=False)
    spine = month_spine(months)
    as_of = spine.c.last_day
    source = with_customer(bills.join(spine, and_(b.due_on < as_of, unpaid_at(as_of))), b.customer_id, by)
    bounds = spine_bounds(months)
    facts = (
        select(
            *customer_dimensions(by, filters, spine.c.month),
            (b.billed_vnd - paid_as_of_vnd(as_of)).label("unpaid_vnd"),
            days_between(b.due_on, as_of).label("days_past_due"),
        )
        .select_from(source)
        # unpaid at a later day implies unpaid at the first: a superset, cheap to test
        .where(customer_scope(filters, scope), b.due_on < bounds.last_last_day, unpaid_at(bounds.first_last_day))
        .subquery("facts")
    )
    return facts, months


def debt_bucket_condition(days: ColumnElement, first_day: int, last_day: int | None) -> ColumnElement[bool]:
    condition = days >= first_day
    return condition if last_day is None else and_(condition, days <= last_day)


def _outstanding_debt(filters: Filters, scope: Scope, by):
    facts, months = past_due_facts(filters, scope, by)
    return summarise(
        facts, by, {"debt": lambda f: func.coalesce(func.sum(f.unpaid_vnd), 0)}, lambda a: a["debt"], months=months
    )


def _debt_bucket_builder(first_day: int, last_day: int | None):
    def build(filters: Filters, scope: Scope, by):
        facts, months = past_due_facts(filters, scope, by)
        return summarise(
            facts,
            by,
            {"debt": lambda f: sum_if(debt_bucket_condition(f.days_past_due, first_day, last_day), f.unpaid_vnd)},
            lambda a: a["debt"],
            months=months,
        )

    return build


def debt_ageing_select(filters: Filters, scope: Scope, by: Sequence[str] = ()):
    """Outstanding debt at the period end by days-past-due bucket: [*by, age_bucket, bucket_order, value].
    Buckets are queries.rules.DEBT_AGE_BUCKETS; a bucket with no debt has no row."""
    by = validate_by(by)
    facts, _ = past_due_facts(filters, scope, by)
    days = facts.c.days_past_due
    bucket = case(
        *[(debt_bucket_condition(days, first, last), literal(label)) for label, first, last in DEBT_AGE_BUCKETS],
        else_=None,
    )
    order = case(
        *[
            (debt_bucket_condition(days, first, last), literal(position))
            for position, (_, first, last) in enumerate(DEBT_AGE_BUCKETS)
        ],
        else_=None,
    )
    bucketed = select(
        *(facts.c[name] for name in by), bucket.label("age_bucket"), order.label("bucket_order"), facts.c.unpaid_vnd
    ).subquery("bucketed")
    keys = [bucketed.c[name] for name in (*by, "age_bucket", "bucket_order")]
    return (
        select(*keys, as_double(func.sum(bucketed.c.unpaid_vnd)).label("value"))
        .group_by(*keys)
        .order_by(*keys[: len(by)], bucketed.c.bucket_order)
    )


@answered_from_mart(debt_mart.collection_facts)
def collection_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    start, stop = period_bounds(filters)
    facts = (
        select(
            *customer_dimensions(by, filters, month_start(b.due_on)),
            b.billed_vnd.label("billed_vnd"),
            paid_on_time_vnd().label("paid_on_time_vnd"),
        )
        .select_from(with_customer(bills, b.customer_id, by))
        .where(b.due_on >= start, b.due_on < stop, customer_scope(filters, scope))
        .subquery("facts")
    )
    return facts


def _collection_rate(filters: Filters, scope: Scope, by):
    facts = collection_facts(filters, scope, by)
    return summarise(
        facts,
        by,
        {
            "numerator": lambda f: func.coalesce(func.sum(f.paid_on_time_vnd), 0),
            "denominator": lambda f: func.coalesce(func.sum(f.billed_vnd), 0),
        },
        lambda a: ratio(a["numerator"], a["denominator"]),
        months=period_months(filters),
    )


@answered_from_mart(debt_mart.dso_facts)
def dso_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> tuple[Subquery, list[date]]:
    months = period_months(filters)
    spine = month_spine(months)
    as_of = spine.c.last_day
    billed_in_month = b.bill_month == spine.c.prev_month
    receivable = and_(b.bill_month < spine.c.month, unpaid_at(as_of))
    at_period_end = literal(True) if "month" in by else spine.c.month == filters.end_month
    if "month" in by:
        days = spine.c.days
    else:
        start, stop = period_bounds(filters)
        days = literal((stop - start).days)
    source = with_customer(bills.join(spine, or_(billed_in_month, and_(receivable, at_period_end))), b.customer_id, by)
    bounds = spine_bounds(months)
    may_matter = or_(
        and_(b.bill_month >= add_months(bounds.first_month, -1), b.bill_month < filters.end_month),
        and_(b.bill_month < filters.end_month, unpaid_at(bounds.first_last_day)),
    )
    facts = (
        select(
            *customer_dimensions(by, filters, spine.c.month),
            case((billed_in_month, b.billed_vnd), else_=0).label("billed_vnd"),
            case((and_(receivable, at_period_end), b.billed_vnd - paid_as_of_vnd(as_of)), else_=0).label(
                "receivable_vnd"
            ),
            days.label("days"),
        )
        .select_from(source)
        .where(customer_scope(filters, scope), may_matter)
        .subquery("facts")
    )
    return facts, months


def _dso(filters: Filters, scope: Scope, by):
    facts, months = dso_facts(filters, scope, by)
    return summarise(
        facts,
        by,
        {
            "numerator": lambda f: func.coalesce(func.sum(f.receivable_vnd), 0),
            "denominator": lambda f: func.coalesce(func.sum(f.billed_vnd), 0),
            "_days": lambda f: func.max(f.days),
        },
        lambda a: ratio(a["numerator"], a["denominator"]) * a["_days"],
        months=months,
        additive=("numerator", "denominator"),
    )


def frequent_debtor_rows(months: Sequence[date]) -> Subquery:
    """The frequent-debtor rule, once: (month, customer_id, late_bills) for every customer
    with at least FREQUENT_DEBTOR_LATE_BILLS late bills due in the window ending with each
    month (late as of the month's last day). Not scoped: callers join the customer."""
    spine = month_spine(months)
    late_in_window = and_(b.due_on >= spine.c.window_start, is_late(spine.c.last_day))
    bounds = spine_bounds(months)
    return (
        select(spine.c.month.label("month"), b.customer_id.label("customer_id"), func.count().label("late_bills"))
        .select_from(bills.join(spine, late_in_window))
        .where(
            b.due_on >= bounds.first_window_start,
            b.due_on < bounds.last_last_day,
            b.billed_vnd > paid_on_time_vnd(),
        )
        .group_by(spine.c.month, b.customer_id)
        .having(func.count() >= FREQUENT_DEBTOR_LATE_BILLS)
        .subquery("debtors")
    )


@answered_from_mart(debt_mart.frequent_debtor_facts)
def frequent_debtor_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> tuple[Subquery, list[date]]:
    """One row per customer who is a frequent debtor at each evaluated month end."""
    months = spine_months(filters, by, whole_period=False)
    debtors = frequent_debtor_rows(months)
    facts = (
        select(*customer_dimensions(by, filters, debtors.c.month), literal(1).label("debtor"))
        .select_from(with_customer(debtors, debtors.c.customer_id, by))
        .where(customer_scope(filters, scope))
        .subquery("facts")
    )
    return facts, months


def _frequent_debtors(filters: Filters, scope: Scope, by):
    facts, months = frequent_debtor_facts(filters, scope, by)
    # debtor is 1 per customer in the raw facts, a count per group in the mart's
    debtors = {"debtors": lambda f: func.coalesce(func.sum(f.debtor), 0)}
    return summarise(facts, by, debtors, lambda a: a["debtors"], months=months)


def _debt_bucket_measure(label: str, first_day: int, last_day: int | None) -> Measure:
    span_vi = f"quá hạn trên {first_day - 1} ngày" if last_day is None else f"quá hạn {label} ngày"
    span_en = f"over {first_day - 1} days past due" if last_day is None else f"{label} days past due"
    name = f"debt_{first_day - 1}_plus" if last_day is None else f"debt_{label.replace('-', '_')}"
    return Measure(
        name=name,
        label_vi=f"Nợ {span_vi}",
        label_en=f"Debt {span_en}",
        description_vi=f"Phần chưa thanh toán tính đến ngày cuối kỳ của các hóa đơn {span_vi} "
        "(số ngày quá hạn = ngày cuối kỳ − hạn thanh toán).",
        description_en=f"Unpaid amount at the period's last day of bills {span_en} "
        "(days past due = last day − due date).",
        unit="vnd",
        direction=-1,
        kind="stock",
        topic="debt",
        sources=("bills", "customers"),
        build=_debt_bucket_builder(first_day, last_day),
    )


DEBT_MEASURES: tuple[Measure, ...] = (
    Measure(
        name="outstanding_debt",
        label_vi="Nợ cước quá hạn",
        label_en="Outstanding debt",
        description_vi="Tổng (tiền cước − đã thanh toán tính đến ngày cuối kỳ) của các hóa đơn đã quá hạn "
        "vào ngày cuối kỳ.",
        description_en="Sum of (billed − paid as of the period's last day) over bills past due on that day.",
        unit="vnd",
        direction=-1,
        kind="stock",
        topic="debt",
        sources=("bills", "customers"),
        build=_outstanding_debt,
    ),
    *(_debt_bucket_measure(label, first, last) for label, first, last in DEBT_AGE_BUCKETS),
    Measure(
        name="collection_rate",
        label_vi="Tỷ lệ thu cước đúng hạn",
        label_en="Collection rate",
        description_vi="Số tiền thanh toán đúng hạn ÷ số tiền cước của các hóa đơn đến hạn trong kỳ.",
        description_en="Amount paid by the due date ÷ amount billed, over bills due in the period.",
        unit="percent",
        direction=1,
        kind="flow",
        topic="debt",
        sources=("bills", "customers"),
        build=_collection_rate,
    ),
    Measure(
        name="dso",
        label_vi="Số ngày thu tiền bình quân (DSO)",
        label_en="Days sales outstanding (DSO)",
        description_vi="Phải thu cuối kỳ (cước đã phát hành chưa thanh toán) ÷ cước phát hành trong kỳ × số ngày "
        "của kỳ. Hóa đơn tháng M coi như phát hành ngày 1 tháng M+1.",
        description_en="Receivables at period end (issued bills not yet paid) ÷ amount billed (issued) in the "
        "period × days in the period. The bill for month M counts as issued on the 1st of M+1.",
        unit="days",
        direction=-1,
        kind="flow",
        topic="debt",
        sources=("bills", "customers"),
        build=_dso,
    ),
    Measure(
        name="frequent_debtors",
        label_vi="Khách hàng thường xuyên nợ cước",
        label_en="Frequent debtors",
        description_vi=f"Số khách hàng có ít nhất {FREQUENT_DEBTOR_LATE_BILLS} hóa đơn trễ hạn (không thanh toán "
        f"đủ trước hạn) đến hạn trong {FREQUENT_DEBTOR_WINDOW_MONTHS} tháng tính đến cuối kỳ.",
        description_en=f"Customers with at least {FREQUENT_DEBTOR_LATE_BILLS} late bills (not fully paid by the "
        f"due date) due in the {FREQUENT_DEBTOR_WINDOW_MONTHS} months ending at the period end.",
        unit="count",
        direction=-1,
        kind="stock",
        topic="debt",
        sources=("bills", "customers"),
        build=_frequent_debtors,
    ),
)
