"""Numbers, money, percentages and dates for the chosen language, through Babel (CLDR).

Vietnamese (vi_VN): 1.234.567 · 1.234.567 ₫ (no decimals) · 12,3% · 1,2 tỷ · 45 triệu ·
dd/MM/yyyy. English uses the en locale and the same day-first dates, because the
operator's reports are read side by side in both languages.

Rates are stored as fractions (0.123 → 12,3%). Money is whole VND. Timestamps are
Asia/Ho_Chi_Minh local time without a zone.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.numbers import format_compact_decimal, format_currency, format_decimal, format_percent

from dashboard.text.strings import TEXT, t

VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MISSING = "—"
LOCALES = {"vi": "vi_VN", "en": "en"}
# Units of the measure registry (queries/metrics.py).
UNITS = ("count", "vnd", "percent", "points", "hours", "days", "score", "seconds")


def locale_for(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["vi"])


def now_local() -> datetime:
    """Current Vietnam wall-clock time, naive (the warehouse convention)."""
    return datetime.now(VIETNAM_TZ).replace(tzinfo=None)


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def format_number(value: float | None, lang: str, decimals: int = 0) -> str:
    if value is None:
        return MISSING
    return format_decimal(value, _pattern(decimals), locale=locale_for(lang))


def count_text(key: str, count: int, lang: str) -> str:
    """A counted noun: "1 month", "13 months", "1.250 dòng". The key (dashboard/text/strings.py)
    names the plural and key + "_one" the singular, used for exactly one; Vietnamese has no
    plural, so both of its forms read the same."""
    singular = f"{key}_one"
    return t(singular if count == 1 and singular in TEXT else key, lang, count=format_number(count, lang))


def format_vnd(value: float | None, lang: str) -> str:
    """Whole dong, no decimals: 1.234.567 ₫ (vi), ₫1,234,567 (en)."""
    if value is None:
        return MISSING
    return format_currency(round(value), "VND", locale=locale_for(lang), currency_digits=True)


def format_percent_value(fraction: float | None, lang: str, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.123 → 12,3%."""
    if fraction is None:
        return MISSING
    return format_percent(fraction, _pattern(decimals) + "%", locale=locale_for(lang))


def format_compact(value: float | None, lang: str) -> str:
    """Short form for big numbers: 1,2 tỷ / 45 triệu (vi), 1.2B / 45M (en)."""
    if value is None:
        return MISSING
    if abs(value) < 10_000:
        return format_number(value, lang)
    # Vietnamese abbreviations (T, Tr, N) are not widely read; the long words are.
    style = "long" if lang == "vi" else "short"
    return format_compact_decimal(value, format_type=style, locale=locale_for(lang), fraction_digits=1)


def format_compact_vnd(value: float | None, lang: str) -> str:
    if value is None:
        return MISSING
    if abs(value) < 10_000:
        return format_vnd(value, lang)
    number = format_compact(value, lang)
    if lang == "vi":
        return f"{number}\u00a0₫"
    # Net revenue and changes can be negative: the sign goes before the symbol, as Babel
    # writes whole amounts (-₫1,234,567), never "₫-1.2B".
    return f"-₫{number[1:]}" if number.startswith("-") else f"₫{number}"


def format_date(day: date | None, lang: str) -> str:
    if day is None:
        return MISSING
    return babel_format_date(day, "dd/MM/yyyy", locale=locale_for(lang))


def format_datetime(moment: datetime | None, lang: str) -> str:
    """dd/MM/yyyy HH:mm, 24-hour clock."""
    if moment is None:
        return MISSING
    return f"{format_date(moment.date(), lang)} {moment:%H:%M}"


def format_month(month: date, lang: str) -> str:
    """T10/2026 (vi), Oct 2026 (en)."""
    if lang == "en":
        return babel_format_date(month, "MMM yyyy", locale="en")
    return f"T{month.month}/{month.year}"


def format_month_range(start: date, end: date, lang: str) -> str:
    """T1–T6/2026, T11/2025–T2/2026 (vi); Jan–Jun 2026, Nov 2025–Feb 2026 (en)."""
    if (start.year, start.month) == (end.year, end.month):
        return format_month(start, lang)
    if start.year == end.year:
        if lang == "en":
            return f"{babel_format_date(start, 'MMM', locale='en')}–{format_month(end, lang)}"
        return f"T{start.month}–{format_month(end, lang)}"
    return f"{format_month(start, lang)}–{format_month(end, lang)}"


def format_value(value: float | None, unit: str, lang: str, *, compact: bool = False) -> str:
    """A measure value in its unit. compact shortens counts and money (charts, maps)."""
    if value is None:
        return MISSING
    if unit == "vnd":
        return format_compact_vnd(value, lang) if compact else format_vnd(value, lang)
    if unit == "percent":
        return format_percent_value(value, lang)
    if unit == "points":
        return format_number(value, lang, 1)
    if unit == "score":
        return format_number(value, lang, 2)
    if unit == "hours":
        return f"{format_number(value, lang, 1)} {t('unit_hours', lang)}"
    if unit == "days":
        return f"{format_number(value, lang, 1)} {t('unit_days', lang)}"
    if unit == "seconds":
        return f"{format_number(value, lang)} {t('unit_seconds', lang)}"
    return format_compact(value, lang) if compact else format_number(value, lang)


def _signed(text: str, change: float) -> str:
    """A plus sign on rises (Babel already writes the minus); no sign on no change."""
    return text if change <= 0 else f"+{text}"


def delta_is_relative(unit: str, previous: float | None, current: float | None) -> bool:
    """Counts and money change as a percentage of the comparison value, when it is positive.

    Rates change in percentage points and scores in their own unit: a relative change
    of a rate ("churn up 25%") reads as a much bigger move than it is.
    """
    return unit in ("count", "vnd") and previous is not None and previous > 0 and current is not None and current >= 0


# Units whose values are shown rounded: (scale to the shown number, decimals shown).
SHOWN_PRECISION: dict[str, tuple[int, int]] = {
    "percent": (100, 1),
    "points": (1, 1),
    "score": (1, 2),
    "hours": (1, 1),
    "days": (1, 1),
}


def as_shown(value: float, unit: str) -> float:
    """The value as format_value prints it, back in the unit (Babel rounds the decimal text
    half to even): 0.02551 as a percent is shown 2,6%, so 0.026."""
    scale, decimals = SHOWN_PRECISION[unit]
    shown = (Decimal(str(value)) * scale).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    return float(shown) / scale


def format_delta(
    current: float | None, previous: float | None, unit: str, lang: str, *, relative: bool = True
) -> str | None:
    """The change from previous to current, signed, in the unit that reads best; None if unknown.

    relative=False keeps a count's change absolute (for a difference such as net adds,
    "+190%" says less than "+21"). A rate's or a score's change is that of the values as
    shown, so "2,6% → 2,9%" reads "+0,3 điểm %", never "+0,4"."""
    if current is None or previous is None:
        return None
    change = current - previous
    if relative and delta_is_relative(unit, previous, current):
        return _signed(format_percent_value(change / previous, lang), change)
    if unit in SHOWN_PRECISION:
        change = as_shown(current, unit) - as_shown(previous, unit)
    if unit == "percent":
        return _signed(f"{format_number(change * 100, lang, 1)} {t('unit_pp', lang)}", change)
    if unit == "points":
        return _signed(f"{format_number(change, lang, 1)} {t('unit_points', lang)}", change)
    if unit == "vnd":
        return _signed(format_compact_vnd(change, lang), change)
    if unit == "count":
        return _signed(format_number(change, lang), change)
    return _signed(format_value(change, unit, lang), change)
