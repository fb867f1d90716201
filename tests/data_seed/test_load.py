"""All-or-nothing loads on DuckDB and PostgreSQL: a load that fails half-way leaves the old warehouse.

Each test starts from an empty warehouse (empty_duck_url / empty_pg_url), seeds a small
one, then loads again, successfully or not, and reads what is left.
"""

import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from sqlalchemy import create_engine, text

from data_seed import seed_warehouse
from data_seed.generate import generate_tables
from data_seed.load import atomic_load
from queries.engine import PROJECT_ROOT, duckdb_path
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


# --- DuckDB: what a load killed mid-way leaves behind ---------------------------------------------

# A load in another process that writes some tables, says "ready" and waits for a line on stdin.
LOAD_IN_ANOTHER_PROCESS = """
import sys
from datetime import date
from data_seed.generate import generate_tables
from data_seed.load import atomic_load
with atomic_load(sys.argv[1], source="test: load in another process") as load:
    for name, frame in generate_tables(customers=300, months=2, seed=4, end_month=date(2026, 10, 1)):
        load.write(name, frame)
    print("ready", flush=True)
    sys.stdin.readline()
"""


def start_load_in_another_process(url: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", LOAD_IN_ANOTHER_PROCESS, url],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready", "the other load did not start"
    return process


def beside(url: str) -> list[str]:
    return sorted(path.name for path in duckdb_path(url).parent.iterdir())


def test_duckdb_load_removes_what_a_killed_load_left(empty_duck_url):
    process = start_load_in_another_process(empty_duck_url)
    process.kill()  # SIGKILL: no clean-up of its own
    process.wait(timeout=60)
    killed = [name for name in beside(empty_duck_url) if ".loading-" in name]
    assert any(name.endswith(".lock") for name in killed) and any(not name.endswith(".lock") for name in killed)
    # And what a killed load of an earlier version (no lock file) left: the file, its log, its spill.
    old = duckdb_path(empty_duck_url).with_name(f"warehouse.duckdb.loading-{uuid.uuid4().hex}")
    old.write_bytes(b"\0" * 4096)
    Path(f"{old}.wal").write_bytes(b"\0" * 4096)
    Path(f"{old}.tmp").mkdir()
    (Path(f"{old}.tmp") / "duckdb_temp_storage-0.tmp").write_bytes(b"\0" * 4096)
    small_seed(empty_duck_url)
    assert beside(empty_duck_url) == ["warehouse.duckdb"]


def test_duckdb_load_leaves_a_live_load_in_another_process_alone(empty_duck_url):
    process = start_load_in_another_process(empty_duck_url)
    try:
        live = [name for name in beside(empty_duck_url) if ".loading-" in name]
        small_seed(empty_duck_url)
        assert beside(empty_duck_url) == sorted([*live, "warehouse.duckdb"])
        assert read_state(empty_duck_url)[1]["seed"] == "1"
        process.stdin.write("go\n")
        process.stdin.flush()
        assert process.wait(timeout=120) == 0
    finally:
        process.kill()
    # The other load finished normally and replaced ours.
    assert read_state(empty_duck_url)[1]["source"] == "test: load in another process"
    assert beside(empty_duck_url) == ["warehouse.duckdb"]


def test_duckdb_load_leaves_a_live_load_of_the_same_process_alone(empty_duck_url):
    with atomic_load(empty_duck_url, source="test: outer load") as outer:
        for name, frame in generate_tables(customers=200, months=2, seed=3, end_month=END):
            outer.write(name, frame)
        small_seed(empty_duck_url)  # a whole load inside this one
        assert outer.temporary.exists() and outer.lock_path.exists()
    assert read_state(empty_duck_url)[1]["source"] == "test: outer load"
    assert beside(empty_duck_url) == ["warehouse.duckdb"]


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
