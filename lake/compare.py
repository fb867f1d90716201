"""Every mart of the lake against the same mart of a warehouse built on one machine.

    python -m lake compare --lake DIR --url duckdb:///var/warehouse.duckdb

Row for row, as multisets (EXCEPT ALL both ways, in DuckDB over the Parquet files): counts,
sums and dates must be equal; doubles (medians, averages) equal to 9 significant digits,
since a distributed sum adds in another order. Marts produced by Spark are then the marts
the dashboard already trusts (tests/queries/test_marts.py checks those against the raw
tables).
"""

from dataclasses import dataclass
from pathlib import Path

import duckdb
from sqlalchemy import Double, Float

from lake.spark_refresh import marts_root
from lake.store import read_manifest
from queries.engine import duckdb_path, normalise_url
from queries.marts import STORED_TABLES, mart_refresh

SIGNIFICANT_DIGITS = 9


@dataclass(frozen=True)
class Difference:
    mart: str
    lake_rows: int
    warehouse_rows: int
    only_in_lake: int
    only_in_warehouse: int

    @property
    def equal(self) -> bool:
        return self.only_in_lake == 0 and self.only_in_warehouse == 0 and self.lake_rows == self.warehouse_rows


def compare_marts(lake: Path, url: str) -> list[Difference]:
    """One Difference per mart (mart_refresh, the bookkeeping, is not data)."""
    root = marts_root(lake)
    manifest = read_manifest(root)
    connection = duckdb.connect()
    try:
        connection.execute(f"ATTACH '{duckdb_path(normalise_url(url))}' AS warehouse (READ_ONLY)")
        differences = []
        for mart in STORED_TABLES:
            if mart is mart_refresh:
                continue
            if not manifest.has(mart.name):
                raise ValueError(f"the lake has no {mart.name}: run `python -m lake refresh` first")
            folders = [str(folder / "*.parquet") for folder in manifest.folders(root, mart.name)]
            columns = ", ".join(_comparable(column) for column in mart.columns)
            warehouse_rows = f"SELECT {columns} FROM warehouse.{mart.name}"
            # A month mart with no month at all (no open complaint ever) has no files.
            lake_rows = (
                f"SELECT {columns} FROM read_parquet({folders!r})" if folders else f"{warehouse_rows} WHERE false"
            )
            differences.append(
                Difference(
                    mart.name,
                    _count(connection, lake_rows),
                    _count(connection, warehouse_rows),
                    _count(connection, f"{lake_rows} EXCEPT ALL {warehouse_rows}"),
                    _count(connection, f"{warehouse_rows} EXCEPT ALL {lake_rows}"),
                )
            )
        return differences
    finally:
        connection.close()


def _comparable(column) -> str:
    if isinstance(column.type, (Double, Float)):
        value = f"CAST({column.name} AS DOUBLE)"
        digits = f"CAST({SIGNIFICANT_DIGITS - 1} - floor(log10(abs({value}))) AS INTEGER)"
        return f"CASE WHEN {value} = 0 THEN 0.0 ELSE round({value}, {digits}) END AS {column.name}"
    return column.name


def _count(connection, query: str) -> int:
    return connection.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
