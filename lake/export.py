"""The warehouse's raw tables written to the lake as Parquet, facts partitioned by month.

    python -m lake export --lake DIR [--url duckdb:///var/warehouse.duckdb] [--since 2026-10]

This is the shape an operator's data lake already has: one folder per table, one folder per
month of a fact table (the month of the row's own date, data_seed/monthly_rules.py), the
other tables whole. `--since` rewrites the months from that one on and keeps the folders of
earlier months (after a monthly load: the month loaded and any month it updated); the tables
without a month are always written whole. DuckDB writes the files (COPY … PARTITION_BY), so
no table travels through Python; the manifest is replaced at the end (lake/store.py), so a
reader sees the lake before or after the export, never half of it.
"""

from datetime import date
from pathlib import Path

import duckdb

from data_seed.monthly_rules import MONTH_COLUMN
from lake.store import PARTITION_COLUMN, commit, read_manifest, run_folder, written_months
from lake.writer_lock import lake_writer
from queries.engine import duckdb_path, is_duckdb, normalise_url
from queries.tables import load_log, metadata

RAW = "raw"
# Tables the marts never read and an operator's lake would not hold.
NOT_EXPORTED = {load_log.name}


def raw_root(lake: Path) -> Path:
    return Path(lake) / RAW


def export_raw(url: str, lake: Path, *, since: date | None = None, log=print) -> dict[str, int]:
    """Write every raw table of the DuckDB warehouse at `url` into `lake`/raw; the number of
    rows written per table."""
    url = normalise_url(url)
    if not is_duckdb(url):
        raise ValueError("the lake export reads a DuckDB warehouse (a PostgreSQL one: load it into DuckDB first)")
    root = raw_root(lake)
    root.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    with lake_writer(root):
        manifest = read_manifest(root)
        connection = duckdb.connect(str(duckdb_path(url)), read_only=True)
        try:
            for table in metadata.sorted_tables:
                if table.name in NOT_EXPORTED:
                    continue
                written[table.name] = _export_table(connection, root, manifest, table.name, since)
                log(f"  {table.name}: {written[table.name]:,} rows")
            manifest.meta = {
                key: value for key, value in connection.execute("SELECT key, value FROM warehouse_meta").fetchall()
            }
        finally:
            connection.close()
        commit(root, manifest)
    return written


def _export_table(connection, root: Path, manifest, name: str, since: date | None) -> int:
    run = run_folder(name)
    target = root / run
    target.parent.mkdir(parents=True, exist_ok=True)
    month_column = MONTH_COLUMN.get(name)
    if month_column is None:
        target.mkdir()
        count = _copy(connection, f"SELECT * FROM {name}", target / "data.parquet", partitioned=False)
        manifest.set_whole(name, run)
        return count
    row_month = f"CAST(date_trunc('month', {month_column}) AS DATE)"
    where = f"WHERE {row_month} >= DATE '{since.isoformat()}'" if since else ""
    kept = {month: path for month, path in manifest.months(name).items() if since and month < since}
    query = f"SELECT *, {row_month} AS {PARTITION_COLUMN} FROM {name} {where}"
    count = _copy(connection, query, target, partitioned=True)
    manifest.set_months(name, kept | written_months(root, run))
    return count


def _copy(connection, query: str, target: Path, *, partitioned: bool) -> int:
    options = f"FORMAT parquet, PARTITION_BY ({PARTITION_COLUMN})" if partitioned else "FORMAT parquet"
    result = connection.execute(f"COPY ({query}) TO '{target}' ({options})").fetchone()
    return int(result[0]) if result else 0
