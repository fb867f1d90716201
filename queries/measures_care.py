"""Care-channel measures from care_contacts_monthly (call centre).

The table is kept per province, month and channel, with no customer: only the province
and region filters (intersected with the role scope) apply; segment, plan, age band and
area type filters cannot, and the measures say so (Measure.customer_filters = False).
"""

from collections.abc import Sequence

from sqlalchemy import Subquery, func, select

from queries.filters import Filters, Scope
from queries.measures_base import (
    PROVINCE_DIMENSIONS,
    Measure,
    period_bounds,
    period_months,
    province_dimensions,
    province_scope,
    summarise,
    with_province,
)
from queries.sql_functions import ratio
from queries.tables import care_contacts_monthly

m = care_contacts_monthly.c
NOT_BY_CUSTOMER_VI = " Chỉ áp dụng bộ lọc tỉnh/miền (số liệu tổng hợp, không theo khách hàng)."
NOT_BY_CUSTOMER_EN = " Only the province/region filters apply (aggregate data, no customer)."


def call_centre_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    start, stop = period_bounds(filters)
    return (
        select(
            *province_dimensions(by, m.province_code, m.contact_month),
            m.contacts_offered,
            m.answered_within_60s,
            m.contacts_handled,
            m.handle_time_s_total,
        )
        .select_from(with_province(care_contacts_monthly, m.province_code, by))
        .where(
            m.channel == "call_centre",
            m.contact_month >= start,
            m.contact_month < stop,
            province_scope(m.province_code, filters, scope),
        )
        .subquery("facts")
    )


def _ratio_builder(numerator: str, denominator: str):
    def build(filters: Filters, scope: Scope, by):
        facts = call_centre_facts(filters, scope, by)
        return summarise(
            facts,
            by,
            {
                "numerator": lambda f: func.coalesce(func.sum(f[numerator]), 0),
                "denominator": lambda f: func.coalesce(func.sum(f[denominator]), 0),
            },
            lambda a: ratio(a["numerator"], a["denominator"]),
            months=period_months(filters),
        )

    return build


CARE_MEASURES: tuple[Measure, ...] = (
    Measure(
        name="call_answer_rate",
        label_vi="Tỷ lệ cuộc gọi được trả lời trong 60 giây",
        label_en="Calls answered within 60 s",
        description_vi="Cuộc gọi tổng đài được trả lời trong 60 giây ÷ cuộc gọi đến (mục tiêu ≥ 80%)."
        + NOT_BY_CUSTOMER_VI,
        description_en="Call-centre calls answered within 60 s ÷ calls offered (target ≥ 80%)." + NOT_BY_CUSTOMER_EN,
        unit="percent",
        direction=1,
        kind="flow",
        topic="care",
        sources=("care_contacts_monthly",),
        build=_ratio_builder("answered_within_60s", "contacts_offered"),
        dimensions=PROVINCE_DIMENSIONS,
        customer_filters=False,
    ),
    Measure(
        name="avg_handle_time",
        label_vi="Thời gian xử lý trung bình cuộc gọi (giây)",
        label_en="Average handle time (seconds)",
        description_vi="Tổng thời gian xử lý ÷ số cuộc gọi được xử lý tại tổng đài." + NOT_BY_CUSTOMER_VI,
        description_en="Total handling time ÷ calls handled at the call centre." + NOT_BY_CUSTOMER_EN,
        unit="seconds",
        direction=0,
        kind="flow",
        topic="care",
        sources=("care_contacts_monthly",),
        build=_ratio_builder("handle_time_s_total", "contacts_handled"),
        dimensions=PROVINCE_DIMENSIONS,
        customer_filters=False,
    ),
)
