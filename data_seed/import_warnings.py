"""What an import should say without refusing: the warnings of queries/import_report.py.

An extract can be valid and still leave the dashboard poorer than its user expects. Each
function here adds warnings to a ProblemLog(severity=WARNING); none of them stops the import:

- a table the pages need is missing or empty: which pages go blank, and which parts of them
  (derived from the measure registry's ``sources`` and queries/page_measures.py);
- values the extract marks 'unknown' where a column allows it (area type, port
  destinations): how many, since figures by that column cannot place them;
- a month-partitioned table with unusually few rows compared with the previous month's load
  (``fewer_rows_than_previous_month``: the caller hands over the previous counts, e.g. from
  the load log, and stores ``month_row_counts`` of this extract for the next one).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from data_seed.import_files import IMPORTED_TABLES, LISTED_TABLES
from queries.contracts import ACCEPTED_VALUES
from queries.import_report import ProblemLog
from queries.page_measures import emptied_by
from queries.tables import UNKNOWN

# At most this many parts of one page are named; the rest are counted ("and 4 more").
MOST_PARTS_NAMED = 5

# Columns where 'unknown' is an accepted, honest answer (derived: their accepted values hold it).
UNKNOWN_ALLOWED: tuple[tuple[str, str], ...] = tuple(
    key for key, values in ACCEPTED_VALUES.items() if UNKNOWN in values
)

# Tables recorded month by month, with their month column: one month's rows are one partition.
# kpi_targets is left out: targets are plans, set for months ahead, not records of a month.
MONTH_PARTITIONS: dict[str, str] = {
    table.name: column.name
    for table in IMPORTED_TABLES
    for column in table.columns
    if column.name.endswith("_month") and table.name != "kpi_targets"
}
# A month with fewer rows than this share of the previous month's is worth a second look:
# a cut-short or half-exported file looks like this, a real month never shrinks so much.
FEWER_ROWS_SHARE = 0.5


def _parts_text(parts: list[str]) -> str:
    named = parts[:MOST_PARTS_NAMED]
    more = len(parts) - len(named)
    return ", ".join(named) + (f" and {more} more" if more else "")


def empty_table_warnings(
    frames: Mapping[str, pl.DataFrame], given: set[str], files: Mapping[str, str], warnings: ProblemLog
) -> None:
    """One warning per table of ``frames`` without rows: why (no file, or a file without rows)
    and which pages, or parts of pages, will show nothing for it."""
    for table in LISTED_TABLES:
        frame = frames.get(table.name)
        if frame is None or frame.height:
            continue
        reason = "no file" if table.name not in given else "the file has no rows"
        pages = emptied_by(table.name)
        if pages:
            # One page a line: the list is read, not parsed, and is long when customers are missing.
            where = "".join(f"\n  - {page.title}: {_parts_text(parts)}" for page, parts in pages)
            message = f"{reason}, the table will be empty; these will show nothing:{where}"
        else:
            message = f"{reason}, the table will be empty (no page shows it)"
        warnings.warn(files.get(table.name) if table.name in given else table.name, message)


def unknown_value_warnings(frames: Mapping[str, pl.DataFrame], files: Mapping[str, str], warnings: ProblemLog) -> None:
    """How many filled values are 'unknown' in each column that allows it."""
    for table, column in UNKNOWN_ALLOWED:
        frame = frames.get(table)
        if frame is None or not frame.height:
            continue
        column_values = pl.col(column)
        counts = frame.select(
            column_values.is_not_null().sum().alias("filled"), (column_values == UNKNOWN).sum().alias("unknown")
        )
        filled, unknown = counts.row(0)
        if not unknown:
            continue
        message = (
            f"{unknown:,} of {filled:,} values ({unknown / filled:.1%}) are '{UNKNOWN}' "
            f"(allowed: the extract does not record it); figures by {column} cannot place these rows"
        )
        warnings.warn(files[table], message, column=column, value=UNKNOWN)


def last_month(frames: Mapping[str, pl.DataFrame]) -> date | None:
    """The latest month of any month-partitioned table: the month this extract brings."""
    months = [
        frames[table].get_column(column).max()
        for table, column in MONTH_PARTITIONS.items()
        if table in frames and frames[table].height
    ]
    months = [month for month in months if month is not None]
    return max(months) if months else None


def month_row_counts(frames: Mapping[str, pl.DataFrame]) -> dict[str, int]:
    """Rows of each month-partitioned table in the extract's last month; what to keep (in the
    load log) so that next month's import can be compared with it. {} without monthly data."""
    month = last_month(frames)
    if month is None:
        return {}
    return {
        table: frames[table].filter(pl.col(column) == month).height
        for table, column in MONTH_PARTITIONS.items()
        if table in frames
    }


def fewer_rows_than_previous_month(
    frames: Mapping[str, pl.DataFrame],
    previous_month_rows: Mapping[str, int],
    files: Mapping[str, str],
    warnings: ProblemLog,
    share: float = FEWER_ROWS_SHARE,
) -> None:
    """Warn for each table whose rows fell below ``share`` of the previous month's.

    ``previous_month_rows`` is {table: rows} as ``month_row_counts`` gave it for the previous
    month's import. A month-partitioned table is compared by its rows of this extract's last
    month; any other table named there by all its rows. Tables absent from the dict, or with
    no rows then, are not compared (nothing to compare with)."""
    now = month_row_counts(frames)
    month = last_month(frames)
    for table, before in previous_month_rows.items():
        if not before or table not in frames:
            continue
        partitioned = table in MONTH_PARTITIONS
        if partitioned and month is None:
            continue
        rows = now.get(table, 0) if partitioned else frames[table].height
        if rows >= before * share:
            continue
        which = f"rows for {month:%Y-%m}" if partitioned else "rows"
        message = (
            f"only {rows:,} {which}, fewer than {share:.0%} of the previous month's {before:,}: "
            "a cut-short or partial extract? The import goes ahead."
        )
        warnings.warn(files.get(table, table), message)
