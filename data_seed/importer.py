"""Import an operator's own extract: one CSV or Parquet file per table, validated before writing.

``python -m data_seed import DIR [--url URL]`` ends here (``import_directory``). The whole
directory is read and checked first; only when nothing is wrong is the warehouse replaced,
in one all-or-nothing load. Checks run in two phases:

1. structure and types: known file names, customers present, required columns present,
   no unknown columns, every value readable as its column's type;
2. contents (only when phase 1 is clean, so an unreadable value is not reported twice as
   "empty"): legacy province codes mapped to the 34, then every data contract
   (queries/contracts.py): not-null, accepted values, unique ids, references across
   files (facts of unknown customers), churned ⇔ a churn event, dates in order (also
   across files: no churn before activation), non-negative money, first-of-month months,
   birth years plausible in the year of the data; and no date later than today in Vietnam
   (DAYS_AHEAD_ALLOWED names the exceptions).

Besides these errors, which refuse the import, warnings (data_seed/import_warnings.py) say
what a valid extract will leave blank or vague: tables the pages need that are missing or
empty, 'unknown' values, a month much thinner than the previous one. They never stop the
import; they are printed with the report and returned (``Validated.warnings``).

Then, unless forced, the incoming row counts are compared with the warehouse's: an import
that would leave a table with less than half its rows is refused (KEEP_AT_LEAST).

Everything is vectorised with Polars: a check produces a frame of offending rows, and only
the first few of those become report lines (queries/import_report.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy import Table, func, inspect, select
from sqlalchemy.sql.util import find_tables

from data_seed.customer_keys import ID, KEY, as_in_file, assign_ids, file_table, names_customers, to_ids
from data_seed.generate_calendar import VIETNAM
from data_seed.import_files import IMPORTED_TABLES, LISTED_TABLES, REQUIRED_FILES, empty_frame
from data_seed.import_warnings import (
    empty_table_warnings,
    fewer_rows_than_previous_month,
    unknown_value_warnings,
)
from data_seed.load import atomic_load, polars_type
from data_seed.mapped_files import find_sources
from queries import reference
from queries.contracts import CHECKS, ROW, Check, HasPartner, NotNull, Relationship, Unique, checks_for_data_year
from queries.engine import duckdb_path, is_duckdb, make_engine
from queries.import_report import WARNING, Problem, ProblemLog, render_report

# When two old provinces merge, their monthly contact counts add up in the new one.
SUM_WHEN_PROVINCES_MERGE = ("care_contacts_monthly",)


# --- phase 2: province codes, contracts ------------------------------------------------------


def province_columns(table: Table) -> list[str]:
    return [
        column.name
        for column in table.columns
        if column.name == "province_code"
        or any(key.target_fullname == "provinces.province_code" for key in column.foreign_keys)
    ]


def map_legacy_codes(frame: pl.DataFrame, table: Table, legacy: dict[str, str]) -> tuple[pl.DataFrame, int]:
    """Old codes become their new unit; current and unknown codes stay (unknown ones fail a check)."""
    mapped = 0
    for name in province_columns(table):
        column = pl.col(name)
        mapped += frame.select(column.is_in(list(legacy)).sum()).item()
        frame = frame.with_columns(column.replace(legacy))
    return frame, mapped


def sum_merged_provinces(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Rows of two old provinces now sharing a key are added up (counts are additive)."""
    key = [column.name for column in table.primary_key.columns]
    measures = [name for name in frame.columns if name not in key and name != ROW]
    # A sum of only empty values stays empty (answered_within_60s is NULL off the call centre).
    sums = [pl.when(pl.col(name).is_not_null().any()).then(pl.col(name).sum()).alias(name) for name in measures]
    merged = frame.group_by(key, maintain_order=True).agg(pl.col(ROW).min(), *sums)
    return merged.select(frame.columns)


def explain(check: Check, row, given: set[str] | frozenset[str] = frozenset()) -> str:
    """What is wrong with one row. A reference into a table that came without a file says so:
    the missing file, not the row, is then what to fix (``given``: tables with a file)."""
    if isinstance(check, Relationship | HasPartner) and check.target_table.name not in {*given, "provinces"}:
        return f"{check.explain(row)} (there is no {check.target_table.name} file)"
    if isinstance(check, Relationship) and check.target_table.name == "provinces":
        country = f", nor '{check.also[0]}' for the whole country" if check.also else ""
        text = f"unknown province code: neither one of the 34 current codes nor one of the 63 legacy codes{country}"
        code = str(row.get(check.column))
        if code.isdigit() and len(code) == 1:
            text += f" (codes have two digits: '0{code}')"  # a spreadsheet dropped the leading zero
        return text
    return check.explain(row)


def rule_name(check: Check) -> str:
    return check.name.removeprefix(f"{check.table.name}.").removeprefix(f"{check.table.name}: ")


def report_value(check: Check):
    """The value a report shows, as the file has it (the customer's key, not our id)."""
    if isinstance(check, Unique):
        return lambda row: ", ".join(str(row.get(as_in_file(name), row.get(name))) for name in check.columns)
    if check.column == ID:
        return lambda row: row.get(KEY, row.get(ID))
    return None


def reported_column(check: Check) -> str:
    return ", ".join(as_in_file(name) for name in check.column.split(", "))


def other_tables(check: Check) -> set[str]:
    """The tables a check reads besides its own (reference tables do not count)."""
    read = {found.name for found in find_tables(check.violations()) if isinstance(found, Table)}
    return read - {check.table.name, "provinces", "legacy_provinces"}


def checked_on_files(check: Check, monthly: bool) -> bool:
    """Whether the importer runs ``check`` on the files' frames.

    Internal customer ids come from the keys (translate_customer_keys checks those). A
    month's files hold only that month's customers, staff and campaigns: rules between
    tables are checked against the warehouse once the month is applied (data_seed/monthly.py)."""
    if check.column == ID and isinstance(check, NotNull | Unique | Relationship):
        return False
    if isinstance(check, Relationship) and check.target_table.name == "customers":
        return False
    return not (monthly and other_tables(check))


def run_contracts(
    frames: dict[str, pl.DataFrame],
    files: dict[str, str],
    problems: ProblemLog,
    checks: tuple[Check, ...] = CHECKS,
    given: set[str] | frozenset[str] = frozenset(),
    monthly: bool = False,
) -> None:
    for check in checks:
        if check.table.name not in files:
            continue  # reference and loader tables are not checked here
        if not checked_on_files(check, monthly):
            continue
        if isinstance(check, Unique) and check.table.name in SUM_WHEN_PROVINCES_MERGE:
            continue  # checked before the legacy codes were mapped
        if isinstance(check, Relationship) and check.target_table.name not in frames:
            continue
        rows = check.offending_rows(frames)
        problems.add_rows(
            files[check.table.name],
            rows,
            reported_column(check),
            lambda row, check=check: explain(check, row, given),
            report_value(check),
            rule=rule_name(check),
        )


# --- phase 2: dates in the future ------------------------------------------------------------

# How many days after today (in Vietnam) a date may lie, for the columns that may lie ahead at
# all; None: no limit. Every other date, timestamp and month column records something that
# has happened (or the month it happened in), so it must not be later than today: 2099-01-01
# is a typo or a placeholder, and the dashboard would count it in a period still to come.
DAYS_AHEAD_ALLOWED: dict[tuple[str, str], int | None] = {
    ("kpi_targets", "target_month"): None,  # targets are plans, set months and years ahead
    # The last month's bills are issued after it ends and fall due around the 20th-25th of the
    # next month; two months also covers an extract taken early in a month.
    ("bills", "due_on"): 62,
    # Campaigns are scheduled ahead: a running one has its last contact still to come.
    ("campaigns", "started_on"): 366,
    ("campaigns", "ended_on"): 366,
}


def vietnam_today() -> date:
    return datetime.now(VIETNAM).date()


def report_future_dates(
    frames: dict[str, pl.DataFrame], files: dict[str, str], problems: ProblemLog, today: date
) -> None:
    for table in IMPORTED_TABLES:
        for column in table.columns:
            dtype = polars_type(column)
            ahead = DAYS_AHEAD_ALLOWED.get((table.name, column.name), 0)
            if dtype not in (pl.Date, pl.Datetime("us")) or ahead is None:
                continue
            last = today + timedelta(days=ahead)
            value = pl.col(column.name)
            # A timestamp any time on the last allowed day is fine (clocks of source systems differ).
            late = value > last if dtype == pl.Date else value >= datetime.combine(last + timedelta(days=1), time())
            rule = "must not be in the future" if ahead == 0 else f"must not be more than {ahead} days in the future"
            message = f"{rule} (today in Vietnam: {today.isoformat()})"
            problems.add_rows(
                files[table.name],
                frames[table.name].filter(late),
                column.name,
                lambda _row, message=message: message,
                rule=f"{column.name}: {rule}",
            )


# --- the whole import ------------------------------------------------------------------------


# --- the operator's customer keys -------------------------------------------------------------


def translate_customer_keys(result: Validated, files: dict[str, str], known: pl.DataFrame, monthly: bool) -> None:
    """Give every row the warehouse's customer id for its ``customer_key``
    (data_seed/customer_keys.py); a key that names no customer is reported and its row dropped.
    Joins, not lists: a month of revenue names millions of customers."""
    customers = result.frames["customers"]
    ids = assign_ids(customers.get_column(KEY), known)
    every = pl.concat([known, ids.join(known.select(KEY), on=KEY, how="anti")])
    where = "in customers.csv nor in the warehouse" if monthly else "in the customers file"
    message = f"unknown customer: no customer with this {KEY} {where}"
    for table in IMPORTED_TABLES:
        if not names_customers(table):
            continue
        frame = to_ids(result.frames[table.name], table, every)
        if table.name != "customers":
            key = pl.col(KEY)
            blank = frame.filter(key.is_null()) if not table.c[ID].nullable else frame.clear()
            result.problems.add_rows(
                files[table.name], blank, KEY, lambda _row: "must not be empty", rule=f"{KEY}: must not be empty"
            )
            stranger = frame.filter(key.is_not_null() & pl.col(ID).is_null())
            result.problems.add_rows(files[table.name], stranger, KEY, lambda _row: message, rule=message)
            frame = frame.filter(key.is_null() | pl.col(ID).is_not_null())
        result.frames[table.name] = frame


@dataclass
class Validated:
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)  # every imported table, in table types
    notes: list[str] = field(default_factory=list)  # what was done to the data on the way (mapped codes)
    problems: ProblemLog = field(default_factory=ProblemLog)  # errors: any one refuses the import
    # Loaded anyway, but the user should know (empty tables and the pages they blank, 'unknown'
    # values, a thin month); the caller prints them and keeps them in the load log.
    warnings: ProblemLog = field(default_factory=lambda: ProblemLog(severity=WARNING))
    contents_checked: bool = False  # False when phase 1 failed and the contracts did not run
    given: set[str] = field(default_factory=set)  # tables that came with a file
    paths: dict[str, Path] = field(default_factory=dict)  # the file of each given table


def reference_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    """provinces and legacy_provinces, from the project's reference data (queries/reference.py)."""
    return reference.provinces_frame(), reference.legacy_provinces_frame()


def data_year(frames: dict[str, pl.DataFrame], today: date) -> int:
    """The year the extract describes: of its last month, never later than ``today``'s (a
    date still to come is a typo, refused on its own, and must not move the other checks)."""
    through = data_through(frames)
    return min(through, today).year if through is not None else today.year


def validate_directory(
    directory: Path,
    today: date | None = None,
    previous_month_rows: dict[str, int] | None = None,
    *,
    known: pl.DataFrame | None = None,
    monthly: bool = False,
    mapping: Path | None = None,
) -> Validated:
    """Read and check every file; ``today`` (default: today in Vietnam) bounds the dates.

    ``previous_month_rows`` ({table: rows}, as import_warnings.month_row_counts gave it for the
    previous month's import, e.g. from the load log) adds a warning for each table that has
    fewer than half of them now. ``known``: the (customer_key, customer_id) pairs the
    warehouse holds (a monthly load's files may name customers loaded before); ``monthly``:
    the files are one month's extract (data_seed/monthly.py), so no file is required and
    references to customers, staff and campaigns may point into the warehouse. ``mapping``: a
    mapping file (data_seed/mapping_file.py) saying how the extract differs from the import
    format; it is checked first, and nothing is read when it is wrong."""
    today = today or vietnam_today()
    result = Validated()
    problems = result.problems
    if not directory.is_dir():
        problems.add(Problem(str(directory), None, None, None, "not a directory"))
        return result
    sources = find_sources(directory, mapping, problems, required=() if monthly else REQUIRED_FILES)
    if sources is None:
        return result
    paths = sources.paths
    result.paths = paths
    files = {table.name: f"{table.name}.csv" for table in IMPORTED_TABLES}
    for table in LISTED_TABLES:
        path = paths.get(table.name)
        if path is None:
            result.frames[table.name] = empty_frame(file_table(table))
            continue
        files[table.name] = path.name
        result.given.add(table.name)
        frame = sources.read(file_table(table), path, problems, result.warnings, result.notes)
        if frame is not None:
            result.frames[table.name] = frame
    if problems:
        # The files not given are known already; the rest waits until every file can be read.
        missing = {
            name: frame
            for name, frame in result.frames.items()
            if name not in result.given and name not in REQUIRED_FILES
        }
        if not monthly:  # a month without a file keeps what the warehouse holds (data_seed/monthly.py)
            empty_table_warnings(missing, result.given, files, result.warnings)
        return result
    if known is None:
        known = pl.DataFrame(schema={KEY: pl.String, ID: pl.Int64})
    translate_customer_keys(result, files, known, monthly)

    provinces, legacy = reference_frames()
    current = set(provinces.get_column("province_code").to_list())
    # A valid new code stays itself even where an old code had the same digits.
    old_to_new = {old: new for old, new in legacy.select("old_code", "new_code").iter_rows() if old not in current}
    for table in IMPORTED_TABLES:
        if not province_columns(table):
            continue
        frame = result.frames[table.name]
        if table.name in SUM_WHEN_PROVINCES_MERGE:
            # Duplicates in the file itself are an error; only merges created by the mapping are added up.
            for check in CHECKS:
                if isinstance(check, Unique) and check.table is table:
                    rows = check.offending_rows(result.frames)
                    problems.add_rows(
                        files[table.name], rows, check.column, check.explain, report_value(check), rule_name(check)
                    )
        frame, mapped = map_legacy_codes(frame, table, old_to_new)
        if mapped:
            result.notes.append(f"{table.name}: {mapped:,} legacy province codes mapped to the 34 current units")
            if table.name in SUM_WHEN_PROVINCES_MERGE:
                frame = sum_merged_provinces(frame, table)
        result.frames[table.name] = frame

    checked = dict(result.frames, provinces=provinces, legacy_provinces=legacy)
    checks = checks_for_data_year(data_year(result.frames, today))
    run_contracts(checked, files, problems, checks, result.given, monthly)
    report_future_dates(result.frames, files, problems, today)
    result.contents_checked = True
    if not monthly:
        empty_table_warnings(result.frames, result.given, files, result.warnings)
    unknown_value_warnings(result.frames, files, result.warnings)
    # Only files given: a table without one is warned about above (whole import) or keeps its rows (month).
    given = {name: frame for name, frame in result.frames.items() if name in result.given}
    fewer_rows_than_previous_month(given, previous_month_rows or {}, files, result.warnings)
    return result


def data_through(frames: dict[str, pl.DataFrame]) -> date | None:
    """Last month with revenue; without revenue, the last month any monthly or customer date shows."""
    revenue = frames["revenue_monthly"]
    if revenue.height:
        return revenue.get_column("revenue_month").max()
    candidates = []
    for table in IMPORTED_TABLES:
        if table.name == "kpi_targets":
            continue  # targets may lie in the future
        frame = frames[table.name]
        for column in table.columns:
            if column.name.endswith("_month") and frame.height:
                candidates.append(frame.get_column(column.name).max())
    customers = frames["customers"]
    for name in ("activated_on", "churned_on"):
        latest = customers.get_column(name).max() if customers.height else None
        if latest is not None:
            candidates.append(latest.replace(day=1))
    candidates = [value for value in candidates if value is not None]
    return max(candidates) if candidates else None


def write(validated: Validated, directory: Path, url: str) -> date | None:
    provinces, legacy = reference_frames()
    through = data_through(validated.frames)
    with atomic_load(url, f"import:{directory}") as load:
        load.write("provinces", provinces)
        load.write("legacy_provinces", legacy)
        for table in IMPORTED_TABLES:
            load.write(table.name, validated.frames[table.name].select(column.name for column in table.columns))
        if through is not None:
            load.set_meta(data_through=through)
    return through


# --- the warehouse now: refuse to lose most of it --------------------------------------------

# An import replaces the whole warehouse. A table that has rows now and would keep fewer than
# this share of them is refused unless forced: a header-only, forgotten or cut-short file looks
# exactly like that, and the dashboard would show the lost rows as customers gone, complaints
# solved, debt paid. Half leaves room for real corrections (test accounts dropped, a shorter
# history), while the accidents lose nearly everything.
KEEP_AT_LEAST = 0.5


def loaded_row_counts(url: str) -> dict[str, int]:
    """Rows of each imported table in the warehouse at ``url`` now, counted by the database;
    {} when there is no warehouse yet (a DuckDB file that does not exist is not created)."""
    if is_duckdb(url) and not duckdb_path(url).exists():
        return {}
    engine = make_engine(url, read_only=True)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            return {
                table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in LISTED_TABLES
                if table.name in present
            }
    finally:
        engine.dispose()


def shrinking_tables(now: dict[str, int], incoming: dict[str, int]) -> list[tuple[str, int, int]]:
    """(table, rows now, rows after) for every table the import would cut below KEEP_AT_LEAST."""
    return [
        (table.name, now[table.name], incoming[table.name])
        for table in LISTED_TABLES
        if now.get(table.name) and incoming[table.name] < now[table.name] * KEEP_AT_LEAST
    ]


def refuse_shrinking(validated: Validated, url: str) -> bool:
    """Print why and return True when the import would shrink a table sharply (or cannot tell)."""
    try:
        now = loaded_row_counts(url)
    except Exception as error:  # locked, damaged or unreachable: all mean "cannot compare"
        first = (str(error).splitlines() or [type(error).__name__])[0]
        print(
            f"Import refused: cannot count the rows of the current warehouse to compare ({first}); "
            "nothing was written. Run the same command again with --force to replace it without comparing.",
            file=sys.stderr,
        )
        return True
    incoming = {name: frame.height for name, frame in validated.frames.items()}
    shrinking = shrinking_tables(now, incoming)
    if not shrinking:
        return False
    print("Import refused: it would shrink these tables sharply; nothing was written.", file=sys.stderr)
    for name, before, after in shrinking:
        missing = "" if name in validated.given else f" (no {name} file)"
        print(f"  {name}: {before:,} → {after:,} rows{missing}", file=sys.stderr)
    print(
        f"An import replaces the whole warehouse, and a table that has rows must keep at least "
        f"{KEEP_AT_LEAST:.0%} of them: a header-only, missing or cut-short file looks like this. "
        "If the smaller data is intended, run the same command again with --force.",
        file=sys.stderr,
    )
    return True


def import_directory(directory: Path, url: str, force: bool = False, mapping: Path | None = None) -> int:
    """Validate every file in ``directory``, then replace the warehouse at ``url``. Exit code.

    ``force`` skips the comparison with the rows in the warehouse now (KEEP_AT_LEAST);
    ``mapping`` is the mapping file of an extract not in the import format (docs/import.md)."""
    directory = Path(directory)
    validated = validate_directory(directory, mapping=mapping)
    if validated.problems:
        problems = validated.problems
        print(f"Import refused: {problems.total:,} problem(s) in {directory}; nothing was written.", file=sys.stderr)
        if not validated.contents_checked:
            print(
                "Fix these first: the checks on the values themselves (accepted values, references between files, "
                "dates in order, …) run once every file can be read.",
                file=sys.stderr,
            )
        print(render_report(problems, validated.warnings), file=sys.stderr)
        return 1
    if not force and refuse_shrinking(validated, url):
        return 1
    through = write(validated, directory, url)
    if validated.warnings:
        print(render_report(validated.problems, validated.warnings))
    for note in validated.notes:
        print(note)
    for table in LISTED_TABLES:
        print(f"{table.name}: {validated.frames[table.name].height:,} rows")
    print(f"Imported {directory}; data through {through.isoformat() if through else 'unknown'}.")
    return 0
