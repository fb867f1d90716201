"""Revenue measures: revenue, ARPU, revenue share.

revenue_monthly holds exactly one row per month a customer was active (the generator's
and the importer's contract), so the number of rows is the number of customer-months:
ARPU = revenue ÷ customer-months = revenue ÷ average active customers ÷ months.

revenue_vnd is net of credits and refunds, so a row, a group and even a whole view may be
negative (docs/schema.md, "Unknowns and credits"). Sums and ARPU stay plain sums and
means; the revenue share is NULL when the whole it divides by is not positive.
"""

from collections.abc import Sequence

from sqlalchemy import Subquery, func, literal, select

from queries.filters import Filters, Scope
from queries.marts import answered_from_mart
from queries.marts import customer_month as customer_month_mart
from queries.measures_base import (
    Measure,
    customer_dimensions,
    customer_scope,
    period_bounds,
    period_months,
    share_of_total,
    summarise,
    with_customer,
)
from queries.sql_functions import ratio
from queries.tables import revenue_monthly


@answered_from_mart(customer_month_mart.revenue_facts)
def revenue_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """One row per customer-month in the period: revenue_vnd and customer_month = 1."""
    start, stop = period_bounds(filters)
    r = revenue_monthly.c
    return (
        select(
            *customer_dimensions(by, filters, r.revenue_month),
            r.revenue_vnd.label("revenue_vnd"),
            literal(1).label("customer_month"),
        )
        .select_from(with_customer(revenue_monthly, r.customer_id, by))
        .where(r.revenue_month >= start, r.revenue_month < stop, customer_scope(filters, scope))
        .subquery("facts")
    )


def _revenue(filters: Filters, scope: Scope, by):
    facts = revenue_facts(filters, scope, by)
    return summarise(
        facts,
        by,
        {"revenue": lambda f: func.coalesce(func.sum(f.revenue_vnd), 0)},
        lambda a: a["revenue"],
        months=period_months(filters),
    )


def _arpu(filters: Filters, scope: Scope, by):
    facts = revenue_facts(filters, scope, by)
    return summarise(
        facts,
        by,
        {
            "numerator": lambda f: func.coalesce(func.sum(f.revenue_vnd), 0),
            "denominator": lambda f: func.coalesce(func.sum(f.customer_month), 0),
        },
        lambda a: ratio(a["numerator"], a["denominator"]),
        months=period_months(filters),
    )


def _revenue_share(filters: Filters, scope: Scope, by):
    facts = revenue_facts(filters, scope, by)
    return summarise(
        facts,
        by,
        {"numerator": lambda f: func.coalesce(func.sum(f.revenue_vnd), 0)},
        share_of_total(by, positive_whole=True),
        months=period_months(filters),
    )


REVENUE_MEASURES: tuple[Measure, ...] = (
    Measure(
        name="revenue",
        label_vi="Doanh thu",
        label_en="Revenue",
        description_vi="Tổng doanh thu dịch vụ thuần trong kỳ (đồng): cước phát sinh trừ các khoản giảm trừ và "
        "hoàn tiền, nên có thể âm.",
        description_en="Net service revenue earned in the period (VND): charges less credits and refunds, so it "
        "can be negative.",
        unit="vnd",
        direction=1,
        kind="flow",
        topic="revenue",
        sources=("revenue_monthly", "customers"),
        build=_revenue,
    ),
    Measure(
        name="arpu",
        label_vi="ARPU (doanh thu bình quân mỗi khách hàng/tháng)",
        label_en="ARPU (average revenue per customer per month)",
        description_vi="Doanh thu thuần trong kỳ ÷ số khách hàng hoạt động bình quân ÷ số tháng, tức doanh thu "
        "thuần ÷ số khách hàng-tháng (mỗi tháng khách hàng có hoạt động là một khách hàng-tháng). Doanh thu thuần "
        "đã trừ giảm trừ và hoàn tiền.",
        description_en="Net revenue in the period ÷ average active customers ÷ months, i.e. net revenue ÷ "
        "customer-months (each month a customer was active counts once). Net revenue is after credits and "
        "refunds.",
        unit="vnd",
        direction=1,
        kind="flow",
        topic="revenue",
        sources=("revenue_monthly", "customers"),
        build=_arpu,
        summable=False,
    ),
    Measure(
        name="revenue_share",
        label_vi="Tỷ trọng doanh thu",
        label_en="Revenue share",
        description_vi="Doanh thu thuần trong kỳ của nhóm ÷ tổng doanh thu thuần của mọi nhóm trong bộ lọc (sau "
        "giảm trừ và hoàn tiền; một nhóm có doanh thu âm có tỷ trọng âm; không tính khi tổng không dương).",
        description_en="Net revenue of the group in the period ÷ net revenue of all groups in the filter (after "
        "credits and refunds; a group with negative revenue has a negative share; none when the total is not "
        "positive).",
        unit="percent",
        direction=0,
        kind="flow",
        topic="revenue",
        sources=("revenue_monthly", "customers"),
        build=_revenue_share,
    ),
)
