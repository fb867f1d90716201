"""The problem list of an import or a targets upload: what is wrong, where, capped so a
broken extract stays readable.

Two severities: an ERROR refuses the whole import (nothing is written); a WARNING lets it go
ahead but is printed with the report and kept (the load log stores it): a table the pages
need is empty, values the extract marks 'unknown', a month with unusually few rows. Each
severity has its own log (``ProblemLog(severity=WARNING)``), so "is anything wrong?" stays
``bool(errors)``; ``render_report`` prints both, errors first.

Rows are numbered as the user sees them in the file: in a CSV the header is line 1, so the
first data row is row 2 (a text editor's line number); in a Parquet file the first row is
row 1. Every source of problems hands over a Polars frame of offending rows; only the first
``cap`` of all problems are turned into Python objects, the rest are only counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import polars as pl

from queries.contracts import ROW

DEFAULT_CAP = 50
LONGEST_VALUE = 60
ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)


def csv_lines(raw: pl.DataFrame, newlines: int) -> pl.Expr:
    """The line each CSV record starts on: the header is line 1, and a quoted value with line
    breaks pushes every later record down, so row numbers match what an editor shows."""
    index = pl.int_range(pl.len(), dtype=pl.UInt32) + 2
    if not raw.width or newlines <= raw.height + 1:
        return index.alias(ROW)  # one record per line: the common case, nothing to count
    breaks = pl.sum_horizontal(pl.col(name).str.count_matches("\n", literal=True).fill_null(0) for name in raw.columns)
    return (index + breaks.cum_sum().shift(1, fill_value=0).cast(pl.UInt32)).alias(ROW)


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # None: the problem is about the whole file or a column
    column: str | None
    value: object
    message: str
    severity: str = ERROR

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}: one of {SEVERITIES}")

    def sort_key(self) -> tuple:
        return (self.file, -1 if self.row is None else self.row, self.column or "")

    def line(self, column_label: str | None = None) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {column_label or self.column}")
        text = ", ".join(where)
        # A row-wide problem with nothing to show (an empty line) has no value to quote.
        if self.row is not None and (self.column or self.value is not None):
            text += f", value {show(self.value)}"
        return f"{text}: {self.message}"


def show(value: object) -> str:
    if value is None:
        return "(empty)"
    text = str(value)
    if len(text) > LONGEST_VALUE:
        text = text[: LONGEST_VALUE - 1] + "…"
    return repr(text)


@dataclass
class ProblemLog:
    """Problems of one severity: every problem added is (or is stamped) of ``severity``."""

    cap: int = DEFAULT_CAP
    sample: list[Problem] = field(default_factory=list)
    total: int = 0
    # How many rows each rule rejected, per file: the overview when one rule fails thousands of times.
    by_rule: Counter = field(default_factory=Counter)
    severity: str = ERROR
    # How a column is named in the report, per (file, column), when the file calls it something
    # else: a mapped extract's "NgayHoaMang → activated_on" (data_seed/mapped_files.py).
    column_labels: dict[tuple[str, str], str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.total > 0

    def add(self, problem: Problem) -> None:
        if problem.severity != self.severity:
            problem = replace(problem, severity=self.severity)
        self.total += 1
        self.sample.append(problem)
        self._trim()

    def warn(self, file: str, message: str, column: str | None = None, value: object = None) -> None:
        """A problem about a whole file or column (no row), in this log's severity."""
        self.add(Problem(file, None, column, value, message, self.severity))

    def add_rows(
        self,
        file: str,
        rows: pl.DataFrame,
        column: str | None,
        explain: Callable[[Mapping[str, object]], str],
        value: Callable[[Mapping[str, object]], object] | None = None,
        rule: str | None = None,
    ) -> None:
        """Record every row of ``rows`` (which carries ROW) as one problem each, counted under ``rule``."""
        if rows.height == 0:
            return
        self.total += rows.height
        if rule:
            self.by_rule[(file, rule)] += rows.height
        # The smallest row numbers of each source are enough to build the global first ``cap``.
        first = rows.sort(ROW).head(self.cap) if ROW in rows.columns else rows.head(self.cap)
        for record in first.iter_rows(named=True):
            shown = value(record) if value else record.get(column) if column else None
            self.sample.append(Problem(file, record.get(ROW), column, shown, explain(record), self.severity))
        self._trim()

    def _trim(self) -> None:
        self.sample.sort(key=Problem.sort_key)
        del self.sample[self.cap :]

    def render(self) -> str:
        error = self.severity == ERROR
        lines = []
        if len(self.by_rule) > 1 or self.total > len(self.sample):
            lines.append("Rows rejected, by rule:" if error else "Rows warned about, by rule:")
            for (file, rule), count in sorted(self.by_rule.items()):
                lines.append(f"  {file}, {rule}: {count:,} {'row' if count == 1 else 'rows'}")
            if self.total > len(self.sample):
                lines.append(f"First {len(self.sample)} {'problem(s)' if error else 'warning(s)'}:")
            else:
                lines.append("Problems:" if error else "Warnings:")
        lines.extend(
            problem.line(self.column_labels.get((problem.file, problem.column or ""))) for problem in self.sample
        )
        if self.total > len(self.sample):
            lines.append(f"… and {self.total - len(self.sample):,} more")
        return "\n".join(lines)


def render_report(errors: ProblemLog, warnings: ProblemLog) -> str:
    """The whole report: the errors (why nothing was written), then the warnings under their
    own heading; empty when there is nothing to say."""
    parts = []
    if errors:
        parts.append(errors.render())
    if warnings:
        heading = "Warnings (these alone would not stop the import):" if errors else "Warnings:"
        parts.append(heading + "\n" + warnings.render())
    return "\n\n".join(parts)
