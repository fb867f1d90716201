"""Targets upload and download: validated like the importer, all or nothing, one transaction."""

import io
import shutil
from datetime import date, datetime

import duckdb
import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, text

from dashboard.review import targets_io
from dashboard.review.targets_io import csv_bytes, excel_bytes, read_targets_file, replace_targets, targets_select
from queries.engine import duckdb_path
from queries.run import run
from tests.conftest import create_pg_database, drop_pg_database, require_postgres, seed

HEADER = "measure,month,province_code,target_value\n"


@pytest.fixture()
def warehouse(duck_url, tmp_path) -> str:
    """A private copy of the seeded warehouse that the test may change."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(duckdb_path(duck_url), path)
    return f"duckdb:///{path}"


def table_rows(url: str) -> list[tuple]:
    with duckdb.connect(str(duckdb_path(url)), read_only=True) as connection:
        return connection.execute("SELECT * FROM kpi_targets ORDER BY ALL").fetchall()


def data_version(url: str) -> str:
    with duckdb.connect(str(duckdb_path(url)), read_only=True) as connection:
        return connection.execute("SELECT value FROM warehouse_meta WHERE key = 'data_version'").fetchone()[0]


def problems(content: str | bytes, name: str = "targets.csv") -> list[str]:
    parsed = read_targets_file(content.encode() if isinstance(content, str) else content, name)
    assert not parsed.ok
    return [problem.line() for problem in parsed.problems.sample]


def test_a_bad_file_names_each_problem_by_row_and_changes_nothing(warehouse):
    before_rows, before_bytes = table_rows(warehouse), duckdb_path(warehouse).read_bytes()
    bad = HEADER + (
        "churn_rate,2027-01,00,0.02\n"  # row 2: fine
        "churn_rat,2027-01,00,0.02\n"  # row 3: unknown measure
        "sla_share,2027-13,38,0.9\n"  # row 4: no such month
        "sla_share,2027-01,1,0.9\n"  # row 5: lost leading zero
        "sla_share,2027-01,38,90\n"  # row 6: a percentage instead of a fraction
        "nps,2027-01,01,abc\n"  # row 7: not a number
        "churn_rate,2027-01,00,0.021\n"  # row 8: duplicate of row 2
    )
    parsed = read_targets_file(bad.encode(), "targets.csv")
    lines = [problem.line() for problem in parsed.problems.sample]
    assert not parsed.ok and parsed.frame is None
    assert any(line.startswith("targets.csv, row 3, column measure, value 'churn_rat'") for line in lines), lines
    assert any(line.startswith("targets.csv, row 4, column month, value '2027-13'") for line in lines), lines
    assert any("row 5, column province_code" in line and "two digits: '01'" in line for line in lines), lines
    assert any("row 6, column target_value" in line and "0.9 means 90%" in line for line in lines), lines
    assert any("row 7, column target_value, value 'abc'" in line for line in lines), lines
    assert any("row 8" in line and "first on row 2" in line for line in lines), lines
    assert not any("row 2," in line for line in lines), lines
    with pytest.raises(ValueError):
        replace_targets(warehouse, parsed)
    assert table_rows(warehouse) == before_rows
    assert duckdb_path(warehouse).read_bytes() == before_bytes


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "empty file"),
        ("measure,month,province\n", "unknown column"),
        ("measure,month,province_code,target_value,note\nnps,2027-01,00,30,x\n", "unknown column"),
        (HEADER, "holds no targets"),
        (HEADER + "nps,2027-01,00,\n", "must not be empty"),
        (HEADER + "nps,2027-01,99,30\n", "unknown province code"),
        (HEADER + "outstanding_debt,2027-01,00,-5\n", "must not be negative"),
        (HEADER + "csat,2027-01,00,7\n", "between 1 and 5"),
    ],
)
def test_more_bad_files(content, expected):
    assert any(expected in line for line in problems(content)), problems(content)


def test_other_file_types_and_encodings_are_refused():
    assert "unknown file type" in problems("x", "targets.txt")[0]
    assert "not UTF-8" in problems((HEADER + "nps,2027-01,00,30 Hà\n").encode("cp1258"), "t.csv")[0]
    assert "cannot be read" in problems(b"PK\x03\x04 not really a workbook", "t.xlsx")[0]


def test_a_good_file_replaces_the_pairs_it_covers_in_one_go(warehouse):
    before = table_rows(warehouse)
    version = data_version(warehouse)
    october, hanoi = date(2026, 10, 1), "01"
    good = HEADER + "churn_rate,2026-10,01,0.019\nsla_share,2026-10,01,0.95\nnps,2026-10,00,31.5\n"
    parsed = read_targets_file(("\ufeff" + good).encode(), "targets.csv")  # Excel's "CSV UTF-8" has a BOM
    assert parsed.ok, parsed.problems.render()
    replaced = replace_targets(warehouse, parsed)
    assert (replaced.rows, replaced.months, replaced.provinces) == (3, 1, 2)
    after = table_rows(warehouse)
    covered = {(october, hanoi), (october, "00")}
    assert [row for row in after if (row[1], row[2]) in covered] == [
        ("churn_rate", october, hanoi, 0.019),
        ("nps", october, "00", 31.5),
        ("sla_share", october, hanoi, 0.95),
    ]
    # Every other pair keeps its targets; the covered pairs lost the measures the file left out.
    assert [row for row in after if (row[1], row[2]) not in covered] == [
        row for row in before if (row[1], row[2]) not in covered
    ]
    assert data_version(warehouse) != version  # caches keyed by it recompute


def test_download_then_upload_changes_no_target(warehouse):
    engine = create_engine(warehouse, connect_args={"read_only": True})
    try:
        current = run(targets_select(), engine)
    finally:
        engine.dispose()
    before = table_rows(warehouse)
    for name, content in (("targets.csv", csv_bytes(current)), ("targets.xlsx", excel_bytes(current))):
        parsed = read_targets_file(content, name)
        assert parsed.ok, parsed.problems.render()
        assert parsed.frame.height == len(before)
        replace_targets(warehouse, parsed)
        assert table_rows(warehouse) == before


def _workbook(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["measure", "month", "province_code", "target_value"])
    for row in rows:
        sheet.append(row)
    sheet.append([None, None, None, None])  # a formatted but empty row at the end is ignored
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_excel_files_read_like_csv_with_excel_habits():
    # Excel turns 2027-01 into a date and 0.9 into a number: both are read as meant.
    good = read_targets_file(_workbook([["sla_share", datetime(2027, 1, 1), "38", 0.9]]), "targets.xlsx")
    assert good.ok, good.problems.render()
    assert good.frame.row(0, named=True) | {"__row": 2} == {
        "__row": 2,
        "measure": "sla_share",
        "target_month": date(2027, 1, 1),
        "province_code": "38",
        "target_value": 0.9,
    }
    lines = problems(_workbook([["nps", "2027-01", 1, 30], ["nps", "2027-02", "01", 30]]), "targets.xlsx")
    assert len(lines) == 1 and lines[0].startswith("targets.xlsx, row 2, column province_code, value '1'"), lines


def test_a_failure_while_writing_leaves_the_warehouse_untouched(warehouse, monkeypatch):
    before_rows, before_bytes = table_rows(warehouse), duckdb_path(warehouse).read_bytes()
    parsed = read_targets_file((HEADER + "nps,2026-10,00,31.5\n").encode(), "targets.csv")

    def broken_insert(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(targets_io, "insert", broken_insert)  # fails after the DELETE ran
    with pytest.raises(RuntimeError, match="disk full"):
        replace_targets(warehouse, parsed)
    assert table_rows(warehouse) == before_rows
    assert duckdb_path(warehouse).read_bytes() == before_bytes
    assert sorted(path.name for path in duckdb_path(warehouse).parent.iterdir() if "targets-" in path.name) == []


@pytest.mark.postgres
def test_postgresql_replaces_in_one_transaction(monkeypatch):
    require_postgres()
    url = create_pg_database()
    try:
        seed(url, customers=1_500, months=13)
        engine = create_engine(url)
        query = text("SELECT * FROM kpi_targets ORDER BY measure, target_month, province_code")
        with engine.connect() as connection:
            before = connection.execute(query).fetchall()
        parsed = read_targets_file((HEADER + "nps,2026-10,00,31.5\n").encode(), "targets.csv")

        def broken_insert(*_args, **_kwargs):
            raise RuntimeError("connection lost")

        with monkeypatch.context() as patch:
            patch.setattr(targets_io, "insert", broken_insert)
            with pytest.raises(RuntimeError):
                replace_targets(url, parsed)
        with engine.connect() as connection:
            assert connection.execute(query).fetchall() == before  # the DELETE was rolled back
        replaced = replace_targets(url, parsed)
        assert replaced.rows == 1
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT measure, target_value FROM kpi_targets"
                    " WHERE target_month = '2026-10-01' AND province_code = '00'"
                )
            ).fetchall()
        assert rows == [("nps", 31.5)]
        engine.dispose()
    finally:
        drop_pg_database(url)
