"""Province reference data shipped with the project (queries/reference_data/): the 34 current
provincial units and which current unit each legacy (63-province) code merged into.

One module for the dashboard (links, roles, the targets upload), the generator and the
importer, so a link and an import map a code alike. The rule: a current code always means
the current province, even where an old province had the same digits; only an old code that
is not a current one is mapped. The CSV files are part of the project (docs/domain.md,
"Geography", says what they hold).
"""

import csv
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

import polars as pl

from queries import tables as t

REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data"
PROVINCES_CSV = REFERENCE_DIR / "provinces_2025.csv"
LEGACY_CSV = REFERENCE_DIR / "provinces_legacy_63_to_34.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def current_province_codes() -> frozenset[str]:
    """The 34 official codes since 1 July 2025."""
    return frozenset(row["code"] for row in _rows(PROVINCES_CSV))


@cache
def legacy_province_codes() -> Mapping[str, str]:
    """Old code -> the current code of the unit it merged into, for the old codes that are
    not current codes themselves (read-only)."""
    current = current_province_codes()
    return MappingProxyType(
        {row["old_code"]: row["new_code"] for row in _rows(LEGACY_CSV) if row["old_code"] not in current}
    )


def current_province_code(code: str) -> str | None:
    """The current code that `code` names: itself when current, the unit it merged into when a
    legacy code, else None."""
    if code in current_province_codes():
        return code
    return legacy_province_codes().get(code)


# --- as frames, with the columns of the provinces and legacy_provinces tables -------------


@cache
def _provinces() -> pl.DataFrame:
    return pl.read_csv(PROVINCES_CSV, schema_overrides={"code": pl.String}).sort("code")


def provinces_frame() -> pl.DataFrame:
    """The 34 provincial units, with exactly the columns of the ``provinces`` table."""
    frame = _provinces().rename({"code": "province_code"})
    return frame.select(
        pl.col(column.name).cast(pl.Float64 if column.name in ("area_km2", "lat", "lon") else frame[column.name].dtype)
        for column in t.provinces.columns
    ).with_columns(pl.col("population").cast(pl.Int64))


def legacy_provinces_frame() -> pl.DataFrame:
    """The 63 old provinces and the new unit each merged into (``legacy_provinces`` columns)."""
    frame = pl.read_csv(LEGACY_CSV, schema_overrides={"old_code": pl.String, "new_code": pl.String})
    return frame.select(column.name for column in t.legacy_provinces.columns).sort("old_code")


def province_codes() -> list[str]:
    return provinces_frame().get_column("province_code").to_list()
