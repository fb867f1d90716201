"""The survey family: mart_surveys (one row per response) and the survey facts read from it."""

from collections.abc import Sequence

from sqlalchemy import Subquery, Table, case, select

from queries.filters import Filters, Scope
from queries.marts.base import copied_columns, group_columns, mart_metadata
from queries.marts.reading import mart_dimensions, mart_scope, with_region
from queries.measures_base import period_bounds
from queries.sql_functions import month_start
from queries.tables import ASPECT_COLUMNS, surveys

# One row per survey response with its customer's dimensions (~0.4 % of customer-months).
mart_surveys = Table(
    "mart_surveys",
    mart_metadata,
    *copied_columns(
        surveys,
        "survey_id",
        "customer_id",
        "surveyed_on",
        "nps_score",
        "csat_score",
        "network_quality_score",
        "procedure_speed_score",
        "staff_attitude_score",
        "price_score",
        key=("survey_id",),
    ),
    *group_columns(birth_year=True, key=False),
)


def survey_facts(filters: Filters, scope: Scope, by: Sequence[str]) -> Subquery:
    """As queries.measures_surveys.survey_facts: promoter, detractor, csat_score and the aspect scores."""
    start, stop = period_bounds(filters)
    v = mart_surveys.c
    return (
        select(
            *mart_dimensions(by, filters, mart_surveys, month_start(v.surveyed_on)),
            case((v.nps_score >= 9, 1), else_=0).label("promoter"),
            case((v.nps_score <= 6, 1), else_=0).label("detractor"),
            v.csat_score,
            *(v[column] for column, _, _ in ASPECT_COLUMNS.values()),
        )
        .select_from(with_region(mart_surveys, by))
        .where(v.surveyed_on >= start, v.surveyed_on < stop, mart_scope(filters, scope, mart_surveys))
        .subquery("facts")
    )
