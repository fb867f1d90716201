"""The active filters in one human line, shown under every chart and table.

"Hà Nội, Hải Phòng · Doanh nghiệp · T1–T6/2026 so với cùng kỳ" — the place first,
then who, then when, so a screenshot pasted into a report still says what it shows.
"""

from dashboard.frame.filter_options import FilterOptions
from dashboard.text.formatting import format_month_range
from dashboard.text.strings import TEXT, age_band_label, t, value_label
from queries.filters import Filters, Scope, allowed_provinces

MAX_NAMED_PROVINCES = 3


def _place(filters: Filters, scope: Scope, options: FilterOptions, lang: str) -> str:
    codes = allowed_provinces(filters, scope)
    if codes is None:
        if filters.regions:
            return ", ".join(value_label("region", region, lang) for region in filters.regions)
        return t("all_provinces", lang)
    names = [option.name(lang) for option in options.provinces if option.code in codes]
    if filters.regions:
        names = [option.name(lang) for option in options.provinces_in(filters.regions) if option.code in codes]
    if not names:
        return "∅"
    shown = ", ".join(names[:MAX_NAMED_PROVINCES])
    hidden = len(names) - MAX_NAMED_PROVINCES
    return f"{shown} +{hidden}" if hidden > 0 else shown


def _member(prefix: str, value: str, lang: str) -> str:
    """A chosen value as the line names it: its own caption wording where the bare label
    would not say what it is ("Khu vực không rõ", not a lone "Không rõ")."""
    key = f"{prefix}_{value}_caption"
    return t(key, lang) if key in TEXT else value_label(prefix, value, lang)


def describe_filters(filters: Filters, options: FilterOptions, lang: str, scope: Scope) -> str:
    parts = [_place(filters, scope, options, lang)]
    if filters.segments:
        parts.append(", ".join(value_label("segment", value, lang) for value in filters.segments))
    if filters.age_bands:
        parts.append(", ".join(age_band_label(band, lang) for band in filters.age_bands))
    for prefix, values in (("plan", filters.plans), ("area", filters.area_types)):
        if values:
            parts.append(", ".join(_member(prefix, value, lang) for value in values))
    period = format_month_range(filters.start_month, filters.end_month, lang)
    parts.append(f"{period} {t(f'comparison_{filters.comparison}_short', lang)}")
    return " · ".join(parts)
