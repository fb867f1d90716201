"""Phase 1 of an import: find the operator's files and read each into its table's types.

Problems found here (unknown or missing files, unreadable files, missing or unknown
columns, CSV rows with too few or too many fields, NUL bytes, values that do not parse) go
to the ProblemLog with the row number as the user sees it. CSV fields are read as text and
parsed by us, column by column, with Polars: a value that does not parse becomes NULL, and
"was filled, is now NULL" marks the failures. Typed (Parquet) columns are cast the same
way, refusing casts that would change a value.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as arrow_csv
from sqlalchemy import Table

from data_seed.customer_keys import file_table
from data_seed.load import polars_type
from data_seed.text_encoding import MARKED, bad_bytes, byte_order_mark, decode_marking, has_bad_bytes, readable
from queries import tables as t
from queries.contracts import CHECKS, ROW, AcceptedValues, Relationship
from queries.import_report import Problem, ProblemLog, csv_lines, show

# Written from reference data or by the loader itself, never imported from files.
NOT_IMPORTED = ("provinces", "legacy_provinces", "warehouse_meta", "load_log")
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
NUL = "\x00"
EMPTY_ROW = "empty row: no field is filled (delete the line)"
LINE_TEXT = "__line"  # a misshapen CSV record as written, shown as its value
FIELDS = "__fields"
ARROW_BLOCK = 1 << 24  # bytes pyarrow reads at a time when counting fields


def free_text_columns() -> frozenset[tuple[str, str]]:
    """Text columns whose values no check compares with a list or another table: names, phones."""
    constrained = {
        (check.table.name, check.column) for check in CHECKS if isinstance(check, AcceptedValues | Relationship)
    }
    return frozenset(
        (table.name, column.name)
        for table in IMPORTED_TABLES
        for column in table.columns
        if polars_type(column) == pl.String
        and (table.name, column.name) not in constrained
        # A key is compared with the keys of other files: surrounding spaces are noise.
        and column.name != "customer_key"
    )


# Leading whitespace is kept in these: it is part of the text, and removing it could turn
# " =2+2" into a live spreadsheet formula. Everywhere else surrounding whitespace is dropped,
# because the value is then parsed (numbers, dates, booleans) or compared with a closed list
# or another table (codes), so " 01" or "individual " from a spreadsheet would otherwise be
# refused for an invisible character, and nothing stored can start with "=" that way.
FREE_TEXT = free_text_columns()


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


def find_files(directory: Path, problems: ProblemLog, required: tuple[str, ...] = REQUIRED_FILES) -> dict[str, Path]:
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
    for table in required:
        if table not in found:
            problems.add(Problem(f"{table}.csv", None, None, None, "missing: this file is required"))
    return found


def is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


@dataclass(frozen=True)
class CsvText:
    """A CSV as the readers below take it: the name reports use, the content (the file itself,
    or an extract already decoded and re-encoded as UTF-8 by a mapping) and the field separator."""

    name: str
    content: Path | bytes
    separator: str = ","

    def source(self):
        """What Polars and pyarrow read: the path, or the bytes as a file."""
        return self.content if isinstance(self.content, Path) else io.BytesIO(self.content)


def read_raw(path: Path) -> pl.DataFrame:
    """The file as it is, with ROW; in a CSV every field is text."""
    if not is_csv(path):
        return pl.read_parquet(path).with_row_index(ROW, offset=1)
    return read_csv_text(CsvText(path.name, path))


def read_csv_text(text: CsvText) -> pl.DataFrame:
    raw = pl.read_csv(
        text.source(), infer_schema=False, encoding="utf8", raise_if_empty=False, separator=text.separator
    )
    return raw.with_columns(csv_lines(raw, count_newlines(text.content)))


def count_newlines(content: Path | bytes) -> int:
    if isinstance(content, bytes):
        return content.count(b"\n")
    with content.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))


NOT_UTF8 = "not UTF-8 text: save the file as 'CSV UTF-8'"
UTF16_IN_PLAIN_IMPORT = (
    "UTF-16 text (Excel's 'Unicode text'): save it as 'CSV UTF-8', "
    'or import it with a mapping file that says encoding = "utf-16" (docs/import.md)'
)


def csv_layout_problems(path: Path, problems: ProblemLog) -> bool:
    """Only when Polars refuses a CSV: find the lines to fix (not UTF-8, wrong number of fields)."""
    data = path.read_bytes()
    if byte_order_mark(data) == "utf-16":
        problems.add(Problem(path.name, None, None, None, UTF16_IN_PLAIN_IMPORT))
        return True
    return record_problems(decode_marking(data, "utf-8"), path.name, ",", problems, NOT_UTF8)


def record_problems(text: str, file: str, separator: str, problems: ProblemLog, not_text: str) -> bool:
    """Bytes that are not text (marked by data_seed.text_encoding), each with its row and column,
    and records with the wrong number of fields, in a decoded CSV. True when any was found.

    This walks the file in Python, which is fine on error paths only."""
    marked_lines = lines_with_bad_bytes(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header = next(reader, [])
    undecodable: list[tuple[int, str | None, str]] = []
    if marked_lines & set(range(1, reader.line_num + 1)):
        undecodable.extend((1, None, field) for field in header if has_bad_bytes(field))  # the header line
    found = False
    start = reader.line_num + 1
    for fields in reader:
        if marked_lines and marked_lines.intersection(range(start, reader.line_num + 1)):
            for index, field in enumerate(fields):
                if has_bad_bytes(field):
                    undecodable.append((start, header[index] if index < len(header) else None, field))
        if len(fields) != len(header):
            message = field_count_message(len(fields), len(header), separator) if fields else EMPTY_ROW
            problems.add(Problem(file, start, None, separator.join(fields) if fields else None, message))
            found = True
        start = reader.line_num + 1
    report_bad_bytes(undecodable, file, problems, not_text)
    return found or bool(undecodable)


def lines_with_bad_bytes(text: str) -> set[int]:
    """Lines holding a bad byte, found at C speed, so that only their records' fields are searched."""
    lines, line, position = set(), 1, 0
    for found in MARKED.finditer(text):
        line += text.count("\n", position, found.start())
        position = found.start()
        lines.add(line)
    return lines


def report_bad_bytes(cells: list[tuple[int, str | None, str]], file: str, problems: ProblemLog, not_text: str) -> None:
    """One problem per (row, column, field) holding bad bytes: the bytes as the value, the field
    as an editor shows it in the message, so the operator can find it. ``not_text`` is
    "what is wrong: what to do"."""
    if not cells:
        return
    wrong, _, advice = not_text.partition(": ")
    frame = pl.DataFrame(cells, schema={ROW: pl.Int64, "column": pl.String, "field": pl.String}, orient="row")
    for (column,), rows in frame.group_by("column", maintain_order=True):
        problems.add_rows(
            file,
            rows,
            column,
            lambda row: f"{wrong} (the field reads {show(readable(row['field']))}): {advice}",
            lambda row: bad_bytes(row["field"]),
            rule=f"{column or 'header'}: {wrong}",
        )


SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


def field_count_message(fields: int, expected: int, separator: str = ",") -> str:
    if fields < expected:
        return f"too few fields ({fields} of {expected})"
    name = SEPARATOR_NAMES.get(separator, repr(separator))
    return f"too many fields ({fields} of {expected}): a {name} in an unquoted value?"


def short_records(text: CsvText, width: int) -> pl.DataFrame:
    """Index (0 = first data record), field count and text of every record without ``width`` fields.

    Polars fills the missing fields of a short record with nulls, indistinguishable from empty
    fields, so pyarrow parses the file again, keeping one column and only calling back for the
    misshapen records. Its record numbers count records like ROW's index does (not lines)."""
    found: list[tuple[int, int, str]] = []

    def note(row) -> str:
        found.append((row.number - 2, row.actual_columns, row.text))  # number 1 is the header
        return "skip"

    names = [f"c{index}" for index in range(width)]
    reader = arrow_csv.open_csv(
        text.source(),
        # One thread: only then does pyarrow know each record's number.
        read_options=arrow_csv.ReadOptions(use_threads=False, skip_rows=1, column_names=names, block_size=ARROW_BLOCK),
        parse_options=arrow_csv.ParseOptions(
            delimiter=text.separator, newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=note
        ),
        convert_options=arrow_csv.ConvertOptions(include_columns=names[:1], column_types={names[0]: pa.string()}),
    )
    for _batch in reader:
        pass
    return pl.DataFrame(found, schema={"index": pl.UInt32, FIELDS: pl.Int64, LINE_TEXT: pl.String}, orient="row")


def drop_misshapen_rows(raw: pl.DataFrame, text: CsvText, problems: ProblemLog) -> pl.DataFrame:
    """Report each CSV record with the wrong number of fields, or none filled, as ONE problem
    (not one per empty column) and return the frame without them."""
    data = [name for name in raw.columns if name != ROW]
    indexed = raw.with_row_index("index")
    misshapen = pl.DataFrame(schema={"index": pl.UInt32, FIELDS: pl.Int64, LINE_TEXT: pl.String})
    # A short record always lacks the last field, so a file whose last column is filled on
    # every row has none and is not parsed twice.
    if raw.height and raw.get_column(data[-1]).null_count():
        try:
            misshapen = short_records(text, len(data))
        except Exception as error:  # pyarrow refuses what Polars accepted: say so, do not guess
            problems.add(Problem(text.name, None, None, None, f"cannot be read: {first_line(error)}"))
            return raw
    if misshapen.height:
        rows = indexed.join(misshapen, on="index").select(ROW, FIELDS, LINE_TEXT)
        problems.add_rows(
            text.name,
            rows,
            None,
            lambda row: field_count_message(row[FIELDS], len(data), text.separator),
            lambda row: row[LINE_TEXT],
            rule="wrong number of fields",
        )
    kept = indexed.filter(~pl.col("index").is_in(misshapen.get_column("index").implode()))
    # A blank line (or one of only commas) has the right shape for pyarrow but nothing in it.
    empty = pl.all_horizontal(pl.col(name).is_null() for name in data)
    problems.add_rows(text.name, kept.filter(empty), None, lambda _row: EMPTY_ROW, rule="empty row")
    return kept.filter(~empty).drop("index")


def import_column_names(table: Table) -> tuple[str, ...]:
    """The columns a file of ``table`` may have in the import format (the mapping's targets too):
    customers are named by the operator's key (data_seed/customer_keys.py)."""
    return tuple(column.name for column in file_table(table).columns)


def check_columns(table: Table, frame: pl.DataFrame, file: str, problems: ProblemLog) -> bool:
    if frame.width == 0 or frame.columns == [ROW]:
        problems.add(Problem(file, None, None, None, "empty file: a header row with the column names is needed"))
        return False
    expected = set(import_column_names(table))
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


def tidy_text(source: pl.Expr, free_text: bool) -> pl.Expr:
    """A blank field is an empty value; see FREE_TEXT for which whitespace goes."""
    trimmed = source.str.strip_chars_end() if free_text else source.str.strip_chars()
    return pl.when(source.str.strip_chars() != "").then(trimmed)


def report_nul_bytes(raw: pl.DataFrame, file: str, problems: ProblemLog) -> None:
    """A NUL byte is never text: PostgreSQL refuses it in the middle of a load, other tools cut
    the value short at it, so it would show differently from what was checked."""
    message = "contains a NUL byte (\\x00): remove it, it is not text"
    for name in raw.columns:
        if name == ROW or raw.schema[name] != pl.String:
            continue
        rows = raw.filter(pl.col(name).str.contains(NUL, literal=True))
        problems.add_rows(file, rows, name, lambda _row: message, rule=f"{name}: contains a NUL byte")


def first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def read_table(table: Table, path: Path, problems: ProblemLog, warnings: ProblemLog) -> pl.DataFrame | None:
    """Read one file into the table's types, with ROW; None when it cannot be used. An optional
    column the file lacks is a warning (it is loaded empty)."""
    try:
        raw = read_raw(path)
    except Exception as error:  # unreadable file: Polars/Arrow raise many kinds
        if not (is_csv(path) and csv_layout_problems(path, problems)):
            problems.add(Problem(path.name, None, None, None, f"cannot be read: {first_line(error)}"))
        return None
    if not check_columns(table, raw, path.name, problems):
        return None
    if is_csv(path):
        raw = drop_misshapen_rows(raw, CsvText(path.name, path), problems)
    return type_table(table, raw, path.name, problems, warnings)


def type_table(
    table: Table, raw: pl.DataFrame, file: str, problems: ProblemLog, warnings: ProblemLog
) -> pl.DataFrame | None:
    """A frame whose columns are checked (check_columns) into the table's types, with ROW."""
    report_nul_bytes(raw, file, problems)
    columns, filled, given = [pl.col(ROW)], [], []
    for column in table.columns:
        dtype = polars_type(column)
        if column.name not in raw.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(column.name))
            warnings.warn(file, "optional column not given: it will be empty", column=column.name)
            continue
        source_dtype = raw.schema[column.name]
        source = pl.col(column.name)
        if source_dtype == pl.String:
            source = tidy_text(source, (table.name, column.name) in FREE_TEXT)
        columns.append(convert(source, source_dtype, dtype).alias(column.name))
        filled.append(source.is_not_null().alias(column.name))
        given.append((column.name, dtype))
    try:
        typed = raw.select(columns)
        was_filled = raw.select(filled)  # cheap: no parsing, so each value is parsed only once
    except Exception as error:  # a typed column Polars cannot cast at all (e.g. a list column)
        problems.add(Problem(file, None, None, None, f"cannot be read: {first_line(error)}"))
        return None
    for name, dtype in given:
        failed = was_filled.get_column(name) & typed.get_column(name).is_null()
        if failed.any() and raw.schema[name] == pl.String:
            failed = failed & ~raw.get_column(name).str.contains(NUL, literal=True)  # reported already
        if not failed.any():
            continue
        message = f"cannot be read as {expected_form(dtype)}"
        bad = raw.filter(failed)
        problems.add_rows(file, bad, name, lambda _row, message=message: message, rule=f"{name}: {message}")
    return typed
