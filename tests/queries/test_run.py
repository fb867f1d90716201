"""run() turns a select into a Polars frame, the same way on DuckDB and PostgreSQL."""

from datetime import date

import polars as pl
from sqlalchemy import create_engine

from queries.dimensions import data_through, freshness_select, month_range_select, province_options_select
from queries.filters import Filters, Scope
from queries.metrics import measure_select
from queries.overview import overview_selects
from queries.run import run, run_many

LAST_MONTH = Filters(date(2026, 10, 1), date(2026, 10, 1))


def test_run_returns_polars_with_the_select_columns(warehouse_url):
    engine = create_engine(warehouse_url)
    try:
        select = measure_select("churn_rate", LAST_MONTH, Scope(), ("province_code",))
        with engine.connect() as connection:
            frame = run(select, connection)
        assert isinstance(frame, pl.DataFrame)
        assert frame.columns == ["province_code", "value", "numerator", "denominator"]
        assert frame.schema["province_code"] == pl.String and frame.schema["value"] == pl.Float64
        assert 1 <= frame.height <= 34
        # an Engine works too (run opens and closes its own connection)
        assert run(select, engine).equals(frame)
    finally:
        engine.dispose()


def test_empty_results_keep_their_columns_and_types(warehouse_url):
    """Nothing selected (a scope that excludes the filter): still typed columns, no rows."""
    engine = create_engine(warehouse_url)
    try:
        nothing = Filters(date(2026, 10, 1), date(2026, 10, 1), provinces=("79",))
        scope = Scope(provinces=frozenset({"01"}))
        frame = run(measure_select("resolve_time_median_h", nothing, scope, ("province_code",)), engine)
        assert frame.is_empty()
        assert frame.schema["province_code"] == pl.String and frame.schema["value"] == pl.Float64
        single = run(measure_select("resolve_time_median_h", nothing, scope), engine)
        assert single.height == 1 and single["value"][0] is None and single.schema["value"] == pl.Float64
    finally:
        engine.dispose()


def test_run_many_and_the_overview_and_dimension_selects(warehouse_url):
    engine = create_engine(warehouse_url)
    try:
        frames = run_many(
            {
                **overview_selects(LAST_MONTH, Scope()),
                "freshness": freshness_select(),
                "months": month_range_select(),
                "provinces": province_options_select(Scope(provinces=frozenset({"01", "79"}))),
            },
            engine,
        )
        assert data_through(engine) == date(2026, 10, 1)
    finally:
        engine.dispose()
    assert frames["kpis"].columns == ["measure", "period", "value"] and frames["kpis"].height == 18
    assert frames["trends"].columns == ["measure", "month", "value"] and frames["trends"].height == 9 * 12
    assert frames["targets"].columns == ["measure", "target", "target_rows"]
    assert frames["map"].height == 34 and frames["map"]["value"].null_count() < 34
    assert set(frames["changes"]["dimension"]) == {"province_code", "segment"}
    assert frames["freshness"]["data_through"][0] == date(2026, 10, 1)
    assert frames["months"]["last_month"][0] == date(2026, 10, 1)
    assert frames["provinces"]["province_code"].to_list() == ["01", "79"]
    assert {"name_vi", "name_en", "macro_region", "lat", "lon"} <= set(frames["provinces"].columns)
