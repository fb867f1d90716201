"""Phase 1 of an import: find the operator's files and read each into its table's types.

Problems found here (unknown or missing files, unreadable files, missing or unknown
columns, values that do not parse) go to the ProblemLog with the row number as the user
sees it. CSV fields are read as text and parsed by us, column by column, with Polars: a
value that does not parse becomes NULL, and "was filled, is now NULL" marks the failures.
Typed (Parquet) columns are cast the same way, refusing casts that would change a value.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
from sqlalchemy import Table

from data_seed.contracts import ROW
from data_seed.import_report import Problem, ProblemLog
from data_seed.load import polars_type
from queries import tables as t

# Written from reference data or by the loader itself, never imported from files.
NOT_IMPORTED = ("provinces", "legacy_provinces", "warehouse_meta")
# Dependency order (referenced tables first).
IMPORTED_TABLES: tuple[Table, ...] = tuple(
    table for table in t.metadata.sorted_tables if table.name not in NOT_IMPORTED
)
# Reading order for people: as the tables are defined in queries/tables.py.
LISTED_TABLES: tuple[Table, ...] = tuple(
    table for table in t.metadata.tables.values() if table.name not in NOT_IMPORTED
)
REQUIRED_FILES = ("customers",)
SUFFIXES = (".csv", ".parquet")
VIETNAM_ZONE = "Asia/Ho_Chi_Minh"

BOOLEAN_WORDS = {"true": True, "false": False}
TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
INTEGER_BOUNDS = {pl.Int16: (-(2**15), 2**15 - 1), pl.Int32: (-(2**31), 2**31 - 1), pl.Int64: (-(2**63), 2**63 - 1)}
DUPLICATED_HEADER = "_duplicated_"  # Polars renames a repeated header "x" to "x_duplicated_0"


def expected_form(dtype: pl.DataType) -> str:
    if dtype in INTEGER_BOUNDS:
        low, high = INTEGER_BOUNDS[dtype]
        return f"a whole number ({low:,} … {high:,})"
    if dtype == pl.Float64:
        return "a number (decimal point '.')"
    if dtype == pl.Boolean:
        return "true or false"
    if dtype == pl.Date:
        return "a date YYYY-MM-DD"
    if dtype == pl.Datetime("us"):
        return "a local timestamp YYYY-MM-DD HH:MM:SS (Asia/Ho_Chi_Minh, no zone)"
    return "text"


def empty_frame(table: Table) -> pl.DataFrame:
    """The table with no rows, in its types, with ROW."""
    frame = pl.DataFrame(schema={column.name: polars_type(column) for column in table.columns})
    return frame.with_row_index(ROW)


def find_files(directory: Path, problems: ProblemLog) -> dict[str, Path]:
    known = {table.name for table in IMPORTED_TABLES}
    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith("."):
            continue  # editor and OS droppings (.DS_Store, .~lock files)
        table = path.stem
        if path.suffix.lower() not in SUFFIXES or table not in known or not path.is_file():
            hint = " (provinces and legacy provinces come from reference data)" if table in NOT_IMPORTED else ""
            message = f"unknown file: expected <table>.csv or <table>.parquet{hint}"
            problems.add(Problem(path.name, None, None, None, message))
        elif table in found:
            problems.add(Problem(path.name, None, None, None, f"{table} is given twice ({found[table].name} too)"))
        else:
            found[table] = path
    for table in REQUIRED_FILES:
        if table not in found:
            problems.add(Problem(f"{table}.csv", None, None, None, "missing: this file is required"))
    return found


def is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def read_raw(path: Path) -> pl.DataFrame:
    """The file as it is, with ROW; in a CSV every field is text."""
    if not is_csv(path):
        return pl.read_parquet(path).with_row_index(ROW, offset=1)
    raw = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=False)
    return raw.with_columns(csv_lines(raw, count_newlines(path)))


def count_newlines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))


def csv_lines(raw: pl.DataFrame, newlines: int) -> pl.Expr:
    """The line each CSV record starts on: the header is line 1, and a quoted value with line
    breaks pushes every later record down, so row numbers match what an editor shows."""
    index = pl.int_range(pl.len(), dtype=pl.UInt32) + 2
    if not raw.width or newlines <= raw.height + 1:
        return index.alias(ROW)  # one record per line: the common case, nothing to count
    breaks = pl.sum_horizontal(pl.col(name).str.count_matches("\n", literal=True).fill_null(0) for name in raw.columns)
    return (index + breaks.cum_sum().shift(1, fill_value=0).cast(pl.UInt32)).alias(ROW)


def csv_layout_problems(path: Path, problems: ProblemLog) -> bool:
    """Only when Polars refuses a CSV: find the lines to fix (not UTF-8, wrong number of fields).

    This walks the file in Python, which is fine on this error path only."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        message = "not UTF-8 text: save the file as 'CSV UTF-8'"
        problems.add(Problem(path.name, line, None, f"byte 0x{data[error.start]:02x}", message))
        return True
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    found = False
    start = reader.line_num + 1
    for fields in reader:
        if fields and len(fields) != len(header):
            message = f"has {len(fields)} fields, the header has {len(header)} (a comma in an unquoted value?)"
            problems.add(Problem(path.name, start, None, fields[0] if fields else None, message))
            found = True
        start = reader.line_num + 1
    return found


def check_columns(table: Table, frame: pl.DataFrame, file: str, problems: ProblemLog) -> bool:
    if frame.width == 0 or frame.columns == [ROW]:
        problems.add(Problem(file, None, None, None, "empty file: a header row with the column names is needed"))
        return False
    expected = {column.name for column in table.columns}
    ok = True
    for name in frame.columns:
        if name == ROW or name in expected:
            continue
        if DUPLICATED_HEADER in name and name.split(DUPLICATED_HEADER)[0] in expected:
            problems.add(Problem(file, None, name.split(DUPLICATED_HEADER)[0], None, "column appears twice"))
        else:
            problems.add(Problem(file, None, name, None, f"unknown column for {table.name}"))
        ok = False
    for column in table.columns:
        if column.name not in frame.columns and not column.nullable:
            problems.add(Problem(file, None, column.name, None, "required column is missing"))
            ok = False
    return ok


def parse_text(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype in INTEGER_BOUNDS or dtype == pl.Float64:
        return text.cast(dtype, strict=False)
    if dtype == pl.Boolean:
        return text.str.to_lowercase().replace_strict(BOOLEAN_WORDS, default=None, return_dtype=pl.Boolean)
    if dtype == pl.Date:
        return text.str.to_date("%Y-%m-%d", strict=False)
    if dtype == pl.Datetime("us"):
        text = text.str.replace("T", " ", literal=True)
        return pl.coalesce([text.str.to_datetime(form, time_unit="us", strict=False) for form in TIMESTAMP_FORMATS])
    return text


def convert(source: pl.Expr, source_dtype: pl.DataType, dtype: pl.DataType) -> pl.Expr:
    """Cast a column to ``dtype``; anything that would silently change a value becomes null."""
    if source_dtype == pl.String:
        return parse_text(source, dtype)
    if dtype in INTEGER_BOUNDS and source_dtype.is_float():
        return pl.when(source == source.round()).then(source.cast(dtype, strict=False))
    if dtype == pl.Date and isinstance(source_dtype, pl.Datetime):
        local = source.dt.convert_time_zone(VIETNAM_ZONE) if source_dtype.time_zone else source
        return pl.when(local.dt.time() == pl.time(0)).then(local.dt.date())
    if dtype == pl.Datetime("us") and isinstance(source_dtype, pl.Datetime) and source_dtype.time_zone:
        return source.dt.convert_time_zone(VIETNAM_ZONE).dt.replace_time_zone(None).dt.cast_time_unit("us")
    if dtype == pl.Boolean and source_dtype != pl.Boolean:
        return pl.lit(None, dtype=pl.Boolean)  # 0/1 or text in a typed file: ask for real booleans
    return source.cast(dtype, strict=False)


def first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def read_table(table: Table, path: Path, problems: ProblemLog, notes: list[str]) -> pl.DataFrame | None:
    """Read one file into the table's types, with ROW; None when it cannot be used."""
    try:
        raw = read_raw(path)
    except Exception as error:  # unreadable file: Polars/Arrow raise many kinds
        if not (is_csv(path) and csv_layout_problems(path, problems)):
            problems.add(Problem(path.name, None, None, None, f"cannot be read: {first_line(error)}"))
        return None
    if not check_columns(table, raw, path.name, problems):
        return None
    columns, filled, given = [pl.col(ROW)], [], []
    for column in table.columns:
        dtype = polars_type(column)
        if column.name not in raw.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(column.name))
            notes.append(f"{path.name}: optional column {column.name} not given, left empty")
            continue
        source_dtype = raw.schema[column.name]
        source = pl.col(column.name)
        if source_dtype == pl.String:
            # Surrounding spaces never carry meaning here; an empty field is an empty value.
            source = source.str.strip_chars()
            source = pl.when(source != "").then(source)
        columns.append(convert(source, source_dtype, dtype).alias(column.name))
        filled.append(source.is_not_null().alias(column.name))
        given.append((column.name, dtype))
    try:
        typed = raw.select(columns)
        was_filled = raw.select(filled)  # cheap: no parsing, so each value is parsed only once
    except Exception as error:  # a typed column Polars cannot cast at all (e.g. a list column)
        problems.add(Problem(path.name, None, None, None, f"cannot be read: {first_line(error)}"))
        return None
    for name, dtype in given:
        failed = was_filled.get_column(name) & typed.get_column(name).is_null()
        if not failed.any():
            continue
        message = f"cannot be read as {expected_form(dtype)}"
        bad = raw.filter(failed)
        problems.add_rows(path.name, bad, name, lambda _row, message=message: message, rule=f"{name}: {message}")
    return typed
