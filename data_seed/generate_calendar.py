"""The generator's calendar: the window of months, day numbers, the data cut-off, Tết.

Dates are handled as integer day numbers (days since 1970-01-01, Polars' Date encoding) so
every date calculation stays a numpy vector operation; timestamps are integer seconds.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np
import polars as pl

from data_seed.market_facts import tet_month
from queries.filters import add_months

EPOCH = date(1970, 1, 1)
VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # no daylight saving in Vietnam
SECONDS_PER_DAY = 86_400


def day_number(value: date) -> int:
    return (value - EPOCH).days


def from_day_number(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


def last_complete_month(now: datetime | None = None) -> date:
    """First day of the last complete month in Vietnam (on 24 Nov 2026: 1 Oct 2026)."""
    today = (now or datetime.now(VIETNAM)).astimezone(VIETNAM).date()
    return add_months(today.replace(day=1), -1)


@dataclass(frozen=True)
class Window:
    """The months the data covers: ``months`` months ending with ``end_month`` (inclusive)."""

    end_month: date
    months: int
    month_starts: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.end_month.day != 1:
            raise ValueError("end_month must be the first day of a month")
        if self.months < 1:
            raise ValueError("months must be at least 1")
        starts = [day_number(add_months(self.start_month, offset)) for offset in range(self.months + 1)]
        object.__setattr__(self, "month_starts", np.asarray(starts, dtype=np.int64))

    @property
    def start_month(self) -> date:
        return add_months(self.end_month, -(self.months - 1))

    @property
    def start_day(self) -> int:
        """Day number of the first day of the window."""
        return int(self.month_starts[0])

    @property
    def cutoff_day(self) -> int:
        """Day number of the first day after the data: anything on or after it is not known yet."""
        return int(self.month_starts[-1])

    @property
    def days_in_month(self) -> np.ndarray:
        return np.diff(self.month_starts)

    def month(self, index: int) -> date:
        return add_months(self.start_month, index)

    def month_index(self, days: np.ndarray) -> np.ndarray:
        """Index of the window month containing each day (−1 before the window, ``months`` after)."""
        return np.searchsorted(self.month_starts, days, side="right") - 1

    def tet_factor(self, before: float, during: float, after: float) -> np.ndarray:
        """Per-month multiplier: ``before`` the month before Tết, ``during`` its month, ``after`` the next."""
        factors = np.ones(self.months)
        for index in range(self.months):
            month = self.month(index)
            tet = date(month.year, tet_month(month.year), 1)
            gap = (month.year - tet.year) * 12 + month.month - tet.month
            if gap == -1 or (month.month == 12 and tet_month(month.year + 1) == 1):
                factors[index] *= before
            if gap == 0:
                factors[index] *= during
            if gap == 1:
                factors[index] *= after
        return factors


# --- vectors to Polars columns (NOT_SET = -1 marks a missing value) --------------------------
NOT_SET = -1


def nullable(values: np.ndarray, dtype) -> pl.Series:
    """Integer codes as a Polars column of ``dtype``; NOT_SET becomes NULL."""
    series = pl.Series(np.asarray(values, dtype=np.int64))
    return pl.select(pl.when(series != NOT_SET).then(series).otherwise(None).cast(dtype)).to_series()


def dates(days: np.ndarray) -> pl.Series:
    """Day numbers as a Date column; NOT_SET becomes NULL."""
    return nullable(days, pl.Int32).cast(pl.Date)


def timestamps(seconds: np.ndarray, cutoff_seconds: int) -> pl.Series:
    """Local (naive) timestamps from seconds since the epoch; NULL when unset or not yet known."""
    seconds = np.asarray(seconds, dtype=np.int64)
    known = (seconds != NOT_SET) & (seconds < cutoff_seconds)
    return nullable(np.where(known, seconds * 1_000_000, NOT_SET), pl.Int64).cast(pl.Datetime("us"))
