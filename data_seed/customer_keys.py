"""The operator's customer keys and the warehouse's own customer ids.

Import files name customers by the operator's key (``customer_key``, text such as
``0002-ORFBO``); the warehouse joins on a whole-number ``customer_id`` of its own. This
module is the one place that turns one into the other:

- ``file_table(table)``: the table as a file gives it, every ``customer_id`` column
  replaced by ``customer_key`` (text);
- ``assign_ids(keys, known)``: ids for the keys of a customers file, reusing the ids the
  warehouse has already given (``known``); a new key that is a plain whole number keeps
  that number when no other customer has it (operators with numeric ids see the same id
  in the dashboard), every other new key gets the next free id above the highest;
- ``to_ids`` / ``to_keys``: the translation of a frame, both ways.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Column, MetaData, Table, Text

from queries import tables as t

KEY = "customer_key"
ID = "customer_id"
# A whole number as an operator writes it: no sign, no leading zero (0012 is a text key).
PLAIN_NUMBER = r"^[1-9][0-9]{0,17}$"

_file_metadata = MetaData()


def _file_table(table: Table) -> Table:
    columns = []
    for column in table.columns:
        if column.name == ID and table.name != t.customers.name:
            columns.append(Column(KEY, Text, nullable=column.nullable, doc="The operator's key of the customer"))
        elif column.name != ID:
            columns.append(Column(column.name, column.type, nullable=column.nullable, doc=column.doc))
    return Table(table.name, _file_metadata, *columns)


FILE_TABLES: dict[str, Table] = {table.name: _file_table(table) for table in t.metadata.sorted_tables}


def file_table(table: Table) -> Table:
    """``table`` as an import file gives it (customers named by ``customer_key``)."""
    return FILE_TABLES[table.name]


def names_customers(table: Table) -> bool:
    return ID in table.columns


def assign_ids(keys: pl.Series, known: pl.DataFrame) -> pl.DataFrame:
    """(customer_key, customer_id) for every distinct key in ``keys``.

    ``known`` holds the warehouse's (customer_key, customer_id) pairs. New keys are given
    ids in the order they first appear, so the same files always give the same ids."""
    keys = keys.drop_nulls().unique(maintain_order=True)
    incoming = pl.DataFrame({KEY: keys}).join(known, on=KEY, how="left", maintain_order="left")
    new = incoming.filter(pl.col(ID).is_null()).select(KEY)
    if new.is_empty():
        return incoming
    numeric = new.with_columns(
        pl.when(pl.col(KEY).str.contains(PLAIN_NUMBER)).then(pl.col(KEY).cast(pl.Int64, strict=False)).alias(ID)
    )
    # Distinct plain keys are distinct numbers; one the warehouse gave away already is not free.
    own = numeric.filter(pl.col(ID).is_not_null()).join(known.select(ID), on=ID, how="anti", maintain_order="left")
    rest = numeric.join(own.select(KEY), on=KEY, how="anti", maintain_order="left").select(KEY)
    start = max(known.get_column(ID).max() or 0, own.get_column(ID).max() or 0) + 1
    assigned = rest.with_columns(pl.int_range(start, start + rest.height, dtype=pl.Int64).alias(ID))
    return pl.concat([incoming.filter(pl.col(ID).is_not_null()), own.select(KEY, ID), assigned])


def to_ids(frame: pl.DataFrame, table: Table, ids: pl.DataFrame) -> pl.DataFrame:
    """A file frame with the warehouse's ids: ``customer_id`` is added before ``customer_key``,
    which stays (a column of customers, and what reports show for the other tables). A key
    without an id gets a NULL id."""
    if not names_customers(table):
        return frame
    joined = frame.join(ids, on=KEY, how="left", maintain_order="left")
    order = [name for column in frame.columns for name in ((ID, KEY) if column == KEY else (column,))]
    return joined.select(order)


def as_in_file(name: str) -> str:
    """The column a report names: the file gives the key where the warehouse has the id."""
    return KEY if name == ID else name


def to_keys(frame: pl.DataFrame, table: Table, keys: pl.DataFrame) -> pl.DataFrame:
    """A warehouse frame in file form: ``customer_id`` becomes the operator's key."""
    if not names_customers(table):
        return frame
    if table.name == t.customers.name:
        return frame.drop(ID)
    joined = frame.join(keys, on=ID, how="left", maintain_order="left")
    return joined.select([KEY if name == ID else name for name in frame.columns])
