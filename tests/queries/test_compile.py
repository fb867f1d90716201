"""Every select compiles for DuckDB and PostgreSQL, and user values travel only as bound
parameters (never inside the SQL text)."""

from datetime import date

import pytest
from sqlalchemy import create_engine
from sqlalchemy.dialects import postgresql

from queries.dimensions import freshness_select, month_range_select, province_options_select, region_options_select
from queries.filters import Filters, Scope
from queries.measures_churn import port_outs_by_competitor_select
from queries.measures_complaints import backlog_ageing_select
from queries.measures_debt import debt_ageing_select
from queries.metrics import MEASURES, measure_select, target_select
from queries.overview import overview_selects

DIALECTS = {
    "duckdb": create_engine("duckdb:///:memory:").dialect,
    "postgresql": postgresql.psycopg2.dialect(),
}
BREAKDOWNS = [(), ("month",), ("province_code",), ("macro_region",), ("segment", "age_band"), ("month", "plan")]
INJECTION = "01'); DROP TABLE customers; --"
FILTERS = Filters(
    date(2026, 1, 1),
    date(2026, 6, 1),
    regions=("Nam",),
    provinces=("79", INJECTION),
    segments=("individual",),
    age_bands=("25-34",),
    plans=("prepaid",),
    area_types=("rural",),
)
SCOPE = Scope(role="regional", provinces=frozenset({"79", "01"}))


def compiled(select, dialect):
    return select.compile(dialect=DIALECTS[dialect])


def all_bound_values(compiled_select) -> list:
    values = []
    for value in compiled_select.params.values():
        values.extend(value if isinstance(value, list | tuple) else [value])
    return values


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("name", list(MEASURES))
def test_every_measure_compiles(name, dialect):
    measure = MEASURES[name]
    for by in BREAKDOWNS:
        if not set(by) <= set(measure.dimensions):
            with pytest.raises(ValueError):
                measure_select(name, FILTERS, SCOPE, by)
            continue
        select = measure_select(name, FILTERS, SCOPE, by)
        assert [column.name for column in select.selected_columns][: len(by) + 1] == [*by, "value"]
        result = compiled(select, dialect)
        # the filter ∩ scope reaches the query as a parameter: Hồ Chí Minh only
        assert "79" in all_bound_values(result) and "01" not in all_bound_values(result)
        assert "'79'" not in str(result)
    province_only = Filters(FILTERS.start_month, FILTERS.end_month, provinces=("79",))
    target = compiled(target_select(name, province_only, SCOPE), dialect)
    assert name in all_bound_values(target) and name not in str(target)


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("name", list(MEASURES))
def test_user_values_are_only_parameters(name, dialect):
    """A hostile province code travels as a parameter and never appears in the SQL text."""
    result = compiled(measure_select(name, FILTERS, Scope(), ("province_code",)), dialect)
    assert INJECTION in all_bound_values(result)
    assert "DROP TABLE" not in str(result)


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_other_selects_compile(dialect):
    selects = {
        **overview_selects(FILTERS, SCOPE),
        "freshness": freshness_select(),
        "months": month_range_select(),
        "provinces": province_options_select(SCOPE),
        "regions": region_options_select(SCOPE),
        "backlog": backlog_ageing_select(FILTERS, SCOPE, ("province_code",)),
        "debt_ageing": debt_ageing_select(FILTERS, SCOPE),
        "port_outs": port_outs_by_competitor_select(FILTERS, SCOPE, ("month",)),
    }
    for name, select in selects.items():
        sql = str(compiled(select, dialect))
        assert "DROP TABLE" not in sql, name


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_percentiles_compile_per_dialect(dialect):
    sql = str(compiled(measure_select("resolve_time_p90_h", FILTERS, SCOPE), dialect))
    if dialect == "duckdb":
        assert "quantile_cont(" in sql and "WITHIN GROUP" not in sql
    else:
        assert "percentile_cont(0.9) WITHIN GROUP (ORDER BY" in sql


def test_median_and_p90_do_not_share_a_cached_statement():
    """The fraction is part of the statement, so SQLAlchemy's compiled cache keeps them apart."""
    median = measure_select("resolve_time_median_h", FILTERS, SCOPE)
    p90 = measure_select("resolve_time_p90_h", FILTERS, SCOPE)
    assert median._generate_cache_key() != p90._generate_cache_key()
