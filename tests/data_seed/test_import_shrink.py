"""An import that would empty the warehouse, or cut a table below half, is refused unless forced.

The extract is a small seeded warehouse exported to CSV. Each test loads it into a fresh
warehouse, then imports something smaller through the command line (data_seed.__main__)
and reads what is left: a refused import changes neither the rows nor the file's bytes.
"""

import hashlib
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from data_seed.__main__ import main
from data_seed.importer import KEEP_AT_LEAST, loaded_row_counts, shrinking_tables
from queries.engine import duckdb_path
from tests.warehouse_files import export_warehouse, warehouse_checksum

CUSTOMERS = 400


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    from data_seed import seed_warehouse

    url = f"duckdb:///{tmp_path_factory.mktemp('shrink_source') / 'source.duckdb'}"
    seed_warehouse(url, customers=CUSTOMERS, months=4, seed=5, end_month=date(2026, 10, 1))
    return export_warehouse(url, tmp_path_factory.mktemp("shrink_csv"), "csv")


def run_import(directory: Path, url: str, *more: str) -> int:
    return main(["import", str(directory), "--url", url, *more])


@pytest.fixture()
def loaded(extract, empty_duck_url) -> str:
    assert run_import(extract, empty_duck_url) == 0
    return empty_duck_url


@pytest.fixture()
def header_only(extract, tmp_path) -> Path:
    """customers.csv with its header and no rows, alone in the folder."""
    directory = tmp_path / "header_only"
    directory.mkdir()
    header = (extract / "customers.csv").read_text(encoding="utf-8").splitlines()[0]
    (directory / "customers.csv").write_text(header + "\n", encoding="utf-8")
    return directory


def file_digest(url: str) -> str:
    return hashlib.sha256(duckdb_path(url).read_bytes()).hexdigest()


def test_header_only_file_is_refused_and_nothing_changes(loaded, header_only, capsys):
    before_rows, before_bytes = warehouse_checksum(loaded), file_digest(loaded)
    counts = loaded_row_counts(loaded)
    capsys.readouterr()
    assert run_import(header_only, loaded) != 0
    assert file_digest(loaded) == before_bytes
    assert warehouse_checksum(loaded) == before_rows
    report = capsys.readouterr().err
    assert "Import refused: it would shrink these tables sharply; nothing was written." in report
    assert f"  customers: {CUSTOMERS:,} → 0 rows\n" in report
    assert f"  revenue_monthly: {counts['revenue_monthly']:,} → 0 rows (no revenue_monthly file)\n" in report
    assert "run the same command again with --force" in report
    beside = [path.name for path in duckdb_path(loaded).parent.iterdir() if path.name.startswith("warehouse")]
    assert beside == ["warehouse.duckdb"]  # no load was even started


def test_header_only_file_with_force_empties_the_warehouse(loaded, header_only):
    assert run_import(header_only, loaded, "--force") == 0
    counts = loaded_row_counts(loaded)
    assert counts["customers"] == 0 and counts["revenue_monthly"] == 0


def test_one_table_cut_below_half_is_refused_alone(loaded, extract, tmp_path, capsys):
    directory = Path(shutil.copytree(extract, tmp_path / "cut"))
    revenue = pl.read_csv(directory / "revenue_monthly.csv", infer_schema=False)
    kept = revenue.height // 3
    revenue.head(kept).write_csv(directory / "revenue_monthly.csv")
    before = warehouse_checksum(loaded)
    capsys.readouterr()
    assert run_import(directory, loaded) != 0
    assert warehouse_checksum(loaded) == before
    report = capsys.readouterr().err
    assert f"  revenue_monthly: {revenue.height:,} → {kept:,} rows\n" in report
    assert "customers:" not in report and "bills:" not in report


def test_reimporting_the_same_data_passes(loaded, extract):
    before = loaded_row_counts(loaded)
    assert run_import(extract, loaded) == 0
    assert loaded_row_counts(loaded) == before


def test_an_empty_or_missing_warehouse_imposes_no_limit(header_only, empty_duck_url):
    assert loaded_row_counts(empty_duck_url) == {}
    assert not duckdb_path(empty_duck_url).exists()  # looking did not create it
    assert run_import(header_only, empty_duck_url) == 0
    assert run_import(header_only, empty_duck_url) == 0  # 0 rows now: nothing to lose


def test_the_limit_is_half_of_what_a_table_has_now():
    assert KEEP_AT_LEAST == 0.5
    now = {"customers": 10, "complaints": 7, "bills": 0}
    assert shrinking_tables(now, {"customers": 5, "complaints": 4, "bills": 0, "staff": 3}) == []
    assert shrinking_tables(now, {"customers": 4, "complaints": 3, "bills": 0, "staff": 0}) == [
        ("customers", 10, 4),
        ("complaints", 7, 3),
    ]
    assert shrinking_tables({}, {"customers": 0}) == []


def test_a_warehouse_that_cannot_be_read_is_not_replaced_unless_forced(extract, empty_duck_url, capsys):
    path = duckdb_path(empty_duck_url)
    path.write_bytes(b"not a DuckDB file, but maybe someone's data")
    capsys.readouterr()
    assert run_import(extract, empty_duck_url) != 0
    assert path.read_bytes() == b"not a DuckDB file, but maybe someone's data"
    assert "cannot count the rows of the current warehouse" in capsys.readouterr().err
    assert run_import(extract, empty_duck_url, "--force") == 0
    assert loaded_row_counts(empty_duck_url)["customers"] == CUSTOMERS


@pytest.mark.postgres
def test_header_only_file_is_refused_on_postgresql_unless_forced(extract, header_only, empty_pg_url, capsys):
    assert run_import(extract, empty_pg_url) == 0
    before = loaded_row_counts(empty_pg_url)
    assert before["customers"] == CUSTOMERS
    capsys.readouterr()
    assert run_import(header_only, empty_pg_url) != 0
    assert f"  customers: {CUSTOMERS:,} → 0 rows\n" in capsys.readouterr().err
    assert loaded_row_counts(empty_pg_url) == before
    assert run_import(header_only, empty_pg_url, "--force") == 0
    assert loaded_row_counts(empty_pg_url)["customers"] == 0
