"""Monthly loads: month by month equals one shot, on both engines; a month loaded twice equals
it loaded once; months out of order are refused; a failure, or a kill -9, leaves the
warehouse as it was and the next load works; the load log records every attempt."""

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine, text

from data_seed import monthly, seed_warehouse
from data_seed.export import export_months
from data_seed.monthly import load_month
from queries import tables as t
from queries.engine import PROJECT_ROOT
from queries.filters import add_months
from queries.marts import STORED_TABLES
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.warehouse_files import warehouse_checksum

CUSTOMERS = 2_000
MONTHS = 4
END = date(2026, 10, 1)
FIRST = add_months(END, 1 - MONTHS)
MONTH_LIST = [add_months(FIRST, step) for step in range(MONTHS)]
# Bookkeeping differs by design between two warehouses with the same data.
BOOKKEEPING = {"warehouse_meta", "load_log", "mart_refresh"}


def every_table(url: str) -> dict[str, pl.DataFrame]:
    """Every raw table and mart, rows sorted (floats rounded: sums may add in another order)."""
    engine = create_engine(url)
    frames = {}
    try:
        with engine.connect() as connection:
            for table in (*t.metadata.sorted_tables, *STORED_TABLES):
                if table.name in BOOKKEEPING:
                    continue
                frame = pl.read_database(f'SELECT * FROM "{table.name}"', connection, infer_schema_length=None)
                frame = frame.with_columns(pl.col(pl.Float64).round(9))
                frames[table.name] = frame.sort(frame.columns, nulls_last=True)
    finally:
        engine.dispose()
    return frames


def assert_same_warehouse(expected_url: str, actual_url: str) -> None:
    expected, actual = every_table(expected_url), every_table(actual_url)
    for name, frame in expected.items():
        assert frame.height > 0 or name.startswith("mart_"), f"{name} is empty: the test would prove nothing"
        assert actual[name].equals(frame), f"{name} differs"


def scalar(url: str, sql: str):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def one_shot(tmp_path_factory) -> str:
    url = f"duckdb:///{tmp_path_factory.mktemp('one_shot') / 'warehouse.duckdb'}"
    seed_warehouse(url, customers=CUSTOMERS, months=MONTHS, seed=11, end_month=END)
    return url


@pytest.fixture(scope="module")
def extracts(one_shot, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("extracts")
    export_months(one_shot, directory)
    return directory


def folder(extracts: Path, month: date) -> Path:
    return extracts / f"{month:%Y-%m}"


def load_all(extracts: Path, url: str, months=MONTH_LIST) -> None:
    for month in months:
        assert load_month(folder(extracts, month), url, month) == 0, month


@pytest.fixture()
def monthly_duck(extracts, tmp_path) -> str:
    url = f"duckdb:///{tmp_path / 'monthly.duckdb'}"
    load_all(extracts, url)
    return url


def test_export_writes_one_folder_per_month_in_the_import_format(extracts):
    assert sorted(path.name for path in extracts.iterdir()) == [f"{month:%Y-%m}" for month in MONTH_LIST]
    header = (folder(extracts, END) / "revenue_monthly.csv").read_text().splitlines()[0]
    assert header == "customer_key,revenue_month,revenue_vnd"


def test_month_by_month_equals_one_shot_on_duckdb(one_shot, monthly_duck):
    assert_same_warehouse(one_shot, monthly_duck)
    assert scalar(monthly_duck, "SELECT value FROM warehouse_meta WHERE key = 'data_through'") == END.isoformat()
    assert scalar(monthly_duck, "SELECT count(*) FROM load_log WHERE kind = 'month' AND outcome = 'loaded'") == MONTHS


def test_month_by_month_equals_one_shot_on_postgresql(one_shot, extracts):
    require_postgres()
    url = create_pg_database()
    try:
        load_all(extracts, url)
        assert_same_warehouse(one_shot, url)
    finally:
        drop_pg_database(url)


def test_loading_a_month_twice_equals_loading_it_once(one_shot, extracts, monthly_duck):
    assert load_month(folder(extracts, END), monthly_duck, END) == 0
    assert_same_warehouse(one_shot, monthly_duck)
    assert scalar(monthly_duck, "SELECT count(*) FROM load_log WHERE load_month = DATE '2026-10-01'") == 2


def test_a_gap_or_an_earlier_month_is_refused_and_reload_is_explicit(extracts, monthly_duck, capsys):
    before = warehouse_checksum(monthly_duck)
    capsys.readouterr()
    assert load_month(folder(extracts, END), monthly_duck, add_months(END, 2)) == 1
    assert "would leave a gap" in capsys.readouterr().err
    assert load_month(folder(extracts, MONTH_LIST[1]), monthly_duck, MONTH_LIST[1]) == 1
    error = capsys.readouterr().err
    assert "earlier than the data in the warehouse" in error and "--reload" in error
    after = warehouse_checksum(monthly_duck)
    assert {name: value for name, value in after.items() if name != "load_log"} == {
        name: value for name, value in before.items() if name != "load_log"
    }
    # The refused attempts are logged beside the file, then moved into load_log by the next load.
    assert load_month(folder(extracts, MONTH_LIST[1]), monthly_duck, MONTH_LIST[1], reload=True) == 0
    outcomes = scalar(monthly_duck, "SELECT string_agg(outcome, ',' ORDER BY finished_at) FROM load_log")
    assert outcomes.endswith("refused,refused,loaded")


def test_a_missing_file_keeps_what_the_warehouse_holds(extracts, monthly_duck, tmp_path, capsys):
    partial = Path(shutil.copytree(folder(extracts, END), tmp_path / "partial"))
    (partial / "complaints.csv").unlink()
    complaints = scalar(monthly_duck, "SELECT count(*) FROM complaints")
    capsys.readouterr()
    assert load_month(partial, monthly_duck, END) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("no file for")]
    assert len(said) == 1 and "complaints" in said[0] and said[0].endswith("what the warehouse holds for them is kept")
    assert scalar(monthly_duck, "SELECT count(*) FROM complaints") == complaints


def test_rows_of_a_later_month_are_refused(extracts, monthly_duck, tmp_path, capsys):
    bad = Path(shutil.copytree(folder(extracts, END), tmp_path / "bad"))
    revenue = pl.read_csv(bad / "revenue_monthly.csv", infer_schema=False)
    revenue.with_columns(pl.lit("2026-11-01").alias("revenue_month")).write_csv(bad / "revenue_monthly.csv")
    before = warehouse_checksum(monthly_duck)
    capsys.readouterr()
    assert load_month(bad, monthly_duck, END) == 1
    assert "dated after 2026-10, the month being loaded" in capsys.readouterr().err
    assert warehouse_checksum(monthly_duck)["revenue_monthly"] == before["revenue_monthly"]


def test_a_fact_for_a_customer_nobody_loaded_is_refused(extracts, monthly_duck, tmp_path, capsys):
    bad = Path(shutil.copytree(folder(extracts, END), tmp_path / "bad"))
    revenue = pl.read_csv(bad / "revenue_monthly.csv", infer_schema=False)
    revenue.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("NO-SUCH")).otherwise("customer_key").alias("customer_key")
    ).write_csv(bad / "revenue_monthly.csv")
    capsys.readouterr()
    assert load_month(bad, monthly_duck, END) == 1
    error = capsys.readouterr().err
    assert "revenue_monthly.csv, row 2, column customer_key, value 'NO-SUCH': unknown customer" in error


def test_a_churn_event_for_a_customer_still_active_is_refused_after_merging(extracts, tmp_path, capsys):
    """The leaver's updated row is left out of the month's customers file: the warehouse still
    has them active from an earlier month, which only the merged state shows."""
    url = f"duckdb:///{tmp_path / 'through_september.duckdb'}"
    load_all(extracts, url, MONTH_LIST[:-1])
    bad = Path(shutil.copytree(folder(extracts, END), tmp_path / "bad"))
    customers = pl.read_csv(bad / "customers.csv", infer_schema=False)
    events = pl.read_csv(bad / "churn_events.csv", infer_schema=False)
    leaver = events.filter(pl.col("churned_on") >= END.isoformat()).item(0, "customer_key")
    customers.filter(pl.col("customer_key") != leaver).write_csv(bad / "customers.csv")
    assert scalar(url, f"SELECT status FROM customers WHERE customer_key = '{leaver}'") == "active"
    before = warehouse_checksum(url)
    capsys.readouterr()
    assert load_month(bad, url, END) == 1
    error = capsys.readouterr().err
    assert "these rules are broken" in error
    assert "churn_events.customer_id: customers.status must be 'churned'" in error
    assert warehouse_checksum(url)["churn_events"] == before["churn_events"]


def test_text_keys_get_ids_and_numeric_keys_keep_theirs(tmp_path, extracts):
    url = f"duckdb:///{tmp_path / 'keys.duckdb'}"
    first = Path(shutil.copytree(folder(extracts, FIRST), tmp_path / "first"))
    for path in first.glob("*.csv"):
        frame = pl.read_csv(path, infer_schema=False)
        if "customer_key" in frame.columns:
            text_key = pl.when(pl.col("customer_key").cast(pl.Int64) % 2 == 0).then(
                pl.lit("KH-") + pl.col("customer_key")
            )
            frame.with_columns(text_key.otherwise(pl.col("customer_key")).alias("customer_key")).write_csv(path)
    assert load_month(first, url, FIRST) == 0
    engine = create_engine(url)
    with engine.connect() as connection:
        odd = connection.execute(
            text(
                "SELECT count(*) FROM customers "
                "WHERE customer_key NOT LIKE 'KH-%' AND CAST(customer_key AS BIGINT) <> customer_id"
            )
        ).scalar()
        text_keys = connection.execute(text("SELECT count(*) FROM customers WHERE customer_key LIKE 'KH-%'")).scalar()
        orphans = connection.execute(
            text(
                "SELECT count(*) FROM revenue_monthly r "
                "WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = r.customer_id)"
            )
        ).scalar()
    engine.dispose()
    assert odd == 0 and text_keys > 0 and orphans == 0


# --- all or nothing ---------------------------------------------------------------------------


def test_a_failure_while_writing_leaves_the_warehouse_as_it_was(extracts, monthly_duck, monkeypatch, capsys):
    before = warehouse_checksum(monthly_duck)

    def broken_refresh(*_arguments, **_options):
        raise RuntimeError("disk full (injected)")

    monkeypatch.setattr(monthly, "refresh_connection", broken_refresh)
    capsys.readouterr()
    assert load_month(folder(extracts, END), monthly_duck, END) == 1
    assert "failed; nothing was written: disk full (injected)" in capsys.readouterr().err
    assert warehouse_checksum(monthly_duck) == before
    monkeypatch.undo()
    assert load_month(folder(extracts, END), monthly_duck, END) == 0
    assert scalar(monthly_duck, "SELECT count(*) FROM load_log WHERE outcome = 'failed'") == 1
    assert not list(Path(monthly_duck.removeprefix("duckdb:///")).parent.glob("*.loading-*"))


def kill_when_writing(url: str, extracts: Path) -> None:
    """Start a monthly load in another process and SIGKILL it once it is rebuilding marts
    (the month's rows are written by then, nothing is committed or swapped yet)."""
    command = [
        sys.executable,
        "-m",
        "data_seed",
        "import",
        str(folder(extracts, END)),
        "--month",
        "2026-10",
        "--url",
        url,
    ]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"}
    )
    deadline = time.monotonic() + 120
    try:
        for line in process.stdout:
            if line.startswith("marts:"):
                process.send_signal(signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "the load never reached the marts"
        else:
            pytest.fail("the load ended before it could be killed")
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_kill_9_on_duckdb_leaves_the_warehouse_and_the_next_load_works(extracts, monthly_duck):
    before = warehouse_checksum(monthly_duck)
    kill_when_writing(monthly_duck, extracts)
    assert warehouse_checksum(monthly_duck) == before
    directory = Path(monthly_duck.removeprefix("duckdb:///")).parent
    assert list(directory.glob("*.loading-*")), "the killed load left its copy (removed by the next load)"
    assert load_month(folder(extracts, END), monthly_duck, END) == 0
    assert not list(directory.glob("*.loading-*"))


def test_kill_9_on_postgresql_leaves_the_warehouse_and_the_next_load_works(one_shot, extracts):
    require_postgres()
    url = create_pg_database()
    try:
        load_all(extracts, url, MONTH_LIST[:-1])
        assert load_month(folder(extracts, END), url, END) == 0
        before = warehouse_checksum(url)
        kill_when_writing(url, extracts)
        assert warehouse_checksum(url) == before
        assert load_month(folder(extracts, END), url, END) == 0
        assert_same_warehouse(one_shot, url)
    finally:
        drop_pg_database(url)


def test_only_a_month_thinner_than_the_last_one_held_is_warned_about(extracts, tmp_path, capsys):
    """Compared with the rows the warehouse holds for the previous month: a whole month says
    nothing (customers, staff and campaigns come only when new or changed), a cut one is named."""
    url = f"duckdb:///{tmp_path / 'through_september.duckdb'}"
    load_all(extracts, url, MONTH_LIST[:-1])
    capsys.readouterr()
    whole = Path(shutil.copytree(folder(extracts, END), tmp_path / "whole"))
    cut = Path(shutil.copytree(folder(extracts, END), tmp_path / "cut"))
    revenue = pl.read_csv(cut / "revenue_monthly.csv", infer_schema=False)
    revenue.head(revenue.height // 3).write_csv(cut / "revenue_monthly.csv")
    assert load_month(cut, url, END) == 0
    said = capsys.readouterr().out
    held = scalar(url, "SELECT count(*) FROM revenue_monthly WHERE revenue_month = DATE '2026-09-01'")
    assert f"only {revenue.height // 3:,} rows for 2026-10, fewer than 50% of the previous month's {held:,}" in said
    assert said.count("previous month's") == 1
    assert load_month(whole, url, END) == 0  # the same month again: nothing to compare with
    assert "previous month's" not in capsys.readouterr().out
