"""A reader never keeps serving a DuckDB file that a load replaced (queries/engine.py)."""

import os

import duckdb
from sqlalchemy import text

from queries.engine import make_engine


def write_file(path, value: int) -> None:
    """A warehouse file made aside and swapped in, as a load does."""
    aside = path.with_name(f"aside-{value}.duckdb")
    with duckdb.connect(str(aside)) as connection:
        connection.execute(f"CREATE TABLE answer AS SELECT {value} AS value")
    os.replace(aside, path)


def read(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT value FROM answer")).scalar_one()


def test_a_connection_held_across_a_swap_does_not_pin_the_old_file_for_new_readers(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    write_file(path, 1)
    before = make_engine(f"duckdb:///{path}", read_only=True)
    held = before.connect()  # a page mid-query while the load swaps the file
    assert held.execute(text("SELECT value FROM answer")).scalar_one() == 1
    write_file(path, 2)
    after = make_engine(f"duckdb:///{path}", read_only=True)
    assert read(after) == 2
    assert read(after) == 2  # and its pooled connections stay on the new file
    assert held.execute(text("SELECT value FROM answer")).scalar_one() == 1  # the old query finishes
    held.close()
    before.dispose()
    after.dispose()


def test_readers_of_one_version_share_a_bounded_instance_and_cannot_write(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    write_file(path, 7)
    engine = make_engine(f"duckdb:///{path}", read_only=True)
    with engine.connect() as first, engine.connect() as second:
        limit = first.execute(text("SELECT current_setting('memory_limit')")).scalar_one()
        assert limit.endswith("MiB") and float(limit.split()[0]) < 1024
        assert second.execute(text("SELECT value FROM answer")).scalar_one() == 7
        try:
            second.execute(text("CREATE TABLE other (x INTEGER)"))
            written = True
        except Exception:
            written = False
    assert not written
    engine.dispose()
