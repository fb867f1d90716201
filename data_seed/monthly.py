"""One month's extract into the warehouse: ``python -m data_seed import DIR --month 2026-11``.

1. The files are read and checked like any import (data_seed/importer.py), customers named
   by the operator's key; keys the warehouse knows keep their ids.
2. The month must follow the data: the month after the last one loaded, or that month again
   (a reload); an earlier month only with ``--reload`` (history corrected), and a gap never
   (load the missing month first).
3. On a working copy of the DuckDB file (swapped in at the end), or in one transaction on
   PostgreSQL's live tables: the month's rows of every table given a
   file are replaced (data_seed/monthly_rules.py), rows of earlier months and customers are
   updated by key; cross-table rules are checked on the result (a churn event for a customer
   the warehouse does not have as churned, a complaint for staff nobody loaded, …); the marts
   are rebuilt from the first month the load changed; the load log gets its row.
4. Only then does the new state become visible. Any failure, a kill -9 included, leaves the
   warehouse as it was (the copy is discarded, or the transaction never commits) and the
   next load works (data_seed/load.py removes a dead load's files).

A table without a file keeps what it has: a missing file never empties a table; the
report says which tables were not in the extract.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, inspect

from data_seed.import_files import IMPORTED_TABLES
from data_seed.importer import reference_frames, validate_directory
from data_seed.load import (
    atomic_load,
)
from data_seed.load_log import LoadRecord, file_entries, forget_attempts, record_attempt
from data_seed.month_apply import (
    MonthRefused,
    apply_month,
    month_text,
    report_later_rows,
    write_data_through,
    write_log_row,
)
from data_seed.month_sessions import DuckDBMonth, PostgresMonth
from data_seed.refresh import refresh_connection
from queries.engine import duckdb_path, is_duckdb, normalise_url
from queries.filters import add_months
from queries.import_report import render_report
from queries.tables import customers

# --- the order of months -------------------------------------------------------------------


def refusal_for_order(month: date, through: date | None, reload: bool) -> str | None:
    """Why ``month`` cannot be loaded now (None: it can)."""
    if through is None or month in (through, add_months(through, 1)):
        return None
    if month > through:
        missing = add_months(through, 1)
        gap = (
            month_text(missing)
            if missing == add_months(month, -1)
            else f"{month_text(missing)} … {month_text(add_months(month, -1))}"
        )
        return (
            f"{month_text(month)} would leave a gap: the warehouse holds data through {month_text(through)}. "
            f"Load {gap} first."
        )
    if not reload:
        return (
            f"{month_text(month)} is earlier than the data in the warehouse (through {month_text(through)}). "
            "To correct a month of history, run the same command with --reload: its rows are replaced, "
            "later months keep theirs, and the marts are rebuilt from that month on."
        )
    return None


# --- the command -------------------------------------------------------------------------------


class Stopwatch:
    """Prints how long each step of a load took (a 10 M month takes minutes: say where)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.started = self.last = time.perf_counter()

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.log(f"  [{now - self.started:6.1f} s] {step}: {now - self.last:.1f} s")
        self.last = now


def warehouse_exists(url: str) -> bool:
    if is_duckdb(url):
        return duckdb_path(url).exists()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return inspect(connection).has_table(customers.name)
    finally:
        engine.dispose()


def load_month(
    directory: Path,
    url: str,
    month: date,
    *,
    reload: bool = False,
    mapping: Path | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Load one month's extract from ``directory`` into the warehouse at ``url``. Exit code."""
    url = normalise_url(url)
    month = month.replace(day=1)
    record = LoadRecord("month", str(directory), month=month)
    if not warehouse_exists(url):
        # The first month creates the (empty) tables: keys, indexes and marts included.
        source = "an empty warehouse for the first monthly load"
        with atomic_load(url, source, LoadRecord("history", source)) as load:
            provinces, legacy = reference_frames()
            load.write("provinces", provinces)
            load.write("legacy_provinces", legacy)
    lap = Stopwatch(log)
    session = DuckDBMonth(url) if is_duckdb(url) else PostgresMonth(url)
    try:
        state = session.state()
        lap("read the warehouse's customer keys")
        refusal = refusal_for_order(month, state.through, reload)
        if refusal:
            raise MonthRefused(refusal)
        previous = state.previous_rows if state.through is not None and month > state.through else {}
        validated = validate_directory(Path(directory), None, previous, known=state.keys, monthly=True, mapping=mapping)
        if not validated.problems:
            report_later_rows(validated, month)
        if validated.problems:
            report = render_report(validated.problems, validated.warnings)
            raise MonthRefused(f"{validated.problems.total:,} problem(s) in {directory}:\n{report}")
        lap("read and checked the files")
        record.files = file_entries(validated.paths, {name: validated.frames[name].height for name in validated.given})
        missing = [table.name for table in IMPORTED_TABLES if table.name not in validated.given]
        notes = [*validated.notes]
        if validated.warnings:
            notes.append(validated.warnings.render())
        if missing:
            notes.append(f"no file for {', '.join(missing)}: what the warehouse holds for them is kept")
        runner = session.runner()
        lap("working copy" if is_duckdb(url) else "transaction opened")
        since = apply_month(runner, validated, month, reloading=state.through is not None and month < state.through)
        write_data_through(runner, month, state.through, record)
        lap("month written and checked against the warehouse")
        refresh_connection(runner.connection, runner.dialect, since=since or month, log=log)
        lap("marts rebuilt")
        write_log_row(runner, record, url, "\n".join(notes) or None)
        session.commit()
        lap("committed" if not is_duckdb(url) else "checkpointed and swapped in")
    except MonthRefused as refusal:
        session.close()
        record_attempt(url, record, "refused", str(refusal))
        print(f"Load of {month_text(month)} refused; nothing was written.\n{refusal}", file=sys.stderr)
        return 1
    except Exception as error:
        session.close()
        first = (str(error).splitlines() or [type(error).__name__])[0]
        record_attempt(url, record, "failed", first)
        print(f"Load of {month_text(month)} failed; nothing was written: {first}", file=sys.stderr)
        return 1
    session.close()
    if is_duckdb(url):
        forget_attempts(url)
    for note in notes:
        print(note)
    for name in sorted(validated.given):
        print(f"{name}: {validated.frames[name].height:,} rows")
    print(f"Loaded {month_text(month)} from {directory}; marts rebuilt from {month_text(since or month)}.")
    return 0
