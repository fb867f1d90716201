"""Test helpers for the importer: dump a warehouse to files, and fingerprint a warehouse.

Tests only: the product never exports whole tables (the importer's input is the operator's
own extract). Reading whole tables here is an independent check, allowed in tests.
"""

import warnings
from pathlib import Path

import polars as pl
from sqlalchemy import create_engine, select

from data_seed.customer_keys import to_keys
from data_seed.import_files import IMPORTED_TABLES
from queries import tables as t


def read_table(url: str, name: str) -> pl.DataFrame:
    table = t.metadata.tables[name]
    engine = create_engine(url)
    try:
        with engine.connect() as connection, warnings.catch_warnings():
            # Polars suggests DuckDB's own Arrow path; for test-sized tables the extra copy is fine.
            warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
            key = list(table.primary_key.columns)
            return pl.read_database(select(table).order_by(*key), connection=connection, infer_schema_length=None)
    finally:
        engine.dispose()


def export_warehouse(url: str, directory: Path, file_format: str) -> Path:
    """Write every importable table as <table>.csv or <table>.parquet, as an operator would:
    customers named by their key (data_seed/customer_keys.py)."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = read_table(url, "customers").select("customer_id", "customer_key")
    for table in IMPORTED_TABLES:
        frame = to_keys(read_table(url, table.name), table, keys)
        path = directory / f"{table.name}.{file_format}"
        if file_format == "csv":
            frame.write_csv(path)
        else:
            frame.write_parquet(path)
    return directory


def warehouse_checksum(url: str) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent content hash of every table (warehouse_meta included)."""
    result = {}
    for name in t.metadata.tables:
        frame = read_table(url, name)
        content = int(frame.hash_rows(seed=1).sum()) if frame.height else 0
        result[name] = (frame.height, content)
    return result
