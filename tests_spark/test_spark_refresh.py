"""The mart refresh on a real Spark cluster (a master and two workers on localhost) equals
the single-node refresh, month by month, and fails without touching the lake.

A small warehouse is generated, written as monthly extracts, and loaded month by month into
DuckDB (whose own refresh builds the reference marts, proven against the raw tables by
tests/queries/test_marts.py). After twelve months the lake gets its first, full refresh;
after the thirteenth an incremental one. Each time every mart the cluster wrote must equal
the warehouse's, row for row. The tests run in file order: each step builds on the last.
"""

from datetime import date
from pathlib import Path

import pytest

import data_seed.refresh
from data_seed import seed_warehouse
from data_seed.export import export_months
from data_seed.monthly import load_month
from data_seed.refresh import marts_current
from lake.compare import compare_marts
from lake.export import export_raw
from lake.publish import publish_marts
from lake.spark_refresh import marts_root, refresh_lake
from lake.store import MANIFEST, read_manifest
from queries.filters import add_months
from queries.marts import STORED_TABLES, mart_refresh
from tests.lake.test_lake_files import empty_marts_copy

END = date(2026, 10, 1)
MONTHS = 13
FIRST = add_months(END, 1 - MONTHS)
BEFORE_END = add_months(END, -1)
quiet = print  # the refresh's step timings land in the test log


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> Path:
    source = f"duckdb:///{tmp_path_factory.mktemp('source') / 'warehouse.duckdb'}"
    seed_warehouse(source, customers=1_500, months=MONTHS, seed=3, end_month=END)
    directory = tmp_path_factory.mktemp("extracts")
    export_months(source, directory)
    return directory


@pytest.fixture(scope="module")
def warehouse(extracts, tmp_path_factory) -> str:
    """The single-node warehouse, loaded month by month up to the month before the last."""
    url = f"duckdb:///{tmp_path_factory.mktemp('warehouse') / 'warehouse.duckdb'}"
    month = FIRST
    while month <= BEFORE_END:
        assert load_month(extracts / f"{month:%Y-%m}", url, month, log=lambda message: None) == 0, month
        month = add_months(month, 1)
    return url


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lake")


def assert_every_mart_equal(lake: Path, url: str) -> None:
    differences = compare_marts(lake, url)
    assert len(differences) == len(STORED_TABLES) - 1  # every mart but the bookkeeping
    unequal = [difference for difference in differences if not difference.equal]
    assert unequal == []
    rows = {difference.mart: difference.lake_rows for difference in differences}
    for mart in ("mart_customer_month", "mart_big_customers", "mart_debt_month", "mart_complaints", "mart_surveys"):
        assert rows[mart] > 0, f"{mart} is empty: the comparison would prove nothing"


def folders_on_disk(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.glob("*/r-*/part_month=*")}


def test_the_first_refresh_on_the_cluster_equals_the_single_node_refresh(spark, warehouse, lake):
    export_raw(warehouse, lake, log=lambda message: None)
    decided = refresh_lake(lake, spark=spark, log=quiet)
    assert decided.since is None and decided.through == BEFORE_END  # a new lake: everything
    assert_every_mart_equal(lake, warehouse)


def test_a_failed_refresh_leaves_the_lakes_marts_as_they_were(spark, extracts, warehouse, lake, monkeypatch):
    assert load_month(extracts / f"{END:%Y-%m}", warehouse, END, log=lambda message: None) == 0
    export_raw(warehouse, lake, log=lambda message: None)
    manifest_before = (marts_root(lake) / MANIFEST).read_bytes()

    def broken(*_arguments, **_options):
        raise RuntimeError("executor lost")

    monkeypatch.setattr(data_seed.refresh, "build_big_customers", broken)
    with pytest.raises(RuntimeError, match="executor lost"):
        refresh_lake(lake, spark=spark, log=quiet)
    assert (marts_root(lake) / MANIFEST).read_bytes() == manifest_before


def test_the_next_month_rebuilds_its_months_only_and_equals_the_single_node(spark, warehouse, lake):
    root = marts_root(lake)
    before = read_manifest(root).months("mart_customer_month")
    decided = refresh_lake(lake, spark=spark, log=quiet)
    # Incremental: from the first new month less the look-back (win-backs, campaign outcomes).
    since = add_months(BEFORE_END, 1 - data_seed.refresh.LOOKBACK_MONTHS)
    assert (decided.since, decided.through) == (since, END)
    after = read_manifest(root).months("mart_customer_month")
    assert {month: path for month, path in after.items() if month < since} == {
        month: path for month, path in before.items() if month < since
    }
    assert all(after[month] != before.get(month) for month in after if month >= since)
    assert_every_mart_equal(lake, warehouse)
    # What the failed run wrote, and what this one replaced, is gone.
    manifest = read_manifest(root)
    named = {path for entry in manifest.tables.values() for path in entry.get("months", {}).values()}
    assert folders_on_disk(root) == named


def test_the_dashboards_warehouse_serves_the_marts_spark_built(warehouse, lake, tmp_path):
    serving = empty_marts_copy(warehouse, tmp_path)
    publish_marts(lake, serving, log=lambda message: None)
    assert_every_mart_equal(lake, serving)
    assert marts_current(serving)


def test_nothing_is_written_when_the_marts_are_current(spark, lake):
    manifest_before = (marts_root(lake) / MANIFEST).read_bytes()
    decided = refresh_lake(lake, spark=spark, log=quiet)
    assert decided.current
    assert (marts_root(lake) / MANIFEST).read_bytes() == manifest_before
    assert mart_refresh.name in read_manifest(marts_root(lake)).tables
