"""A small table of numbers, twice: formatted for reading (units, locale) and raw for the
download (a spreadsheet computes with numbers, not with "1.234 ₫").

columns: (column in the frame, header shown, unit of the registry or None for text), and for a
percent column optionally the decimals (a complaint rate of 0,25% needs two).
"""

from collections.abc import Sequence

import polars as pl

from dashboard.text.formatting import format_percent_value, format_value

Column = tuple[str, str, str | None] | tuple[str, str, str, int]


def _formatted(value, unit: str, lang: str, decimals: int | None) -> str:
    if unit == "percent" and decimals is not None:
        return format_percent_value(value, lang, decimals)
    return format_value(value, unit, lang)


def value_tables(frame: pl.DataFrame, columns: Sequence[Column], lang: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(shown, raw): the same rows and headers; shown has text, raw has the numbers."""
    shown = {}
    for name, header, unit, *decimals in columns:
        values = frame[name].to_list()
        places = decimals[0] if decimals else None
        shown[header] = values if unit is None else [_formatted(value, unit, lang, places) for value in values]
    raw = frame.select(pl.col(column[0]).alias(column[1]) for column in columns)
    return pl.DataFrame(shown, schema={column[1]: pl.String for column in columns}), raw
