"""Re-time the selects a page ran, cold and warm, p50/p95 over repeats.

- cold: a fresh engine for every repeat (DuckDB: a new database instance, its buffer
  pool empty; PostgreSQL: a new connection, whose shared buffers stay as they were).
  The operating system's file cache is not dropped (that needs root): "cold" means the
  dashboard process just started, not the machine.
- warm: one engine, one warm-up pass, then the repeats. Neither engine caches results,
  so a warm repeat costs what the same page costs after a filter change (the dashboard's
  own result cache, st.cache_data, is bypassed here on purpose).
A page's time is the sum of its selects run one after another, as the page runs them.
"""

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Select

from queries.engine import make_engine
from queries.run import run


@dataclass(frozen=True)
class Timing:
    p50: float
    p95: float
    runs: tuple[float, ...]

    def as_dict(self) -> dict:
        return {"p50": self.p50, "p95": self.p95, "runs": list(self.runs)}


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(runs: Sequence[float]) -> Timing:
    return Timing(statistics.median(runs), percentile(runs, 0.95), tuple(runs))


def _run_all(selects: Sequence[Select], connection: Connection) -> tuple[float, list[float]]:
    each = []
    for select in selects:
        started = time.perf_counter()
        run(select, connection)
        each.append(time.perf_counter() - started)
    return sum(each), each


def cold(url: str, selects: Sequence[Select], repeats: int) -> Timing:
    totals = []
    for _ in range(repeats):
        engine = make_engine(url, read_only=True)
        try:
            with engine.connect() as connection:
                total, _ = _run_all(selects, connection)
        finally:
            engine.dispose()
        totals.append(total)
    return summarise(totals)


def warm(url: str, selects: Sequence[Select], repeats: int) -> tuple[Timing, list[float]]:
    """Page timing and each select's median time (to find the slow ones)."""
    engine = make_engine(url, read_only=True)
    try:
        with engine.connect() as connection:
            _run_all(selects, connection)
            totals, per_select = [], [[] for _ in selects]
            for _ in range(repeats):
                total, each = _run_all(selects, connection)
                totals.append(total)
                for index, seconds in enumerate(each):
                    per_select[index].append(seconds)
    finally:
        engine.dispose()
    return summarise(totals), [statistics.median(values) for values in per_select]
