"""Province codes as the dashboard reads them: the 34 current codes, and which current unit
each legacy (63-province) code merged into.

Read straight from the reference files shipped in data_seed/reference/, the files the
importer maps legacy codes with (data_seed/importer.py), so a link and an import map a
code alike, without the dashboard importing the loader package. The rule is the
importer's too: a current code always means the current province, even where an old
province had the same digits; only an old code that is not a current one is mapped.
"""

import csv
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "data_seed" / "reference"
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
