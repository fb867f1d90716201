"""KPI targets in and out of the warehouse: the administrator's upload and download.

File layout (CSV in UTF-8, or Excel .xlsx, first sheet), one target per row:

    measure,month,province_code,target_value
    churn_rate,2027-01,00,0.021          ← '00' = the whole country
    sla_share,2027-01,38,0.9             ← rates as fractions (0.9 = 90 %), money in VND

Validation is the importer's (data_seed): the same data contracts on kpi_targets
(measure from the registry, province code or '00', one row per measure × month ×
province) and the same row-numbered problem list (data_seed.import_report); on top, each
value must fit its measure's unit (a rate of 90 instead of 0.9 is refused). A file with
any problem changes nothing.

A valid file REPLACES the targets of every (month, province) pair it contains, all
measures of those pairs, in one transaction, and gives the warehouse a new data_version
so every cached figure is recomputed. Pairs the file does not mention keep their targets.

Where the warehouse is a DuckDB file, the dashboard reads it read-only; the new targets
are written into a copy that then replaces the file atomically (os.replace), exactly like
the loader: a reader keeps the old file until its next run, and a failure leaves the
original untouched. A full reload of the warehouse (data_seed generate/import) brings its
own targets: download the current ones first to keep them.
"""

import fcntl
import io
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Select, delete, insert, select

from dashboard.charts.spreadsheet_cells import csv_bytes as formula_safe_csv
from queries.contracts import CHECKS, FIRST_ROW, ROW, Relationship
from queries.engine import duckdb_path, is_duckdb, make_engine
from queries.import_report import Problem, ProblemLog, csv_lines
from queries.metrics import MEASURES
from queries.reference import provinces_frame
from queries.tables import COUNTRY_CODE, kpi_targets, warehouse_meta

FILE_COLUMNS = ("measure", "month", "province_code", "target_value")
TABLE_COLUMN = {"measure": "measure", "month": "target_month", "province_code": "province_code"}
FILE_COLUMN = {table: file for file, table in TABLE_COLUMN.items()}
SUFFIXES = (".csv", ".xlsx")
INSERT_CHUNK = 1_000  # rows per INSERT … VALUES statement (4 bound parameters each)
# What a target may be, by the measure's unit: (minimum, maximum, how to say it).
UNIT_RANGES: dict[str, tuple[float | None, float | None, str]] = {
    "percent": (0.0, 1.0, "a rate is a fraction between 0 and 1 (0.9 means 90%)"),
    "score": (1.0, 5.0, "a score is between 1 and 5"),
    "points": (-100.0, 100.0, "NPS is between -100 and 100"),
}
NON_NEGATIVE = "must not be negative"


@dataclass
class ParsedTargets:
    """The file's rows in kpi_targets' columns (plus ROW), or the problems that refuse it."""

    file: str
    frame: pl.DataFrame | None = None
    problems: ProblemLog = field(default_factory=ProblemLog)

    @property
    def ok(self) -> bool:
        return self.frame is not None and not self.problems


@dataclass(frozen=True)
class Replaced:
    rows: int
    months: int
    provinces: int


# --- reading a file ------------------------------------------------------------------------


def read_targets_file(content: bytes, file_name: str) -> ParsedTargets:
    """Parse and validate an uploaded targets file; never raises for a bad file."""
    parsed = ParsedTargets(file=file_name)
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        parsed.problems.add(Problem(file_name, None, None, None, "unknown file type: expected .csv or .xlsx"))
        return parsed
    try:
        raw = _read_csv(content) if suffix == ".csv" else _read_excel(content)
    except UnicodeDecodeError:
        parsed.problems.add(Problem(file_name, None, None, None, "not UTF-8 text: save the file as 'CSV UTF-8'"))
        return parsed
    except Exception as error:  # a damaged file: Polars/openpyxl raise many kinds
        first = (str(error).splitlines() or [type(error).__name__])[0]
        parsed.problems.add(Problem(file_name, None, None, None, f"cannot be read: {first}"))
        return parsed
    if not _columns_ok(raw, file_name, parsed.problems):
        return parsed
    if raw.height == 0:
        parsed.problems.add(Problem(file_name, None, None, None, "holds no targets (only a header)"))
        return parsed
    typed = _typed(raw, file_name, parsed.problems)
    _contracts(typed, file_name, parsed.problems)
    typed = typed.drop("_filled_month", "_filled_target_value")
    _unit_ranges(typed, file_name, parsed.problems)
    if not parsed.problems:
        parsed.frame = typed
    return parsed


def _read_csv(content: bytes) -> pl.DataFrame:
    text = content.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    raw = pl.read_csv(io.StringIO(text), infer_schema=False, raise_if_empty=False)
    return raw.with_columns(csv_lines(raw, text.count("\n")))


def _cell_text(value: object) -> str | None:
    """An Excel cell as the text a CSV would hold (Excel turns 2027-01 into a date)."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}" if value.day == 1 else value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _read_excel(content: bytes) -> pl.DataFrame:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    if not rows:
        return pl.DataFrame()
    header = [str(cell).strip() if cell is not None else "" for cell in rows[0]]
    while header and not header[-1]:
        header.pop()
    records = []
    for number, row in enumerate(rows[1:], start=2):  # the header is row 1, as Excel shows it
        cells = [_cell_text(cell) for cell in row[: len(header)]]
        if all(cell is None or not cell.strip() for cell in cells):
            continue  # Excel keeps formatted but empty rows
        records.append([*cells, *[None] * (len(header) - len(cells)), number])
    schema = {**dict.fromkeys(header, pl.String), ROW: pl.UInt32}
    return pl.DataFrame(records, schema=schema, orient="row")


def _columns_ok(raw: pl.DataFrame, file: str, problems: ProblemLog) -> bool:
    columns = [name for name in raw.columns if name != ROW]
    if not columns:
        problems.add(Problem(file, None, None, None, "empty file: a header row with the column names is needed"))
        return False
    ok = True
    for name in columns:
        if name.strip() not in FILE_COLUMNS:
            problems.add(Problem(file, None, name, None, f"unknown column: expected {', '.join(FILE_COLUMNS)}"))
            ok = False
    for name in FILE_COLUMNS:
        if name not in [column.strip() for column in columns]:
            problems.add(Problem(file, None, name, None, "required column is missing"))
            ok = False
    return ok


def _typed(raw: pl.DataFrame, file: str, problems: ProblemLog) -> pl.DataFrame:
    """Text → kpi_targets' types; values that do not parse are reported and become null."""
    raw = raw.rename({name: name.strip() for name in raw.columns})
    text = {name: pl.col(name).str.strip_chars() for name in FILE_COLUMNS}
    filled = {name: expression.is_not_null() & (expression != "") for name, expression in text.items()}
    month = pl.when(text["month"].str.contains(r"^\d{4}-\d{2}$")).then(
        (text["month"] + "-01").str.to_date("%Y-%m-%d", strict=False)
    )
    value = text["target_value"].cast(pl.Float64, strict=False)
    value = pl.when(value.is_finite()).then(value)
    typed = raw.select(
        pl.col(ROW),
        pl.when(filled["measure"]).then(text["measure"]).alias("measure"),
        month.alias("target_month"),
        pl.when(filled["province_code"]).then(text["province_code"]).alias("province_code"),
        value.alias("target_value"),
        *(filled[name].alias(f"_filled_{name}") for name in ("month", "target_value")),
    )

    for column, file_column, form in (
        ("target_month", "month", "a month YYYY-MM (e.g. 2027-01)"),
        ("target_value", "target_value", "a number with a decimal point (e.g. 0.9)"),
    ):
        bad = typed.filter(pl.col(f"_filled_{file_column}") & pl.col(column).is_null())
        bad = bad.join(raw.select(ROW, pl.col(file_column).alias("_text")), on=ROW)
        problems.add_rows(
            file,
            bad,
            file_column,
            lambda _row, form=form: f"cannot be read as {form}",
            value=lambda row: row["_text"],
            rule=f"{file_column}: not {form}",
        )
    return typed


def _province_problem(row) -> str:
    code = str(row.get("province_code"))
    text = f"unknown province code: not one of the 34 provinces, nor '{COUNTRY_CODE}' for the whole country"
    if code.isdigit() and len(code) == 1:
        text += f" (codes have two digits: '0{code}')"  # a spreadsheet dropped the leading zero
    return text


def _duplicate_problem(row) -> str:
    return f"the same measure, month and province_code appear again (first on row {row.get(FIRST_ROW)})"


def _contracts(typed: pl.DataFrame, file: str, problems: ProblemLog) -> None:
    """The data contracts of kpi_targets, as the importer runs them on its files. A value
    already reported as unreadable is not reported again as empty."""
    frames = {"kpi_targets": typed, "provinces": provinces_frame()}
    for check in CHECKS:
        if check.table.name != "kpi_targets":
            continue
        rows = check.offending_rows(frames)
        if check.kind == "NotNull" and check.column in ("target_month", "target_value"):
            file_column = FILE_COLUMN.get(check.column, check.column)
            rows = rows.filter(~pl.col(f"_filled_{file_column}"))
        if check.kind == "Unique":
            problems.add_rows(
                file,
                rows,
                None,
                _duplicate_problem,
                value=lambda row: f"{row['measure']}, {row['target_month']:%Y-%m}, {row['province_code']}",
                rule="measure, month, province_code: must be unique together",
            )
            continue
        explain = _province_problem if isinstance(check, Relationship) else check.explain
        column = FILE_COLUMN.get(check.column, check.column)
        problems.add_rows(file, rows, column, explain, rule=f"{column}: {check.problem}")


def _unit_ranges(typed: pl.DataFrame, file: str, problems: ProblemLog) -> None:
    units = {name: measure.unit for name, measure in MEASURES.items()}
    with_unit = typed.with_columns(pl.col("measure").replace_strict(units, default=None).alias("_unit"))
    for unit in sorted(set(units.values())):
        low, high, wording = UNIT_RANGES.get(unit, (0.0, None, NON_NEGATIVE))
        value = pl.col("target_value")
        outside = value < low if high is None else ~value.is_between(low, high)
        bad = with_unit.filter((pl.col("_unit") == unit) & outside)
        problems.add_rows(
            file, bad, "target_value", lambda _row, wording=wording: wording, rule=f"target_value ({unit}): {wording}"
        )


# --- reading and writing the warehouse ---------------------------------------------------------


def targets_select() -> Select:
    """Every target, in the file's order: measure, target_month, province_code, target_value."""
    k = kpi_targets.c
    return select(k.measure, k.target_month, k.province_code, k.target_value).order_by(
        k.measure, k.target_month, k.province_code
    )


def file_frame(targets: pl.DataFrame) -> pl.DataFrame:
    """Warehouse rows → the upload layout (month as YYYY-MM), so a download uploads unchanged."""
    return targets.select(
        "measure",
        pl.col("target_month").dt.strftime("%Y-%m").alias("month"),
        "province_code",
        "target_value",
    )


def csv_bytes(targets: pl.DataFrame) -> bytes:
    return formula_safe_csv(file_frame(targets), byte_order_mark=False)


def excel_bytes(targets: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    file_frame(targets).write_excel(buffer, worksheet="targets", autofit=True)
    return buffer.getvalue()


def _write(connection: Connection, frame: pl.DataFrame) -> Replaced:
    """Delete the targets of every (month, province) pair in `frame`, insert `frame`, and
    give the warehouse a new data_version. The caller owns the transaction."""
    k = kpi_targets.c
    pairs = frame.select("target_month", "province_code").unique()
    for (month,), group in pairs.group_by("target_month"):
        codes = sorted(group["province_code"].to_list())
        connection.execute(delete(kpi_targets).where(k.target_month == month, k.province_code.in_(codes)))
    rows = frame.select("measure", "target_month", "province_code", "target_value").to_dicts()
    for start in range(0, len(rows), INSERT_CHUNK):
        connection.execute(insert(kpi_targets).values(rows[start : start + INSERT_CHUNK]))
    m = warehouse_meta.c
    connection.execute(delete(warehouse_meta).where(m.key == "data_version"))
    connection.execute(insert(warehouse_meta).values(key="data_version", value=uuid.uuid4().hex))
    return Replaced(
        rows=len(rows), months=pairs["target_month"].n_unique(), provinces=pairs["province_code"].n_unique()
    )


def replace_targets(url: str, parsed: ParsedTargets) -> Replaced:
    """Write a validated file's targets (see the module docstring); all or nothing."""
    if not parsed.ok:
        raise ValueError("the targets file has problems; nothing was written")
    frame = parsed.frame.drop(ROW)
    if is_duckdb(url):
        with _duckdb_copy(url) as copy_url:
            return _in_transaction(copy_url, frame)
    return _in_transaction(url, frame)


def _in_transaction(url: str, frame: pl.DataFrame) -> Replaced:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            return _write(connection, frame)
    finally:
        engine.dispose()


@contextmanager
def _duckdb_copy(url: str) -> Iterator[str]:
    """A writable copy of the DuckDB file that replaces the original when the block ends
    normally; removed otherwise. Uploads are serialised by a lock file beside the warehouse."""
    path = duckdb_path(url)
    if not path.exists():
        raise FileNotFoundError(path)
    with _lock(path.with_name(path.name + ".targets.lock")):
        copy = path.with_name(f"{path.name}.targets-{uuid.uuid4().hex}")
        try:
            shutil.copyfile(path, copy)
            wal = Path(f"{path}.wal")
            if wal.exists():
                shutil.copyfile(wal, Path(f"{copy}.wal"))
            yield f"duckdb:///{copy}"
            os.replace(copy, path)
        finally:
            for leftover in (copy, Path(f"{copy}.wal")):
                if leftover.exists():
                    leftover.unlink()


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def problems_text(parsed: ParsedTargets) -> str:
    """The problem list for the screen: one line per problem, row numbers as the file shows them."""
    return parsed.problems.render()


__all__ = [
    "FILE_COLUMNS",
    "ParsedTargets",
    "Replaced",
    "csv_bytes",
    "excel_bytes",
    "file_frame",
    "problems_text",
    "read_targets_file",
    "replace_targets",
    "targets_select",
]
