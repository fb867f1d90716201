"""Survey measures: NPS, overall CSAT and the four aspect scores (responses in the period)."""

from collections.abc import Sequence

from sqlalchemy import Subquery, case, func, select

from queries.filters import Filters, Scope
from queries.marts import answered_from_mart
from queries.marts import surveys as surveys_mart
from queries.measures_base import (
    Measure,
    customer_dimensions,
    customer_scope,
    period_bounds,
    period_months,
    summarise,
    with_customer,
)
from queries.sql_functions import month_start, ratio
from queries.tables import ASPECT_COLUMNS, surveys

s = surveys.c


@answered_from_mart(surveys_mart.survey_facts)
def survey_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    start, stop = period_bounds(filters)
    return (
        select(
            *customer_dimensions(by, filters, month_start(s.surveyed_on)),
            case((s.nps_score >= 9, 1), else_=0).label("promoter"),
            case((s.nps_score <= 6, 1), else_=0).label("detractor"),
            s.csat_score,
            *(s[column] for column, _, _ in ASPECT_COLUMNS.values()),
        )
        .select_from(with_customer(surveys, s.customer_id, by))
        .where(s.surveyed_on >= start, s.surveyed_on < stop, customer_scope(filters, scope))
        .subquery("facts")
    )


def _nps(filters: Filters, scope: Scope, by):
    facts = survey_facts(filters, scope, by)
    return summarise(
        facts,
        by,
        {
            "promoters": lambda f: func.coalesce(func.sum(f.promoter), 0),
            "detractors": lambda f: func.coalesce(func.sum(f.detractor), 0),
            "n": lambda f: func.count(),
        },
        lambda a: 100.0 * ratio(a["promoters"] - a["detractors"], a["n"]),
        months=period_months(filters),
    )


def _mean_builder(column: str):
    def build(filters: Filters, scope: Scope, by):
        facts = survey_facts(filters, scope, by)
        return summarise(
            facts,
            by,
            {
                "numerator": lambda f: func.coalesce(func.sum(f[column]), 0),
                "denominator": lambda f: func.count(f[column]),
            },
            lambda a: ratio(a["numerator"], a["denominator"]),
            months=period_months(filters),
        )

    return build


SURVEY_MEASURES: tuple[Measure, ...] = (
    Measure(
        name="nps",
        label_vi="NPS",
        label_en="NPS",
        description_vi="% khách hàng giới thiệu (điểm 9–10) − % khách hàng phản đối (0–6) trên các phiếu khảo sát "
        "trong kỳ; từ −100 đến +100.",
        description_en="% promoters (9–10) − % detractors (0–6) among survey responses in the period; −100…+100.",
        unit="points",
        direction=1,
        kind="flow",
        topic="surveys",
        sources=("surveys", "customers"),
        build=_nps,
    ),
    Measure(
        name="survey_csat",
        label_vi="CSAT khảo sát (1–5)",
        label_en="Survey CSAT (1–5)",
        description_vi="Điểm hài lòng chung trung bình (1–5) của các phiếu khảo sát trong kỳ.",
        description_en="Mean overall satisfaction score (1–5) of survey responses in the period.",
        unit="score",
        direction=1,
        kind="flow",
        topic="surveys",
        sources=("surveys", "customers"),
        build=_mean_builder("csat_score"),
    ),
    *(
        Measure(
            name=f"survey_{aspect}",
            label_vi=f"Điểm {label_vi} (1–5)",
            label_en=f"Score: {label_en} (1–5)",
            description_vi=f"Điểm trung bình (1–5) về {label_vi} của các phiếu khảo sát trong kỳ.",
            description_en=f"Mean score (1–5) for {label_en} in survey responses in the period.",
            unit="score",
            direction=1,
            kind="flow",
            topic="surveys",
            sources=("surveys", "customers"),
            build=_mean_builder(column),
        )
        for aspect, (column, label_vi, label_en) in ASPECT_COLUMNS.items()
    ),
)
