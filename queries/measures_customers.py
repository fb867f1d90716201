"""Customer base measures: actives, new, churned, churn rates, retention.

All of them come from one construct, the *customer-month*: each customer joined to each
month of the spine during which they were active at some point. Per row, 0/1 flags say
whether the customer was active at the start of the month, active at its end, new in it
or churned in it. Counting flags then gives every measure here with one definition of
"active" (activated on or before the day, and not churned on or before it):
- active at the end of month M: activated_on < M+1 and (churned_on is NULL or churned_on ≥ M+1);
- active at the start of M = active at the end of M−1.
So active(end) − active(start) = new − churned holds exactly.
"""

from collections.abc import Sequence

from sqlalchemy import Subquery, and_, case, func, literal, or_, select

from queries.filters import Filters, Scope
from queries.marts import answered_from_mart
from queries.marts import customer_month as customer_month_mart
from queries.measures_base import (
    Measure,
    customer_dimensions,
    customer_scope,
    month_spine,
    share_of_total,
    spine_bounds,
    spine_months,
    summarise,
    total,
)
from queries.sql_functions import ratio
from queries.tables import churn_events, customers, provinces


@answered_from_mart(customer_month_mart.customer_month_facts)
def customer_month_facts(
    filters: Filters, scope: Scope, by: Sequence[str], *, whole_period: bool, churn_type: bool = False
) -> tuple[Subquery, list]:
    months = spine_months(filters, by, whole_period=whole_period)
    spine = month_spine(months)
    c = customers.c
    active_during_month = and_(
        c.activated_on < spine.c.next_month,
        or_(c.churned_on.is_(None), c.churned_on >= spine.c.month),
    )
    source = customers.join(spine, active_during_month)
    if "macro_region" in by:
        source = source.join(provinces, provinces.c.province_code == c.province_code)
    if churn_type:
        source = source.outerjoin(churn_events, churn_events.c.customer_id == c.customer_id)

    def flag(condition):
        return case((condition, 1), else_=0)

    # Within the join, churned_on is NULL or ≥ month, and activated_on < next_month.
    ends_active = or_(c.churned_on.is_(None), c.churned_on >= spine.c.next_month)
    churned = c.churned_on < spine.c.next_month
    is_end = literal(1) if "month" in by else flag(spine.c.month == filters.end_month)
    is_start = literal(1) if "month" in by else flag(spine.c.month == filters.start_month)
    columns = [
        *customer_dimensions(by, filters, spine.c.month),
        flag(c.activated_on < spine.c.month).label("start_active"),
        flag(ends_active).label("end_active"),
        flag(c.activated_on >= spine.c.month).label("is_new"),
        flag(churned).label("is_churned"),
        is_start.label("is_period_start"),
        is_end.label("is_period_end"),
    ]
    if churn_type:
        columns += [
            flag(and_(churned, churn_events.c.churn_type == "voluntary")).label("churned_voluntary"),
            flag(and_(churned, churn_events.c.churn_type == "involuntary")).label("churned_involuntary"),
        ]
    bounds = spine_bounds(months)
    facts = (
        select(*columns)
        .select_from(source)
        .where(
            customer_scope(filters, scope),
            c.activated_on < bounds.last_next_month,
            or_(c.churned_on.is_(None), c.churned_on >= bounds.first_month),
        )
        .subquery("facts")
    )
    return facts, months


def _active_customers(filters: Filters, scope: Scope, by):
    facts, months = customer_month_facts(filters, scope, by, whole_period=False)
    return summarise(facts, by, {"active": lambda f: total(f.end_active)}, lambda a: a["active"], months=months)


def _new_customers(filters: Filters, scope: Scope, by):
    facts, months = customer_month_facts(filters, scope, by, whole_period=True)
    return summarise(facts, by, {"new": lambda f: total(f.is_new)}, lambda a: a["new"], months=months)


def _churned_customers(filters: Filters, scope: Scope, by):
    facts, months = customer_month_facts(filters, scope, by, whole_period=True)
    return summarise(facts, by, {"churned": lambda f: total(f.is_churned)}, lambda a: a["churned"], months=months)


def _net_adds(filters: Filters, scope: Scope, by):
    facts, months = customer_month_facts(filters, scope, by, whole_period=True)
    return summarise(
        facts,
        by,
        {"new": lambda f: total(f.is_new), "churned": lambda f: total(f.is_churned)},
        lambda a: func.coalesce(a["new"], 0) - func.coalesce(a["churned"], 0),
        months=months,
    )


def _churn_rate_builder(numerator: str, *, annualised: bool = False):
    def build(filters: Filters, scope: Scope, by):
        by_type = numerator != "is_churned"
        facts, months = customer_month_facts(filters, scope, by, whole_period=True, churn_type=by_type)

        def value(a):
            monthly = ratio(a["numerator"], a["denominator"])
            return 1.0 - func.power(1.0 - monthly, 12) if annualised else monthly

        return summarise(
            facts,
            by,
            {
                "numerator": lambda f: total(f[numerator]),
                "denominator": lambda f: total(f.start_active),
            },
            value,
            months=months,
        )

    return build


def _retention_rate(filters: Filters, scope: Scope, by):
    facts, months = customer_month_facts(filters, scope, by, whole_period=True)
    return summarise(
        facts,
        by,
        {
            "end_active": lambda f: total(f.end_active * f.is_period_end),
            "new": lambda f: total(f.is_new),
            "start_active": lambda f: total(f.start_active * f.is_period_start),
        },
        lambda a: ratio(a["end_active"] - a["new"], a["start_active"]),
        months=months,
    )


def _customer_share(filters: Filters, scope: Scope, by):
    facts, months = customer_month_facts(filters, scope, by, whole_period=False)
    return summarise(facts, by, {"numerator": lambda f: total(f.end_active)}, share_of_total(by), months=months)


CUSTOMER_MEASURES: tuple[Measure, ...] = (
    Measure(
        name="active_customers",
        label_vi="Khách hàng đang hoạt động",
        label_en="Active customers",
        description_vi="Số khách hàng có thuê bao đang hoạt động vào ngày cuối kỳ "
        "(đã kích hoạt và chưa rời mạng tính đến hết ngày đó).",
        description_en="Customers with an active subscription on the last day of the period "
        "(activated and not churned by the end of that day).",
        unit="count",
        direction=1,
        kind="stock",
        topic="customers",
        sources=("customers",),
        build=_active_customers,
    ),
    Measure(
        name="new_customers",
        label_vi="Khách hàng mới",
        label_en="New customers",
        description_vi="Số khách hàng kích hoạt trong kỳ.",
        description_en="Customers activated in the period.",
        unit="count",
        direction=1,
        kind="flow",
        topic="customers",
        sources=("customers",),
        build=_new_customers,
    ),
    Measure(
        name="churned_customers",
        label_vi="Khách hàng rời mạng",
        label_en="Churned customers",
        description_vi="Số khách hàng rời mạng trong kỳ (tự nguyện và không tự nguyện do nợ cước).",
        description_en="Customers who left in the period (voluntary and involuntary, i.e. for non-payment).",
        unit="count",
        direction=-1,
        kind="flow",
        topic="customers",
        sources=("customers",),
        build=_churned_customers,
    ),
    Measure(
        name="net_adds",
        label_vi="Tăng thuần",
        label_en="Net adds",
        description_vi="Khách hàng mới trong kỳ − khách hàng rời mạng trong kỳ.",
        description_en="New customers in the period − churned customers in the period.",
        unit="count",
        direction=1,
        kind="flow",
        topic="customers",
        sources=("customers",),
        build=_net_adds,
    ),
    Measure(
        name="churn_rate",
        label_vi="Tỷ lệ rời mạng tháng",
        label_en="Monthly churn rate",
        description_vi="Số rời mạng trong tháng ÷ số khách hàng hoạt động đầu tháng. Kỳ nhiều tháng: tổng số "
        "rời mạng ÷ tổng số hoạt động đầu các tháng, tức tỷ lệ tháng bình quân (gia quyền theo quy mô).",
        description_en="Churned in the month ÷ active at the start of the month. Over several months: total "
        "churned ÷ total start-of-month actives, i.e. the average monthly rate (weighted by base size).",
        unit="percent",
        direction=-1,
        kind="flow",
        topic="customers",
        sources=("customers",),
        build=_churn_rate_builder("is_churned"),
    ),
    Measure(
        name="churn_rate_voluntary",
        label_vi="Tỷ lệ rời mạng tự nguyện",
        label_en="Voluntary churn rate",
        description_vi="Số rời mạng tự nguyện trong tháng ÷ số khách hàng hoạt động đầu tháng (bình quân tháng "
        "như tỷ lệ rời mạng).",
        description_en="Voluntary churners in the month ÷ active at the start of the month (monthly average, "
        "as the churn rate).",
        unit="percent",
        direction=-1,
        kind="flow",
        topic="customers",
        sources=("customers", "churn_events"),
        build=_churn_rate_builder("churned_voluntary"),
    ),
    Measure(
        name="churn_rate_involuntary",
        label_vi="Tỷ lệ rời mạng không tự nguyện (nợ cước)",
        label_en="Involuntary churn rate (non-payment)",
        description_vi="Số bị cắt do nợ cước trong tháng ÷ số khách hàng hoạt động đầu tháng (bình quân tháng "
        "như tỷ lệ rời mạng).",
        description_en="Customers cut off for non-payment in the month ÷ active at the start of the month "
        "(monthly average, as the churn rate).",
        unit="percent",
        direction=-1,
        kind="flow",
        topic="customers",
        sources=("customers", "churn_events"),
        build=_churn_rate_builder("churned_involuntary"),
    ),
    Measure(
        name="annualised_churn",
        label_vi="Tỷ lệ rời mạng quy năm",
        label_en="Annualised churn",
        description_vi="1 − (1 − tỷ lệ rời mạng tháng)^12 (không nhân 12).",
        description_en="1 − (1 − monthly churn rate)^12 (never × 12).",
        unit="percent",
        direction=-1,
        kind="flow",
        topic="customers",
        sources=("customers",),
        build=_churn_rate_builder("is_churned", annualised=True),
    ),
    Measure(
        name="retention_rate",
        label_vi="Tỷ lệ giữ chân",
        label_en="Retention rate",
        description_vi="(Khách hàng hoạt động cuối kỳ − khách hàng mới trong kỳ) ÷ khách hàng hoạt động đầu kỳ.",
        description_en="(Active at period end − new in the period) ÷ active at period start.",
        unit="percent",
        direction=1,
        kind="flow",
        topic="customers",
        sources=("customers",),
        build=_retention_rate,
    ),
    Measure(
        name="customer_share",
        label_vi="Tỷ trọng khách hàng",
        label_en="Customer share",
        description_vi="Khách hàng hoạt động cuối kỳ của nhóm ÷ tổng của mọi nhóm trong bộ lọc "
        "(so với tỷ trọng doanh thu để thấy giá trị nằm ở đâu).",
        description_en="Active customers of the group at period end ÷ the total over all groups in the filter "
        "(compare with revenue share to see where value sits).",
        unit="percent",
        direction=0,
        kind="stock",
        topic="customers",
        sources=("customers",),
        build=_customer_share,
    ),
)
