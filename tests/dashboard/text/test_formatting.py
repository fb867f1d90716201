"""Locale formatting: the Vietnamese forms the operator's staff read every day, and English."""

from datetime import date, datetime

import pytest

from dashboard.text import formatting as fmt
from dashboard.text.strings import LANGUAGES, TEXT, t

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        (1234567, "1.234.567", "1,234,567"),
        (-1234567, "-1.234.567", "-1,234,567"),
        (0, "0", "0"),
        (None, "—", "—"),
    ],
)
def test_numbers(value, vi, en):
    assert fmt.format_number(value, "vi") == vi
    assert fmt.format_number(value, "en") == en


def test_money_has_no_decimals_and_the_dong_sign():
    assert fmt.format_vnd(1234567, "vi") == f"1.234.567{NBSP}₫"
    assert fmt.format_vnd(1234567.6, "vi") == f"1.234.568{NBSP}₫"
    assert fmt.format_vnd(1234567, "en") == "₫1,234,567"


def test_percentages_from_fractions():
    assert fmt.format_percent_value(0.123, "vi") == "12,3%"
    assert fmt.format_percent_value(0.123, "en") == "12.3%"
    assert fmt.format_percent_value(0.0045, "vi", decimals=2) == "0,45%"


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        (1_200_000_000, "1,2 tỷ", "1.2B"),
        (45_000_000, "45 triệu", "45M"),
        (2_500_000_000_000, "2,5 nghìn tỷ", "2.5T"),
        (9_999, "9.999", "9,999"),
    ],
)
def test_compact(value, vi, en):
    assert fmt.format_compact(value, "vi") == vi
    assert fmt.format_compact(value, "en") == en


def test_compact_money():
    assert fmt.format_compact_vnd(1_200_000_000, "vi") == f"1,2 tỷ{NBSP}₫"
    assert fmt.format_compact_vnd(45_000_000, "en") == "₫45M"


def test_negative_money_keeps_its_sign_before_the_symbol():
    """Net revenue can be negative (credits and refunds): compact or whole, the sign reads
    the same way Babel writes whole amounts."""
    assert fmt.format_vnd(-1_234_567, "en") == "-₫1,234,567"
    assert fmt.format_compact_vnd(-1_200_000_000, "en") == "-₫1.2B"
    assert fmt.format_compact_vnd(-1_200_000_000, "vi") == f"-1,2 tỷ{NBSP}₫"
    assert fmt.format_delta(-1_000_000, 2_000_000, "vnd", "en") == "-₫3M"  # no percentage of a sign change


def test_dates_day_first_in_both_languages():
    assert fmt.format_date(date(2026, 10, 31), "vi") == "31/10/2026"
    assert fmt.format_date(date(2026, 10, 31), "en") == "31/10/2026"
    assert fmt.format_datetime(datetime(2026, 10, 31, 17, 5), "vi") == "31/10/2026 17:05"


def test_months_and_ranges():
    assert fmt.format_month(date(2026, 10, 1), "vi") == "T10/2026"
    assert fmt.format_month(date(2026, 10, 1), "en") == "Oct 2026"
    assert fmt.format_month_range(date(2026, 1, 1), date(2026, 6, 1), "vi") == "T1–T6/2026"
    assert fmt.format_month_range(date(2026, 1, 1), date(2026, 6, 1), "en") == "Jan–Jun 2026"
    assert fmt.format_month_range(date(2025, 11, 1), date(2026, 2, 1), "vi") == "T11/2025–T2/2026"
    assert fmt.format_month_range(date(2026, 3, 1), date(2026, 3, 1), "vi") == "T3/2026"


def test_values_by_unit():
    assert fmt.format_value(0.0213, "percent", "vi") == "2,1%"
    assert fmt.format_value(32.46, "points", "vi") == "32,5"
    assert fmt.format_value(4.123, "score", "en") == "4.12"
    assert fmt.format_value(36.26, "hours", "vi") == "36,3 giờ"
    assert fmt.format_value(2_345_678_901, "vnd", "vi", compact=True) == f"2,3 tỷ{NBSP}₫"
    assert fmt.format_value(19_523, "count", "vi") == "19.523"


def test_deltas_read_in_the_right_unit():
    # counts and money: relative change
    assert fmt.format_delta(110, 100, "count", "vi") == "+10,0%"
    assert fmt.format_delta(90_000, 100_000, "vnd", "en") == "-10.0%"
    # a negative or zero base cannot carry a relative change
    assert fmt.format_delta(-5, 10, "count", "vi") == "-15"
    assert fmt.format_delta(12, 0, "count", "vi") == "+12"
    # rates in percentage points, NPS in points
    assert fmt.format_delta(0.021, 0.015, "percent", "vi") == "+0,6 điểm %"
    assert fmt.format_delta(30.0, 32.5, "points", "en") == "-2.5 pts"
    # the change of the values as shown: 2,9% and 2,6% differ by 0,3 points, not 0,4
    assert fmt.format_value(0.02949, "percent", "vi") == "2,9%" and fmt.format_value(0.02551, "percent", "vi") == "2,6%"
    assert fmt.format_delta(0.02949, 0.02551, "percent", "vi") == "+0,3 điểm %"
    assert fmt.format_delta(0.02549, 0.02451, "percent", "vi") == "0,0 điểm %"  # both shown 2,5%
    assert fmt.format_delta(4.256, 4.244, "score", "en") == "+0.02"  # 4.26 and 4.24 as shown
    assert fmt.format_delta(None, 3, "count", "vi") is None
    assert fmt.format_delta(32, 11, "count", "vi", relative=False) == "+21"


def test_vietnam_time_is_naive_local():
    moment = fmt.now_local()
    assert moment.tzinfo is None
    utc = datetime.now(fmt.VIETNAM_TZ).utcoffset()
    assert utc is not None and utc.total_seconds() == 7 * 3600


def test_every_label_exists_in_both_languages():
    assert LANGUAGES == ("vi", "en")
    for key, (vi, en) in TEXT.items():
        assert vi.strip() and en.strip(), key
        # the same placeholders in both, so a format never fails in one language only
        assert sorted(_placeholders(vi)) == sorted(_placeholders(en)), key
    assert t("freshness", "vi", date="31/10/2026") == "Dữ liệu đến hết 31/10/2026"
    assert t("freshness", "en", date="31/10/2026") == "Data through 31/10/2026"


def _placeholders(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]
