"""All-or-nothing loads on DuckDB and PostgreSQL: a load that fails half-way leaves the old warehouse.

Each test starts from an empty warehouse (empty_duck_url / empty_pg_url), seeds a small
one, then loads again, successfully or not, and reads what is left.
"""

from datetime import date

import duckdb
import polars as pl
import pytest
from sqlalchemy import create_engine, text

from data_seed import seed_warehouse
from data_seed.generate import generate_tables
from data_seed.load import atomic_load
from queries.engine import duckdb_path
from queries.tables import metadata

END = date(2026, 10, 1)
META_KEYS = {"data_through", "loaded_at", "source", "data_version", "seed"}


def small_seed(url: str, seed: int = 1) -> dict[str, int]:
    return seed_warehouse(url, customers=600, months=4, seed=seed, end_month=END)


def read_state(url: str) -> tuple[dict[str, int], dict[str, str]]:
    """Row counts of every table and the warehouse_meta entries, read through SQLAlchemy."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        with engine.connect() as connection:
            counts = {
                name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                for name in metadata.tables
            }
            meta = dict(connection.execute(text("SELECT key, value FROM warehouse_meta")).all())
    finally:
        engine.dispose()
    return counts, meta


def failing_load(url: str) -> None:
    """Writes several tables (one of them in two chunks), then fails before the end."""
    with pytest.raises(RuntimeError, match="half-way"):
        with atomic_load(url, source="test: fails half-way") as load:
            for count, (name, frame) in enumerate(generate_tables(customers=900, months=3, seed=99, end_month=END)):
                load.write(name, frame)
                if name == "customers":
                    load.write(name, frame.with_columns(pl.col("customer_id") + 1_000_000))
                if count == 7:
                    raise RuntimeError("disk full half-way")


def bad_frame_load(url: str) -> None:
    with pytest.raises(ValueError, match="columns do not match"):
        with atomic_load(url, source="test: wrong columns") as load:
            load.write("provinces", pl.DataFrame({"province_code": ["01"], "oops": [1]}))


# --- DuckDB ---------------------------------------------------------------------------------------


def test_duckdb_load_creates_every_table_and_the_meta(empty_duck_url):
    counts = small_seed(empty_duck_url)
    stored, meta = read_state(empty_duck_url)
    assert stored == counts
    assert counts["customers"] == 600 and counts["provinces"] == 34
    assert set(meta) == META_KEYS
    assert meta["data_through"] == "2026-10-01" and meta["seed"] == "1"
    assert meta["source"].startswith("generate customers=600")
    assert len(meta["data_version"]) == 32
    # Only the warehouse file is left in its directory.
    assert [path.name for path in duckdb_path(empty_duck_url).parent.iterdir()] == ["warehouse.duckdb"]


def test_duckdb_failed_load_leaves_the_old_warehouse(empty_duck_url):
    small_seed(empty_duck_url)
    before = read_state(empty_duck_url)
    failing_load(empty_duck_url)
    bad_frame_load(empty_duck_url)
    assert read_state(empty_duck_url) == before
    assert [path.name for path in duckdb_path(empty_duck_url).parent.iterdir()] == ["warehouse.duckdb"]


def test_duckdb_reader_of_the_old_file_keeps_reading_it_after_a_new_load(empty_duck_url):
    small_seed(empty_duck_url, seed=1)
    reader = duckdb.connect(str(duckdb_path(empty_duck_url)), read_only=True)
    try:
        old_version = reader.execute("SELECT value FROM warehouse_meta WHERE key = 'data_version'").fetchall()[0][0]
        old_revenue = reader.execute("SELECT sum(revenue_vnd) FROM revenue_monthly").fetchall()[0][0]
        small_seed(empty_duck_url, seed=2)
        # The open connection still sees the complete old data…
        assert reader.execute("SELECT sum(revenue_vnd) FROM revenue_monthly").fetchall()[0][0] == old_revenue
    finally:
        reader.close()
    # … and a new one sees the new load.
    counts, meta = read_state(empty_duck_url)
    assert meta["data_version"] != old_version and meta["seed"] == "2"


def test_load_without_data_through_takes_the_last_revenue_month(empty_duck_url):
    with atomic_load(empty_duck_url, source="test") as load:
        for name, frame in generate_tables(customers=200, months=2, seed=3, end_month=END):
            load.write(name, frame)
    _, meta = read_state(empty_duck_url)
    assert meta["data_through"] == "2026-10-01"
    assert "seed" not in meta


def test_unknown_table_is_refused(empty_duck_url):
    with pytest.raises(ValueError, match="unknown table"):
        with atomic_load(empty_duck_url, source="test") as load:
            load.write("no_such_table", pl.DataFrame({"x": [1]}))
    assert not duckdb_path(empty_duck_url).exists()


# --- PostgreSQL ---------------------------------------------------------------------------------------


def staging_leftovers(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            schemas = connection.execute(
                text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'loading%'")
            ).scalars()
            tables = connection.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%loading%'")
            ).scalars()
            return [*schemas, *tables]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_load_creates_tables_keys_and_meta(empty_pg_url):
    counts = small_seed(empty_pg_url)
    stored, meta = read_state(empty_pg_url)
    assert stored == counts
    assert set(meta) == META_KEYS and meta["data_through"] == "2026-10-01"
    engine = create_engine(empty_pg_url)
    try:
        with engine.connect() as connection:
            keys = connection.execute(
                text(
                    "SELECT count(*) FROM information_schema.table_constraints "
                    "WHERE constraint_type = 'PRIMARY KEY' AND table_schema = 'public'"
                )
            ).scalar_one()
            index = connection.execute(
                text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_customers_province_code'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert keys == len(metadata.tables)
    assert index == 1
    assert staging_leftovers(empty_pg_url) == []


@pytest.mark.postgres
def test_postgres_failed_load_leaves_the_old_warehouse(empty_pg_url):
    small_seed(empty_pg_url)
    before = read_state(empty_pg_url)
    failing_load(empty_pg_url)
    bad_frame_load(empty_pg_url)
    assert read_state(empty_pg_url) == before
    assert staging_leftovers(empty_pg_url) == []


@pytest.mark.postgres
def test_postgres_second_load_replaces_the_first(empty_pg_url):
    small_seed(empty_pg_url, seed=1)
    _, first = read_state(empty_pg_url)
    counts = small_seed(empty_pg_url, seed=2)
    stored, second = read_state(empty_pg_url)
    assert stored == counts
    assert second["seed"] == "2" and second["data_version"] != first["data_version"]
    assert staging_leftovers(empty_pg_url) == []


@pytest.mark.postgres
def test_postgres_swap_refused_by_a_dependent_view_rolls_back(empty_pg_url):
    """A view outside the warehouse on one of its tables makes the swap fail: nothing changes."""
    small_seed(empty_pg_url)
    engine = create_engine(empty_pg_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE VIEW active_customers_view AS SELECT * FROM customers"))
    finally:
        engine.dispose()
    before = read_state(empty_pg_url)
    with pytest.raises(Exception, match="depend"):
        small_seed(empty_pg_url, seed=5)
    assert read_state(empty_pg_url) == before
    assert staging_leftovers(empty_pg_url) == []
