"""A folder of Parquet tables with one manifest that says which files make up each table.

Parquet has no DELETE and no transactions, so nothing is ever rewritten in place: a writer
puts whole new month partitions (or a whole table) into a folder of its own run, then
replaces the manifest (`_manifest.json`) in one atomic rename. A reader takes the manifest
once and reads exactly the folders it names, so it sees the table before or after a run,
never half of one. A run that dies leaves only an orphan folder, which the next commit
removes.

    {"tables": {"revenue_monthly": {"months": {"2026-10-01": "revenue_monthly/r-…/part_month=2026-10-01"}},
                "customers": {"whole": "customers/r-…"}},
     "meta": {"data_through": "2026-10-01", …}}

A table is month-partitioned when it has a month (facts: the month of their date; marts:
their `month` column): a refresh then writes only the months it rebuilt and keeps the
folders of the others. Paths are relative to the lake's root, so a lake can be moved.
"""

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

MANIFEST = "_manifest.json"
PARTITION_COLUMN = "part_month"  # the folder name's key: part_month=2026-10-01


@dataclass
class Manifest:
    tables: dict[str, dict] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)

    def folders(self, root: Path, name: str) -> list[Path]:
        """Every folder of the table's files, months in order (empty if no such table)."""
        entry = self.tables.get(name, {})
        if "whole" in entry:
            return [root / entry["whole"]]
        return [root / path for _, path in sorted(entry.get("months", {}).items())]

    def months(self, name: str) -> dict[date, str]:
        return {date.fromisoformat(month): path for month, path in self.tables.get(name, {}).get("months", {}).items()}

    def has(self, name: str) -> bool:
        return name in self.tables

    def set_whole(self, name: str, path: str) -> None:
        self.tables[name] = {"whole": path}

    def set_months(self, name: str, months: dict[date, str]) -> None:
        self.tables[name] = {"months": {month.isoformat(): path for month, path in sorted(months.items())}}


def read_manifest(root: Path) -> Manifest:
    """The lake's manifest; an empty one when nothing has been written yet."""
    path = Path(root) / MANIFEST
    if not path.exists():
        return Manifest()
    data = json.loads(path.read_text(encoding="utf-8"))
    return Manifest(tables=data.get("tables", {}), meta=data.get("meta", {}))


def run_folder(name: str) -> str:
    """A new folder, relative to the root, for one run's files of a table."""
    return f"{name}/r-{uuid.uuid4().hex}"


def month_folder(run: str, month: date) -> str:
    return f"{run}/{PARTITION_COLUMN}={month.isoformat()}"


def written_months(root: Path, run: str) -> dict[date, str]:
    """The month folders (part_month=…) a writer created under its run folder."""
    folder = Path(root) / run
    if not folder.exists():
        return {}
    months = [date.fromisoformat(part.name.split("=", 1)[1]) for part in folder.iterdir() if "=" in part.name]
    return {month: month_folder(run, month) for month in months}


def commit(root: Path, manifest: Manifest) -> None:
    """Make `manifest` the lake's state (one rename), then remove the folders no table
    names any more (this run's predecessors, and orphans of runs that died)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    staged = root / f"{MANIFEST}.{uuid.uuid4().hex}"
    staged.write_text(json.dumps({"tables": manifest.tables, "meta": manifest.meta}, indent=1), encoding="utf-8")
    os.replace(staged, root / MANIFEST)
    remove_unreferenced(root, manifest)


def remove_unreferenced(root: Path, manifest: Manifest) -> None:
    """Remove run folders no table names, and month folders of a run that no table names
    any more (a later run rewrote those months)."""
    named = {Path(path) for entry in manifest.tables.values() for path in _paths(entry)}
    runs_named = {Path(*path.parts[:2]) for path in named}  # table/r-…
    for table_folder in root.iterdir():
        if not table_folder.is_dir() or table_folder.name.startswith(("_", ".")):
            continue
        for run in table_folder.iterdir():
            relative = run.relative_to(root)
            if not run.name.startswith("r-") or relative in named:
                continue
            if relative not in runs_named:
                shutil.rmtree(run, ignore_errors=True)
                continue
            for month in run.iterdir():
                if month.is_dir() and month.relative_to(root) not in named:
                    shutil.rmtree(month, ignore_errors=True)


def _paths(entry: dict) -> list[str]:
    return [entry["whole"]] if "whole" in entry else list(entry.get("months", {}).values())
