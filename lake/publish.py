"""The lake's marts (built on Spark) into the DuckDB warehouse the dashboard reads.

    python -m lake publish --lake DIR [--url duckdb:///var/warehouse.duckdb]

Serving is unchanged: the pages read the same mart tables, now filled from the lake's
Parquet files instead of built in the warehouse, so they answer as fast as before. Only
marts built from the data the warehouse holds are taken: the lake's raw tables carry the
warehouse's data version from their export, and the refresh records it with the marts; a
publish whose versions differ is refused (the warehouse was loaded again since: export and
refresh again), and nothing changes.

All or nothing, like a load: the marts are replaced in a copy of the file, swapped in at the
end under the loads' serial lock (data_seed/load.py), so open dashboards keep reading the
old file until then. The data version stays: the marts are those of the data it names
(equal to the marts the warehouse would build itself), so every cached answer stays true.
"""

from collections.abc import Callable
from pathlib import Path

from data_seed.ddl import create_table_ddl
from data_seed.load import release_lock, serial_lock_path, take_lock
from data_seed.refresh import META_REFRESHED, META_THROUGH, META_VERSION
from data_seed.working_copy import working_copy
from lake.spark_refresh import marts_root
from lake.store import read_manifest
from queries.engine import duckdb_path, is_duckdb, normalise_url
from queries.marts import STORED_TABLES, mart_refresh


class StaleMarts(ValueError):
    """The lake's marts were built from other data than the warehouse holds."""


def publish_marts(lake: Path, url: str, *, log: Callable[[str], None] = print) -> int:
    """Replace the warehouse's marts with the lake's; the number of rows published."""
    url = normalise_url(url)
    if not is_duckdb(url):
        raise ValueError("publishing the lake's marts is for a DuckDB warehouse")
    root = marts_root(lake)
    manifest = read_manifest(root)
    marts = [mart for mart in STORED_TABLES if mart is not mart_refresh]
    missing = [mart.name for mart in marts if not manifest.has(mart.name)]
    if missing:
        which = "no marts" if len(missing) == len(marts) else f"no {', '.join(missing)}"
        raise ValueError(f"the lake has {which}: run `python -m lake refresh` first")
    target = duckdb_path(url)
    serial_path = serial_lock_path(target)
    serial = take_lock(serial_path, wait=True)
    try:
        with working_copy(target, "publish") as connection:
            _check_version(connection, manifest.meta)
            connection.execute("BEGIN")
            published = sum(_replace(connection, mart, manifest.folders(root, mart.name)) for mart in marts)
            _record(connection, manifest.meta)
            connection.execute("COMMIT")
    finally:
        release_lock(serial_path, serial)
    log(f"published {published:,} mart rows from {root} into {target}")
    return published


def _check_version(connection, lake_meta: dict[str, str]) -> None:
    current = dict(connection.execute("SELECT key, value FROM warehouse_meta").fetchall()).get("data_version")
    built_from = lake_meta.get(META_VERSION)
    if not built_from or built_from != current:
        raise StaleMarts(
            "the lake's marts were built from other data than this warehouse holds "
            f"(lake: {built_from or 'none'}, warehouse: {current or 'none'}); "
            "export the warehouse to the lake and refresh again"
        )


def _replace(connection, mart, folders: list[Path]) -> int:
    exists = connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [mart.name]
    ).fetchone()[0]
    if exists:
        connection.execute(f"DROP TABLE {mart.name}")  # its columns may be of an older version
    connection.execute(create_table_ddl(mart, "duckdb"))
    columns = ", ".join(column.name for column in mart.columns)
    files = [str(folder / "*.parquet") for folder in folders]
    if not files:  # a month mart without a single month (no open complaint ever): empty
        return 0
    # In the order the warehouse's own refresh writes them (by month, cohorts by activation
    # month): a period's rows sit together and DuckDB skips the rest.
    order = f" ORDER BY {'month' if 'month' in mart.c else mart.columns[0].name}"
    connection.execute(f"INSERT INTO {mart.name} ({columns}) SELECT {columns} FROM read_parquet(?){order}", [files])
    return connection.execute(f"SELECT count(*) FROM {mart.name}").fetchone()[0]


def _record(connection, lake_meta: dict[str, str]) -> None:
    """The marts' coverage as the lake's refresh recorded it (the warehouse's own refresh
    then finds them current)."""
    values = {key: lake_meta.get(key, "") for key in (META_THROUGH, META_VERSION, META_REFRESHED)}
    connection.execute(create_table_ddl(mart_refresh, "duckdb").replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
    connection.execute(f"DELETE FROM {mart_refresh.name} WHERE key IN (SELECT unnest(?))", [list(values)])
    connection.executemany(f"INSERT INTO {mart_refresh.name} (key, value) VALUES (?, ?)", list(values.items()))
