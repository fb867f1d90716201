"""Churn-side measures: number portability (MNP), win-back and retention-campaign uplift."""

from collections.abc import Sequence

from sqlalchemy import FromClause, Subquery, and_, case, func, literal, select, union_all

from queries.filters import Filters, Scope
from queries.marts import answered_from_mart, mart_churn_events
from queries.marts import customer_month as customer_month_mart
from queries.marts.reading import mart_dimensions, mart_scope, with_region
from queries.measures_base import (
    Measure,
    customer_dimensions,
    customer_scope,
    period_bounds,
    period_months,
    summarise,
    validate_by,
    with_customer,
)
from queries.rules import CONFIDENCE_Z, WINBACK_WINDOW_DAYS
from queries.sql_functions import as_double, days_between, month_start, ratio
from queries.tables import campaign_targets, churn_events, customers, provinces

c = customers.c
e = churn_events.c
t = campaign_targets.c


def customers_source(by: Sequence[str]) -> FromClause:
    if "macro_region" in by:
        return customers.join(provinces, provinces.c.province_code == c.province_code)
    return customers


EVENT_COLUMNS: tuple[str, ...] = ("churn_type", "reason", "ported_to")


def _churn_event_source_on_mart(filters: Filters, scope: Scope, dimensions: Sequence[str]):
    """mart_churn_events: its columns, the wanted dimensions on it, itself, its scope."""
    mart = mart_churn_events
    on_mart_dimensions = mart_dimensions(dimensions, filters, mart, mart.c.month)
    return mart.c, on_mart_dimensions, with_region(mart, dimensions), mart_scope(filters, scope, mart)


@answered_from_mart(_churn_event_source_on_mart)
def _churn_event_source(filters: Filters, scope: Scope, dimensions: Sequence[str]):
    """(event columns, the wanted customer dimensions, source, in-view condition):
    churn_events ⋈ customers."""
    wanted = customer_dimensions(dimensions, filters, month_start(e.churned_on))
    return e, wanted, with_customer(churn_events, e.customer_id, dimensions), customer_scope(filters, scope)


def churn_event_facts(
    filters: Filters, scope: Scope, by: Sequence[str], columns: Sequence[str] = (), member: str | None = None
) -> Subquery:
    """Churn events (churn_events.churned_on) in the period, in view: [*by, *columns, member?].
    columns ⊂ EVENT_COLUMNS; member (labelled "member") is an event column or a customer
    dimension. From queries.marts.mart_churn_events, or the raw tables when the marts are off
    (the same rows)."""
    start, stop = period_bounds(filters)
    wanted = [name for name in (member,) if name and name not in EVENT_COLUMNS]
    events, dimensions, source, in_view = _churn_event_source(filters, scope, (*by, *wanted))
    named = {column.name: column for column in dimensions} | {name: events[name] for name in EVENT_COLUMNS}
    selected = [named[name].label(name) for name in (*by, *columns)]
    if member:
        selected.append(named[member].label("member"))
    return (
        select(*selected)
        .select_from(source)
        .where(events.churned_on >= start, events.churned_on < stop, in_view)
        .subquery("churn_facts")
    )


@answered_from_mart(customer_month_mart.port_facts)
def port_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """Port-ins (activated in the period with a donor operator) and port-outs (churned in the
    period to a competitor), side by side: port_in / port_out are 0 or 1. A donor or
    destination the extract does not name ('unknown') is still a port: only NULL is not."""
    start, stop = period_bounds(filters)
    ins = (
        select(
            *customer_dimensions(by, filters, month_start(c.activated_on)),
            literal(1).label("port_in"),
            literal(0).label("port_out"),
        )
        .select_from(customers_source(by))
        .where(
            c.ported_in_from.is_not(None),
            c.activated_on >= start,
            c.activated_on < stop,
            customer_scope(filters, scope),
        )
    )
    outs = (
        select(
            *customer_dimensions(by, filters, month_start(e.churned_on)),
            literal(0).label("port_in"),
            literal(1).label("port_out"),
        )
        .select_from(with_customer(churn_events, e.customer_id, by))
        .where(e.ported_to.is_not(None), e.churned_on >= start, e.churned_on < stop, customer_scope(filters, scope))
    )
    return union_all(ins, outs).subquery("facts")


def _port_builder(which: str):
    def build(filters: Filters, scope: Scope, by):
        facts = port_facts(filters, scope, by)
        aggregates = {
            "port_ins": lambda f: func.coalesce(func.sum(f.port_in), 0),
            "port_outs": lambda f: func.coalesce(func.sum(f.port_out), 0),
        }
        values = {
            "port_ins": lambda a: a["port_ins"],
            "port_outs": lambda a: a["port_outs"],
            "net_port": lambda a: a["port_ins"] - a["port_outs"],
        }
        return summarise(facts, by, aggregates, values[which], months=period_months(filters))

    return build


@answered_from_mart(customer_month_mart.port_outs_by_competitor_select)
def port_outs_by_competitor_select(filters: Filters, scope: Scope, by: Sequence[str] = ()):
    """Numbers ported out in the period to each destination: [*by, competitor, value];
    competitor is one of queries.tables.PORT_DESTINATIONS ('unknown' included)."""
    by = validate_by(by)
    start, stop = period_bounds(filters)
    facts = (
        select(*customer_dimensions(by, filters, month_start(e.churned_on)), e.ported_to.label("competitor"))
        .select_from(with_customer(churn_events, e.customer_id, by))
        .where(e.ported_to.is_not(None), e.churned_on >= start, e.churned_on < stop, customer_scope(filters, scope))
        .subquery("facts")
    )
    keys = [facts.c[name] for name in (*by, "competitor")]
    return select(*keys, as_double(func.count()).label("value")).group_by(*keys).order_by(*keys)


@answered_from_mart(customer_month_mart.winback_facts)
def winback_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    start, stop = period_bounds(filters)
    won_back = and_(e.won_back_on.is_not(None), days_between(e.churned_on, e.won_back_on) <= WINBACK_WINDOW_DAYS)
    facts = (
        select(
            *customer_dimensions(by, filters, month_start(e.churned_on)),
            case((won_back, 1), else_=0).label("won_back"),
            literal(1).label("cohort"),
        )
        .select_from(with_customer(churn_events, e.customer_id, by))
        .where(e.churned_on >= start, e.churned_on < stop, customer_scope(filters, scope))
        .subquery("facts")
    )
    return facts


def _winback_rate(filters: Filters, scope: Scope, by):
    facts = winback_facts(filters, scope, by)
    return summarise(
        facts,
        by,
        {
            "numerator": lambda f: func.coalesce(func.sum(f.won_back), 0),
            "denominator": lambda f: func.coalesce(func.sum(f.cohort), 0),
        },
        lambda a: ratio(a["numerator"], a["denominator"]),
        months=period_months(filters),
    )


@answered_from_mart(customer_month_mart.campaign_facts)
def campaign_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    start, stop = period_bounds(filters)
    contacted = t.group_name == "contacted"
    control = t.group_name == "control"
    facts = (
        select(
            *customer_dimensions(by, filters, month_start(t.targeted_on)),
            case((control, 1), else_=0).label("control"),
            case((and_(control, t.churned_within_90d), 1), else_=0).label("control_churned"),
            case((contacted, 1), else_=0).label("contacted"),
            case((and_(contacted, t.churned_within_90d), 1), else_=0).label("contacted_churned"),
        )
        .select_from(with_customer(campaign_targets, t.customer_id, by))
        .where(t.targeted_on >= start, t.targeted_on < stop, customer_scope(filters, scope))
        .subquery("facts")
    )
    return facts


def _campaign_uplift(filters: Filters, scope: Scope, by):
    facts = campaign_facts(filters, scope, by)

    def churn(a, group):
        return ratio(a[f"{group}_churned"], a[f"{group}_n"])

    def uplift(a):
        return churn(a, "control") - churn(a, "contacted")

    def standard_error(a):
        variance = sum(
            churn(a, group) * (1.0 - churn(a, group)) / func.nullif(a[f"{group}_n"], 0)
            for group in ("control", "contacted")
        )
        return func.sqrt(variance)

    return summarise(
        facts,
        by,
        {
            "control_n": lambda f: func.coalesce(func.sum(f.control), 0),
            "control_churned": lambda f: func.coalesce(func.sum(f.control_churned), 0),
            "contacted_n": lambda f: func.coalesce(func.sum(f.contacted), 0),
            "contacted_churned": lambda f: func.coalesce(func.sum(f.contacted_churned), 0),
        },
        uplift,
        months=period_months(filters),
        derived={
            "ci_low": lambda a: uplift(a) - CONFIDENCE_Z * standard_error(a),
            "ci_high": lambda a: uplift(a) + CONFIDENCE_Z * standard_error(a),
        },
    )


CHURN_MEASURES: tuple[Measure, ...] = (
    Measure(
        name="port_outs",
        label_vi="Chuyển mạng đi (MNP)",
        label_en="Port-outs (MNP)",
        description_vi="Số thuê bao rời mạng trong kỳ bằng cách chuyển mạng giữ số sang nhà mạng khác, kể cả khi "
        "không rõ nhà mạng nào.",
        description_en="Customers who left in the period by porting their number to a competitor, including those "
        "whose destination is unknown.",
        unit="count",
        direction=-1,
        kind="flow",
        topic="churn",
        sources=("churn_events", "customers"),
        build=_port_builder("port_outs"),
    ),
    Measure(
        name="port_ins",
        label_vi="Chuyển mạng đến (MNP)",
        label_en="Port-ins (MNP)",
        description_vi="Số khách hàng kích hoạt trong kỳ bằng cách chuyển mạng giữ số từ nhà mạng khác, kể cả khi "
        "không rõ nhà mạng nào.",
        description_en="Customers activated in the period by porting their number in from a competitor, including "
        "those whose donor is unknown.",
        unit="count",
        direction=1,
        kind="flow",
        topic="churn",
        sources=("customers",),
        build=_port_builder("port_ins"),
    ),
    Measure(
        name="net_port",
        label_vi="Chuyển mạng thuần",
        label_en="Net port",
        description_vi="Chuyển mạng đến − chuyển mạng đi trong kỳ.",
        description_en="Port-ins − port-outs in the period.",
        unit="count",
        direction=1,
        kind="flow",
        topic="churn",
        sources=("customers", "churn_events"),
        build=_port_builder("net_port"),
    ),
    Measure(
        name="winback_rate",
        label_vi="Tỷ lệ giành lại khách hàng",
        label_en="Win-back rate",
        description_vi=f"Khách hàng rời mạng trong kỳ được giành lại trong vòng {WINBACK_WINDOW_DAYS} ngày ÷ số "
        "khách hàng rời mạng trong kỳ (nhóm theo tháng rời mạng; các tháng gần nhất chưa đủ thời gian quan sát).",
        description_en=f"Customers who churned in the period and were re-acquired within {WINBACK_WINDOW_DAYS} "
        "days ÷ customers who churned in the period (cohort by churn month; the latest months are not yet "
        "fully observed).",
        unit="percent",
        direction=1,
        kind="flow",
        topic="churn",
        sources=("churn_events", "customers"),
        build=_winback_rate,
    ),
    Measure(
        name="campaign_uplift",
        label_vi="Hiệu quả chiến dịch giữ chân",
        label_en="Retention campaign uplift",
        description_vi="Tỷ lệ rời mạng trong 90 ngày của nhóm đối chứng − của nhóm được liên hệ, với khách hàng "
        "được chọn trong kỳ; kèm khoảng tin cậy 95% (xấp xỉ chuẩn, ci_low…ci_high).",
        description_en="90-day churn of the control group − 90-day churn of the contacted group, for customers "
        "targeted in the period; with a 95% confidence interval (normal approximation, ci_low…ci_high).",
        unit="percent",
        direction=1,
        kind="flow",
        topic="churn",
        sources=("campaign_targets", "customers"),
        build=_campaign_uplift,
    ),
)
