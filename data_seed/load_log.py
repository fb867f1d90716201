"""The load log (table load_log): every load, import and generate, what it read and how it ended.

A load that goes in writes its row in the same transaction as its data, so the log and the
data never disagree. A load that is refused or fails writes nothing to the warehouse, by
design; its row is still kept:
- PostgreSQL: in a transaction of its own, after the failed one has rolled back;
- DuckDB: in a small file beside the warehouse (``<file>.attempts.jsonl``), because the
  warehouse file may be open in dashboards and is only ever replaced whole. The next load
  that goes in moves those rows into load_log.
A load that replaces the whole warehouse carries the old log over.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import create_engine, insert, inspect

from data_seed.ddl import now_in_vietnam
from queries.engine import duckdb_path, is_duckdb, normalise_url
from queries.tables import load_log

ATTEMPTS_SUFFIX = ".attempts.jsonl"


def loaded_by() -> str:
    """Who ran the load: CRM_LOADED_BY (a scheduler can name the job), else the OS user."""
    try:
        return os.environ.get("CRM_LOADED_BY") or getpass.getuser()
    except Exception:  # no user name in a bare container
        return f"uid {os.getuid()}"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_entries(paths: dict[str, Path], rows: dict[str, int]) -> list[dict]:
    """One entry per file read: name, table, rows, checksum."""
    return [
        {"file": path.name, "table": table, "rows": rows.get(table, 0), "sha256": sha256(path)}
        for table, path in sorted(paths.items())
    ]


@dataclass
class LoadRecord:
    kind: str  # month, history or generate
    source: str
    month: date | None = None
    files: list[dict] = field(default_factory=list)
    # To the microsecond: loads a second apart must still sort in the order they ran.
    started_at: str = field(default_factory=lambda: now_in_vietnam("microseconds"))
    load_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def row(self, outcome: str, message: str | None = None) -> dict:
        return {
            "load_id": self.load_id,
            "kind": self.kind,
            "load_month": self.month,
            "source": self.source,
            "files": json.dumps(self.files, ensure_ascii=False),
            "started_at": datetime.fromisoformat(self.started_at),
            "finished_at": datetime.fromisoformat(now_in_vietnam("microseconds")),
            "outcome": outcome,
            "message": message,
            "loaded_by": loaded_by(),
        }

    def frame(self, outcome: str, message: str | None = None) -> pl.DataFrame:
        return rows_frame([self.row(outcome, message)])


def rows_frame(rows: list[dict]) -> pl.DataFrame:
    schema = {
        "load_id": pl.String,
        "kind": pl.String,
        "load_month": pl.Date,
        "source": pl.String,
        "files": pl.String,
        "started_at": pl.Datetime("us"),
        "finished_at": pl.Datetime("us"),
        "outcome": pl.String,
        "message": pl.String,
        "loaded_by": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


# --- attempts that wrote nothing -------------------------------------------------------------


def attempts_path(url: str) -> Path:
    target = duckdb_path(url)
    return target.with_name(target.name + ATTEMPTS_SUFFIX)


def record_attempt(url: str, record: LoadRecord, outcome: str, message: str) -> None:
    """Keep the row of a refused or failed load. Never raises: the caller is already
    reporting a failure, and a log that cannot be written must not hide it."""
    try:
        url = normalise_url(url)
        row = record.row(outcome, message)
        if is_duckdb(url):
            if not duckdb_path(url).parent.is_dir():
                return
            with attempts_path(url).open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
            return
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                if inspect(connection).has_table(load_log.name):
                    connection.execute(insert(load_log), [row])
        finally:
            engine.dispose()
    except Exception:  # noqa: S110 - see the docstring
        pass


def pending_attempts(url: str) -> pl.DataFrame:
    """Rows of refused or failed DuckDB loads not yet moved into load_log."""
    path = attempts_path(url)
    if not path.exists():
        return rows_frame([])
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash: the rest are still worth keeping
        row["load_month"] = date.fromisoformat(row["load_month"]) if row.get("load_month") else None
        for name in ("started_at", "finished_at"):
            row[name] = datetime.fromisoformat(row[name])
        rows.append(row)
    return rows_frame(rows)


def forget_attempts(url: str) -> None:
    """After the pending rows went into load_log with a load."""
    attempts_path(url).unlink(missing_ok=True)
