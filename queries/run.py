"""Execute a select into a Polars DataFrame: the one place queries meet the warehouse.

Results are aggregates (tens to thousands of rows): PostgreSQL hands them over row by
row, DuckDB through Arrow. With DuckDB, Polars needs a Connection, not the Engine.
"""

import warnings
from collections.abc import Mapping

import polars as pl
from sqlalchemy import Connection, Engine, Select, types


def run(select: Select, connection_or_engine: Connection | Engine) -> pl.DataFrame:
    """Run one select; bound parameters travel with it (never pasted into the SQL)."""
    if isinstance(connection_or_engine, Engine):
        with connection_or_engine.connect() as connection:
            return _read(select, connection)
    return _read(select, connection_or_engine)


def run_many(selects: Mapping[str, Select], connection_or_engine: Connection | Engine) -> dict[str, pl.DataFrame]:
    """Run several selects on one connection: {name: frame}."""
    if isinstance(connection_or_engine, Engine):
        with connection_or_engine.connect() as connection:
            return {name: _read(select, connection) for name, select in selects.items()}
    return {name: _read(select, connection_or_engine) for name, select in selects.items()}


def _read(select: Select, connection: Connection) -> pl.DataFrame:
    with warnings.catch_warnings():
        # duckdb warns that Arrow output of a DB-API result copies rows: results here are small.
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
        # infer_schema_length=None: a column NULL in its first rows must not be typed Null.
        frame = pl.read_database(select, connection=connection, infer_schema_length=None)
    return _typed_nulls(frame, select)


# SQLAlchemy type → Polars dtype, most specific first (Double is a Float, BigInteger an Integer).
_DTYPES: tuple[tuple[type, pl.DataType], ...] = (
    (types.Boolean, pl.Boolean()),
    (types.DateTime, pl.Datetime("us")),
    (types.Date, pl.Date()),
    (types.Integer, pl.Int64()),
    (types.Float, pl.Float64()),
    (types.Numeric, pl.Float64()),
    (types.String, pl.String()),
)


def _typed_nulls(frame: pl.DataFrame, select: Select) -> pl.DataFrame:
    """Row-by-row drivers (PostgreSQL) type an empty or all-NULL column as Null; give it the
    select's declared type so frames join and concatenate the same on both engines."""
    declared = {column.name: column.type for column in select.selected_columns}
    casts = []
    for name, dtype in frame.schema.items():
        if dtype != pl.Null or name not in declared:
            continue
        for sql_type, polars_type in _DTYPES:
            if isinstance(declared[name], sql_type):
                casts.append(pl.col(name).cast(polars_type))
                break
    return frame.with_columns(casts) if casts else frame
