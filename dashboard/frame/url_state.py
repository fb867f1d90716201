"""Filters and language in the URL, so a copied link reopens the same view on any page.

The URL is written by the frame after every run, from the Filters the sidebar built,
and read once when a session starts. Parsing never raises: a parameter that is
unknown, malformed or outside what the user may see is dropped and reported, and the
rest of the link still applies. A link can never widen the role scope: a real province
(or region) the user may not see is dropped like junk and also listed in
`outside_scope`, so the frame can say plainly why (the notice shows the code the link
held, never the province's name). A legacy code of the 63 provinces before the 2025
merger (`province=30`, Hải Dương) is read as the current province it merged into (31,
Hải Phòng; queries/reference.py, the importer's mapping), then checked against the scope
like any other code, and listed in `mapped` for the notice.

Whatever of the link is reported back passes through `shown_text` first: control and
format characters (a right-to-left override, zero-width or tag characters, line breaks)
are written as escapes and the text is cut short, so a crafted link cannot reorder or
hide what the notice says, or fill the page.

Layout (readable, ASCII-only, lists comma-separated):
  ?from=2026-05&to=2026-10&cmp=last_year&region=bac&province=01,31&segment=enterprise
   &age=25-34&plan=postpaid&area=urban,rural&lang=en
Page-level parameters (PAGE_PARAMS) belong to the page that reads them; the frame
keeps them and leaves their checking to that page.
"""

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date

from dashboard.frame.filter_options import FilterOptions, default_filters
from dashboard.text.strings import DEFAULT_LANGUAGE, LANGUAGES
from queries.filters import AGE_BAND_LABELS, COMPARISONS, Filters
from queries.reference import current_province_code, current_province_codes
from queries.tables import AREA_TYPES, PLANS, SEGMENTS

REGION_SLUGS = {"bac": "Bắc", "trung": "Trung", "nam": "Nam"}
SLUG_OF_REGION = {region: slug for slug, region in REGION_SLUGS.items()}
LIST_PARAMS = {  # URL key -> Filters field
    "region": "regions",
    "province": "provinces",
    "segment": "segments",
    "age": "age_bands",
    "plan": "plans",
    "area": "area_types",
}
FILTER_PARAMS = ("from", "to", "cmp", *LIST_PARAMS, "lang")
PAGE_PARAMS = frozenset({"map", "review"})  # review: the Review page's period (month, quarter, year)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_MAX_REPORTED_CHARS = 40  # a pasted junk key or value is shown shortened in the notice
# Shown as escapes: Unicode "other" (Cc controls, Cf format: bidi overrides and isolates,
# zero-width and tag characters; Cs, Co, Cn) and the line and paragraph separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True)
class UrlState:
    filters: Filters
    lang: str
    ignored: tuple[str, ...] = ()  # "key=value" items that were dropped, for the notice
    outside_scope: tuple[str, ...] = ()  # those of them that name a province/region outside the scope
    mapped: tuple[tuple[str, str], ...] = ()  # (legacy code, current code) of legacy provinces kept


def month_param(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def parse_month(text: str) -> date | None:
    match = _MONTH.match(text.strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    return date(year, month, 1)


def to_params(filters: Filters, lang: str) -> dict[str, str]:
    """The query parameters for a view. Empty lists are left out (no restriction)."""
    params = {
        "from": month_param(filters.start_month),
        "to": month_param(filters.end_month),
        "cmp": filters.comparison,
    }
    for key, field_name in LIST_PARAMS.items():
        values = getattr(filters, field_name)
        if key == "region":
            values = [SLUG_OF_REGION.get(value, value) for value in values]
        if values:
            params[key] = ",".join(values)
    params["lang"] = lang
    return params


def _as_text(value: str | list[str] | tuple[str, ...]) -> str:
    if isinstance(value, str):
        return value
    return ",".join(value)


def _escaped(text: str) -> Iterator[str]:
    for char in text:
        if unicodedata.category(char) in _ESCAPED_CATEGORIES:
            code = ord(char)
            yield f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
        else:
            yield char


def shown_text(text: str, limit: int = _MAX_REPORTED_CHARS) -> str:
    """Text from outside (a link, an identity provider) as it may be shown: every control or
    format character written as its escape (U+202E as `\\u202e`), at most `limit`
    characters (cut with "…"). Still to be escaped for markdown (markdown_text.plain)."""
    pieces: list[str] = []
    length = 0
    for piece in _escaped(text):
        if length + len(piece) > limit:
            while pieces and length + 1 > limit:  # room for the ellipsis
                length -= len(pieces.pop())
            return "".join(pieces) + "…"
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces)


def _report(key: str, value: str) -> str:
    return f"{shown_text(key)}={shown_text(value)}"


def _accepted_values(key: str, options: FilterOptions, regions: tuple[str, ...]) -> dict[str, str]:
    """URL spelling -> Filters value, for one list parameter."""
    if key == "region":
        return {slug: region for slug, region in REGION_SLUGS.items() if region in options.regions()}
    if key == "province":
        return {option.code: option.code for option in options.provinces_in(regions)}
    accepted = {"segment": SEGMENTS, "age": AGE_BAND_LABELS, "plan": PLANS, "area": AREA_TYPES}[key]
    return {value: value for value in accepted}


def from_params(params: Mapping[str, str | list[str]], options: FilterOptions) -> UrlState:
    """The view a link asks for; whatever cannot be honoured is listed in `ignored`."""
    defaults = default_filters(options)
    ignored: list[str] = []
    texts = {key: _as_text(value) for key, value in params.items()}

    for key, value in texts.items():
        if key not in FILTER_PARAMS and key not in PAGE_PARAMS:
            ignored.append(_report(key, value))

    filters = replace(defaults, **_period(texts, options, defaults, ignored))

    comparison = texts.get("cmp")
    if comparison is not None:
        if comparison in COMPARISONS:
            filters = replace(filters, comparison=comparison)
        else:
            ignored.append(_report("cmp", comparison))

    # Regions first: the provinces a link may name depend on them (the sidebar cascade).
    chosen: dict[str, tuple[str, ...]] = {}
    outside: list[str] = []
    mapped: list[tuple[str, str]] = []
    for key, field_name in LIST_PARAMS.items():
        if key not in texts:
            continue
        accepted = _accepted_values(key, options, chosen.get("regions", ()))
        values: list[str] = []
        for item in (part.strip() for part in texts[key].split(",")):
            if not item:
                continue
            # A legacy province code stands for the current province it merged into, which
            # must then pass every check a current code passes (region, scope).
            wanted = (current_province_code(item) or item) if key == "province" else item
            if wanted in accepted:
                if accepted[wanted] not in values:
                    values.append(accepted[wanted])
                if wanted != item and (item, wanted) not in mapped:
                    mapped.append((item, wanted))
            else:
                ignored.append(_report(key, item))
                if _outside_scope(key, wanted, options):
                    outside.append(_report(key, item))
        chosen[field_name] = tuple(values)
    filters = replace(filters, **chosen)

    lang = texts.get("lang", DEFAULT_LANGUAGE)
    if lang not in LANGUAGES:
        ignored.append(_report("lang", lang))
        lang = DEFAULT_LANGUAGE
    return UrlState(
        filters=filters, lang=lang, ignored=tuple(ignored), outside_scope=tuple(outside), mapped=tuple(mapped)
    )


def _outside_scope(key: str, item: str, options: FilterOptions) -> bool:
    """A real province or region that the user's options do not hold (as opposed to junk)."""
    if key == "province":
        return item in current_province_codes() and options.province(item) is None
    if key == "region":
        return item in REGION_SLUGS and REGION_SLUGS[item] not in options.regions()
    return False


def _period(texts: Mapping[str, str], options: FilterOptions, defaults: Filters, ignored: list[str]) -> dict:
    """Start and end month from `from`/`to`; one alone means a single month."""
    months = set(options.months)
    parsed: dict[str, date] = {}
    for key in ("from", "to"):
        if key not in texts:
            continue
        month = parse_month(texts[key])
        if month is None or month not in months:
            ignored.append(_report(key, texts[key]))
        else:
            parsed[key] = month
    start = parsed.get("from", parsed.get("to"))
    end = parsed.get("to", parsed.get("from"))
    if start is None or end is None:
        return {"start_month": defaults.start_month, "end_month": defaults.end_month}
    if start > end:
        ignored.append(_report("from", texts["from"]))
        ignored.append(_report("to", texts["to"]))
        return {"start_month": defaults.start_month, "end_month": defaults.end_month}
    return {"start_month": start, "end_month": end}


def read_query_params() -> dict[str, list[str]]:
    """Every value of every parameter in the current URL (repeated keys kept)."""
    import streamlit as st

    return {key: st.query_params.get_all(key) for key in st.query_params}


def write_query_params(filters: Filters, lang: str) -> None:
    """Make the URL show this view: set our keys, drop unknown ones, keep page keys."""
    import streamlit as st

    wanted = to_params(filters, lang)
    for key in list(st.query_params):
        if key not in wanted and key not in PAGE_PARAMS:
            del st.query_params[key]
    for key, value in wanted.items():
        if st.query_params.get_all(key) != [value]:
            st.query_params[key] = value
