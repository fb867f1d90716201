"""Market and calendar facts the generator plants: competitors' shares, number portability, Tết.

Province reference data (shared with the dashboard and the importer) is queries/reference.py;
the CSV files it reads are part of the project (docs/domain.md, "Geography", says what they hold).
"""

from datetime import date

from queries import tables as t

# Mobile subscription shares of Viettel's competitors (2023, docs/domain.md). Port-outs and
# port-ins are spread over them in proportion (renormalised: Viettel itself is excluded).
COMPETITOR_MARKET_SHARES: dict[str, float] = {
    "mobifone": 0.16,
    "vinaphone": 0.21,
    "vietnamobile": 0.035,
    "gmobile": 0.01,
    "mvno": 0.025,
}
assert tuple(COMPETITOR_MARKET_SHARES) == t.COMPETITORS

# Mobile number portability: postpaid numbers from 16 Nov 2018, every number from 1 Jan 2019.
MNP_START = date(2018, 11, 16)

# First day of the lunar new year (Tết Nguyên Đán). Only its month matters to the generator;
# years outside the table fall back to February.
TET_DAYS: dict[int, date] = {
    2010: date(2010, 2, 14),
    2011: date(2011, 2, 3),
    2012: date(2012, 1, 23),
    2013: date(2013, 2, 10),
    2014: date(2014, 1, 31),
    2015: date(2015, 2, 19),
    2016: date(2016, 2, 8),
    2017: date(2017, 1, 28),
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}


def tet_month(year: int) -> int:
    """Calendar month (1 or 2) in which Tết falls in ``year``."""
    day = TET_DAYS.get(year)
    return day.month if day else 2
