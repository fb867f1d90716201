"""Tables for reading: raw numbers turned into localised text column by column.

A table on screen shows "12,3%" and "1.234.567 ₫"; its download keeps the raw numbers
(components.data_table(download=raw)). `shown_table` makes the first from the second,
given each column's unit and header.
"""

from collections.abc import Mapping

import polars as pl

from dashboard.text.formatting import format_value


def shown_table(frame: pl.DataFrame, headers: Mapping[str, str], units: Mapping[str, str], lang: str) -> pl.DataFrame:
    """The columns of `headers`, in its order, renamed; columns with a unit formatted as text."""
    columns = {}
    for column, header in headers.items():
        values = frame[column].to_list()
        unit = units.get(column)
        columns[header] = [format_value(value, unit, lang) for value in values] if unit else values
    return pl.DataFrame(columns, strict=False)
