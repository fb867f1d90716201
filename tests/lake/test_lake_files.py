"""The lake without Spark: the raw export, the manifest's all-or-nothing commit, the writer
lock, the comparison, and publishing marts into the warehouse. (The refresh on a Spark
cluster is tests_spark/, run by `make test-spark`.)"""

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from data_seed import seed_warehouse
from data_seed.monthly_rules import MONTH_COLUMN
from data_seed.refresh import marts_current
from lake.__main__ import main as lake_command
from lake.compare import compare_marts
from lake.export import export_raw, raw_root
from lake.publish import StaleMarts, publish_marts
from lake.spark_refresh import marts_root, refresh_lake
from lake.store import Manifest, commit, month_folder, read_manifest, run_folder, written_months
from lake.writer_lock import lake_writer
from queries.engine import duckdb_path
from queries.marts import STORED_TABLES, mart_refresh
from queries.tables import load_log, metadata
from tests.warehouse_files import warehouse_checksum

END = date(2026, 10, 1)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    url = f"duckdb:///{tmp_path_factory.mktemp('lake_source') / 'warehouse.duckdb'}"
    seed_warehouse(url, customers=1_500, months=6, seed=5, end_month=END)
    return url


@pytest.fixture()
def lake(warehouse, tmp_path) -> Path:
    export_raw(warehouse, tmp_path / "lake", log=lambda message: None)
    return tmp_path / "lake"


def query(sql: str, *parameters):
    connection = duckdb.connect()
    try:
        return connection.execute(sql, list(parameters)).fetchall()
    finally:
        connection.close()


def files(folders: list[Path]) -> list[str]:
    return [str(folder / "*.parquet") for folder in folders]


def test_export_writes_every_raw_table_with_its_rows_and_facts_by_month(warehouse, lake):
    root = raw_root(lake)
    manifest = read_manifest(root)
    source = duckdb.connect(str(duckdb_path(warehouse)), read_only=True)
    try:
        for table in metadata.sorted_tables:
            if table.name == load_log.name:
                assert not manifest.has(table.name)
                continue
            expected = source.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
            folders = manifest.folders(root, table.name)
            found = query("SELECT count(*) FROM read_parquet(?)", files(folders))[0][0] if folders else 0
            assert found == expected, table.name
        assert (
            manifest.meta["data_version"]
            == source.execute("SELECT value FROM warehouse_meta WHERE key = 'data_version'").fetchone()[0]
        )
    finally:
        source.close()
    months = manifest.months("revenue_monthly")
    assert len(months) == 6 and max(months) == END
    # A month's folder holds the rows of that month only.
    for month, path in months.items():
        column = MONTH_COLUMN["revenue_monthly"]
        found = query(f"SELECT DISTINCT {column} FROM read_parquet(?)", [str(root / path / "*.parquet")])
        assert found == [(month,)]


def test_export_since_a_month_keeps_the_earlier_folders_and_removes_replaced_ones(warehouse, lake):
    root = raw_root(lake)
    before = read_manifest(root)
    export_raw(warehouse, lake, since=date(2026, 9, 1), log=lambda message: None)
    after = read_manifest(root)
    old, new = before.months("bills"), after.months("bills")
    assert set(old) == set(new)
    assert all(new[month] == old[month] for month in old if month < date(2026, 9, 1))
    assert all(new[month] != old[month] for month in old if month >= date(2026, 9, 1))
    # The replaced folders are gone; every folder the manifest names exists.
    assert not (root / old[END]).exists()
    assert all(folder.exists() for name in after.tables for folder in after.folders(root, name))


def test_export_refuses_a_postgresql_warehouse_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="DuckDB"):
        export_raw("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", tmp_path / "lake")
    assert not (tmp_path / "lake").exists()


def test_a_commit_replaces_the_manifest_whole_and_removes_orphans(tmp_path):
    root = tmp_path / "store"
    run = run_folder("facts")
    (root / month_folder(run, END)).mkdir(parents=True)
    orphan = root / run_folder("facts")  # a run that died before committing
    orphan.mkdir(parents=True)
    manifest = Manifest()
    manifest.set_months("facts", {END: month_folder(run, END)})
    commit(root, manifest)
    assert read_manifest(root).months("facts") == {END: month_folder(run, END)}
    assert not orphan.exists() and (root / month_folder(run, END)).exists()
    assert [path.name for path in root.iterdir() if path.name.startswith("_manifest")] == ["_manifest.json"]


def test_a_second_writer_is_refused_clearly(tmp_path):
    with lake_writer(tmp_path), pytest.raises(RuntimeError, match="another export or refresh"):
        with lake_writer(tmp_path):
            pass


# --- compare and publish, with marts written to the lake as the Spark refresh would -----


def write_marts(warehouse: str, lake: Path, *, version: str | None = None) -> None:
    """The warehouse's own marts as the lake's (one folder per month, or whole)."""
    root = marts_root(lake)
    manifest = Manifest()
    source = duckdb.connect(str(duckdb_path(warehouse)), read_only=True)
    try:
        for mart in STORED_TABLES:
            run = run_folder(mart.name)
            (root / run).mkdir(parents=True)
            if "month" in mart.c:
                source.execute(
                    f"COPY (SELECT *, month AS part_month FROM {mart.name}) TO '{root / run}' "
                    "(FORMAT parquet, PARTITION_BY (part_month), OVERWRITE_OR_IGNORE)"
                )
                manifest.set_months(mart.name, written_months(root, run))
            else:
                source.execute(f"COPY {mart.name} TO '{root / run / 'data.parquet'}' (FORMAT parquet)")
                manifest.set_whole(mart.name, run)
        meta = dict(source.execute("SELECT key, value FROM mart_refresh").fetchall())
        data_version = source.execute("SELECT value FROM warehouse_meta WHERE key = 'data_version'").fetchone()[0]
    finally:
        source.close()
    manifest.meta = meta | {"marts_data_version": version or data_version}
    commit(root, manifest)


def empty_marts_copy(warehouse: str, tmp_path: Path) -> str:
    copy = tmp_path / "serving.duckdb"
    shutil.copyfile(duckdb_path(warehouse), copy)
    connection = duckdb.connect(str(copy))
    for mart in STORED_TABLES:
        if mart is not mart_refresh:
            connection.execute(f"DELETE FROM {mart.name}")
    connection.close()
    return f"duckdb:///{copy}"


def test_compare_finds_equal_marts_equal_and_a_changed_row_different(warehouse, lake):
    write_marts(warehouse, lake)
    assert all(difference.equal for difference in compare_marts(lake, warehouse))
    root = marts_root(lake)
    folder = read_manifest(root).folders(root, "mart_customer_list")[0]
    file = next(folder.glob("*.parquet"))
    changed = f"SELECT * REPLACE (revenue_12m_vnd + 1 AS revenue_12m_vnd) FROM '{file}'"
    query(f"COPY ({changed}) TO '{file}.new' (FORMAT parquet)")
    Path(f"{file}.new").replace(file)
    differences = {difference.mart: difference for difference in compare_marts(lake, warehouse)}
    assert not differences["mart_customer_list"].equal
    assert differences["mart_customer_list"].only_in_lake == differences["mart_customer_list"].lake_rows
    assert all(difference.equal for name, difference in differences.items() if name != "mart_customer_list")


def test_publish_fills_the_warehouses_marts_from_the_lake(warehouse, lake, tmp_path):
    write_marts(warehouse, lake)
    serving = empty_marts_copy(warehouse, tmp_path)
    publish_marts(lake, serving, log=lambda message: None)
    # The served marts equal the lake's, row for row, and the warehouse sees them as current.
    assert all(difference.equal for difference in compare_marts(lake, serving))
    assert marts_current(serving)


def test_publish_refuses_marts_of_other_data_and_changes_nothing(warehouse, lake, tmp_path):
    write_marts(warehouse, lake, version="built-from-other-data")
    serving = empty_marts_copy(warehouse, tmp_path)
    before = warehouse_checksum(serving)
    with pytest.raises(StaleMarts, match="other data than this warehouse holds"):
        publish_marts(lake, serving, log=lambda message: None)
    assert warehouse_checksum(serving) == before
    assert [path.name for path in tmp_path.iterdir() if "publish-" in path.name] == []


def test_publish_refuses_a_lake_without_marts(lake, warehouse):
    with pytest.raises(ValueError, match="the lake has no marts: run `python -m lake refresh` first"):
        publish_marts(lake, warehouse, log=lambda message: None)


def test_a_refresh_on_a_master_nobody_runs_says_so_at_once_and_writes_nothing(lake):
    with pytest.raises(RuntimeError, match="no Spark master answers at spark://127.0.0.1:9"):
        refresh_lake(lake, master="spark://127.0.0.1:9", log=lambda message: None)
    assert not marts_root(lake).exists()


def test_the_command_line_says_what_is_missing_without_a_traceback(tmp_path, capsys):
    assert lake_command(["refresh", "--lake", str(tmp_path / "empty")]) == 1
    assert "holds no raw tables: run `python -m lake export` first" in capsys.readouterr().err
