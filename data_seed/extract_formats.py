"""How an operator's extract writes dates, timestamps, numbers and booleans, and turning each
into the import format's text (ISO dates, '.' decimals, true/false) before the usual typing.

Each conversion is a Polars expression over stripped text that is null where a value does not
fit the declared format, so the caller can report exactly those values, with the format
they were expected in (``expected``), instead of a misleading "expected YYYY-MM-DD".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from data_seed.import_files import INTEGER_BOUNDS

ISO_DATE = "%Y-%m-%d"
ISO_TIMESTAMP = "%Y-%m-%d %H:%M:%S%.f"  # "%.f" writes a fraction only when there is one
DAY_CODES = re.compile("%[dej]")
# Digit-group separators seen in extracts: point and comma, (no-break) space, apostrophe.
THOUSANDS = ("", ".", ",", " ", "\u00a0", "'")
DECIMALS = (".", ",")


@dataclass(frozen=True)
class TextFormats:
    """The extract's ways of writing values; the defaults are the import format itself."""

    dates: tuple[str, ...] = ()  # strftime patterns tried in order; () = ISO already
    timestamps: tuple[str, ...] = ()
    decimal: str = "."
    thousands: str = ""
    true_words: tuple[str, ...] = ()  # compared without regard to case
    false_words: tuple[str, ...] = ()

    @property
    def numbers_converted(self) -> bool:
        return self.decimal != "." or self.thousands != ""

    @property
    def booleans_converted(self) -> bool:
        return bool(self.true_words or self.false_words)


def converts(dtype: pl.DataType, formats: TextFormats) -> bool:
    """Whether a column of ``dtype`` is written differently from the import format."""
    if dtype == pl.Date:
        return bool(formats.dates)
    if dtype == pl.Datetime("us"):
        return bool(formats.timestamps)
    if dtype in INTEGER_BOUNDS or dtype == pl.Float64:
        return formats.numbers_converted
    if dtype == pl.Boolean:
        return formats.booleans_converted
    return False


def to_import_text(text: pl.Expr, dtype: pl.DataType, formats: TextFormats) -> pl.Expr:
    """``text`` (stripped, blank = null) in the import format; null where it does not fit."""
    if dtype == pl.Date:
        return pl.coalesce([parse_date(text, form) for form in formats.dates]).dt.strftime(ISO_DATE)
    if dtype == pl.Datetime("us"):
        parsed = [text.str.to_datetime(form, time_unit="us", strict=False) for form in formats.timestamps]
        return pl.coalesce(parsed).dt.strftime(ISO_TIMESTAMP)
    if dtype in INTEGER_BOUNDS or dtype == pl.Float64:
        return number_text(text, formats, whole=dtype in INTEGER_BOUNDS)
    if dtype == pl.Boolean:
        words = {word.lower(): "true" for word in ("true", *formats.true_words)}
        words.update({word.lower(): "false" for word in ("false", *formats.false_words)})
        return text.str.to_lowercase().replace_strict(words, default=None, return_dtype=pl.String)
    return text


def parse_date(text: pl.Expr, form: str) -> pl.Expr:
    # A month written without its day ("03/2026" for a *_month column) means the first day.
    if not DAY_CODES.search(form):
        return (pl.lit("01 ") + text).str.to_date(f"%d {form}", strict=False)
    return text.str.to_date(form, strict=False)


def number_text(text: pl.Expr, formats: TextFormats, whole: bool) -> pl.Expr:
    """'1.234,50' → '1234.50' (decimal ',', thousands '.'). Digit groups must be whole groups
    of three, so a value written with the other convention ('29.85' where '.' groups
    thousands) is refused rather than read a hundred times too large. In a whole-number
    column a fraction of zeros ('189.000,00') is dropped; any other fraction is refused."""
    decimal, thousands = re.escape(formats.decimal), re.escape(formats.thousands)
    digits = rf"(\d{{1,3}}({thousands}\d{{3}})+|\d+)" if formats.thousands else r"\d+"
    fraction = rf"({decimal}0*)?" if whole else rf"({decimal}\d+)?"
    fits = text.str.contains(rf"^[+-]?{digits}{fraction}$")
    plain = text.str.replace_all(formats.thousands, "", literal=True) if formats.thousands else text
    plain = plain.str.replace(formats.decimal, ".", literal=True)
    if whole:
        plain = plain.str.replace(r"\.0*$", "")
    return pl.when(fits).then(plain)


def expected(dtype: pl.DataType, formats: TextFormats) -> str:
    """How a value that did not convert should have been written, for the report."""
    if dtype == pl.Date:
        return f"a date written {' or '.join(formats.dates)} (date_format of the mapping)"
    if dtype == pl.Datetime("us"):
        return f"a timestamp written {' or '.join(formats.timestamps)} (timestamp_format of the mapping)"
    if dtype in INTEGER_BOUNDS or dtype == pl.Float64:
        kind = "a whole number" if dtype in INTEGER_BOUNDS else "a number"
        groups = f", digits grouped by {formats.thousands!r}" if formats.thousands else ""
        return f"{kind} written with decimal {formats.decimal!r}{groups} (the mapping's number format)"
    words = f"true: {', '.join(formats.true_words) or 'true'}; false: {', '.join(formats.false_words) or 'false'}"
    return f"one of the boolean words of the mapping ({words})"


# A moment any pattern can write; Python writes it and Polars must read the same moment back.
SAMPLE = datetime(2026, 11, 23, 14, 35, 57)
YEAR_AND_MONTH = (re.compile("%[Yy]"), re.compile("%[mbB]"))


def readable_format(form: str, timestamp: bool) -> bool:
    """Whether the importer reads ``form`` as Python's strftime means it: with a year and a
    month, and no code Polars does not know ('%Q') or reads differently."""
    if not all(code.search(form) for code in YEAR_AND_MONTH):
        return False
    written = SAMPLE.strftime(form)
    try:
        wanted = datetime.strptime(written, form)
    except ValueError:
        return False
    text = pl.DataFrame({"text": [written]}).get_column("text")
    if timestamp:
        return text.str.to_datetime(form, time_unit="us", strict=False).item() == wanted
    return pl.select(parse_date(pl.lit(written), form)).item() == wanted.date()
