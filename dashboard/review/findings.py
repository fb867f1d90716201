"""The review's findings: plain sentences computed from the numbers, ranked by size.

Three kinds, each about one scorecard measure, for the whole selection or one province:
- deterioration / improvement: the move against the previous period (direction from the
  registry says which is which);
- off_target: red against the target (queries/rules.py RAG settings).
A move carries the behaviours that explain it when one stands out ("drivers"): for churn
the plan, age band, destination operator and reason of the customers who left; for
complaints the category; for SLA the category of the late ones; for the call centre the
volume of calls; for a selection-wide move the province it came from. "Mainly X" means X
accounts for at least DOMINANT_SHARE of the change.

Size, so that different measures and places can be ranked on one list:
- a move's size is |current − previous| ÷ |previous| (points scales such as NPS: ÷
  POINTS_SCALE), an off-target size is the shortfall ÷ |target|, on the same scale;
- a province's finding is weighted by √(its share of the selection's base): a large move
  in a mid-sized province (an outage) outranks a small national drift, while a swing on a
  tiny base does not dominate. Moves and gaps on a small base (MIN_BASE), or that the
  counted events do not support (a binomial or Poisson z-test at queries.rules.CONFIDENCE_Z
  for ratios of events: PROPORTIONS, RATES), are noise, not findings.
Nothing here queries the warehouse or formats for a widget: dashboard/review/data.py
gathers the frames, the page and the pack draw the sentences.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import polars as pl

from dashboard.frame.filter_options import FilterOptions
from dashboard.frame.url_state import to_params
from dashboard.text.formatting import format_delta, format_percent_value, format_value
from dashboard.text.strings import t, value_label
from queries.filters import Filters
from queries.metrics import MEASURES
from queries.rules import CONFIDENCE_Z
from queries.tables import UNKNOWN

TOP = 12
MAX_PER_KIND = 6
MAX_PER_MEASURE = 2  # per kind: twelve sentences about one KPI would hide the others
MIN_BASE = 50  # customers, resolved complaints, survey answers … before a rate's move or gap is news
# Ratios of counted events: their moves and gaps are tested against the sampling noise of
# those counts. PROPORTIONS are events ÷ a base of trials (churners ÷ customers at the start,
# resolved within SLA ÷ resolved …): binomial. RATES count events per unit of exposure
# (complaints per customer-month): Poisson. Other ratios have money or scores on top.
PROPORTIONS = frozenset(
    {
        "churn_rate",
        "churn_rate_voluntary",
        "churn_rate_involuntary",
        "sla_share",
        "first_contact_resolution",
        "reopened_rate",
        "ack_within_48h_share",
        "call_answer_rate",
        "winback_rate",
    }
)
RATES = frozenset({"complaint_rate"})
MIN_RELATIVE_MOVE = 0.02  # a move of under 2 % of the previous value is not news
POINTS_SCALE = 50.0  # NPS: +5 points ranks like a 10 % relative move
DOMINANT_SHARE = 0.5
MIN_DRIVER_EVENTS = 3
# Members that name no behaviour: not ported (NULL), the 'other' reason, and a destination
# the extract does not record ('unknown'): they count in a change but are never its driver.
UNNAMED = frozenset({None, "other", UNKNOWN})
VOLUME_SHARE = 0.2  # calls offered must have moved by 20 % to explain an answer-rate move
KINDS = ("deterioration", "improvement", "off_target")

# Behaviours that can explain a move of a measure: (mix dimensions, relation). relation +1:
# the mix counts events that rise with the measure (churners for churn); −1: events that
# rise when it falls (late complaints for the SLA share, calls offered for the answer rate).
CHURN_DRIVERS = ("plan", "age_band", "competitor", "reason")
DRIVERS: dict[str, tuple[tuple[str, ...], int]] = {
    "churn_rate": (CHURN_DRIVERS, 1),
    "churn_rate_voluntary": (CHURN_DRIVERS, 1),
    "churned_customers": (CHURN_DRIVERS, 1),
    "annualised_churn": (CHURN_DRIVERS, 1),
    "port_outs": (("competitor",), 1),
    "complaint_rate": (("category",), 1),
    "complaint_count": (("category",), 1),
    "sla_share": (("missed_category",), -1),
    "call_answer_rate": (("volume",), -1),
}
# The page that shows a measure best (url paths of dashboard/app.py PAGES).
PAGE_OF_TOPIC = {
    "customers": "customers",
    "revenue": "customers",
    "churn": "churn",
    "complaints": "complaints",
    "care": "complaints",
    "debt": "debt",
    "surveys": "overview",
}
CHURN_PAGE_MEASURES = frozenset(
    {"churn_rate", "churn_rate_voluntary", "churn_rate_involuntary", "annualised_churn", "churned_customers"}
)
PAGE_TITLE_KEYS = {
    "overview": "page_overview",
    "customers": "page_customers",
    "complaints": "page_complaints",
    "debt": "page_debt",
    "churn": "page_churn",
}


@dataclass(frozen=True)
class Driver:
    dimension: str  # plan, age_band, segment, competitor, reason, category, missed_category, province, volume
    member: str  # the code (province code, competitor, …); "" for volume
    change: float  # change in events (volume: relative change of calls offered)


@dataclass(frozen=True)
class Finding:
    kind: str  # deterioration | improvement | off_target
    measure: str
    province_code: str | None  # None: the whole selection
    current: float
    reference: float  # the previous period's value (moves) or the target (off target)
    size: float
    filters: Filters  # the view the linked page opens with
    drivers: tuple[Driver, ...] = ()
    target: float | None = None  # a deterioration that also left the measure off target

    @property
    def topic(self) -> str:
        return MEASURES[self.measure].topic

    @property
    def page(self) -> str:
        if self.measure in CHURN_PAGE_MEASURES:
            return "churn"
        return PAGE_OF_TOPIC.get(self.topic, "overview")


@dataclass(frozen=True)
class FindingInputs:
    """What the findings are computed from (dashboard/review/data.py builds it).

    selection / provinces: one row per measure (per province), columns measure,
    [province_code], current, previous, target, status, current_base, previous_base,
    current_numerator, previous_numerator. mixes: {dimension: frame with period
    ('current'/'previous'), province_code, member, value}."""

    filters: Filters
    selection: pl.DataFrame
    provinces: pl.DataFrame
    mixes: Mapping[str, pl.DataFrame]
    has_previous: bool = True  # False when the previous period starts before the data


def _scale(measure, reference: float | None) -> float | None:
    if reference is None:
        return None
    scale = POINTS_SCALE if measure.unit == "points" else abs(reference)
    return scale or None


def _bases_small(measure, row: Mapping, columns: tuple[str, ...]) -> bool:
    """A rate or mean on fewer than MIN_BASE customers, complaints, answers … says nothing."""
    if measure.additive:
        return False
    bases = [row.get(column) for column in columns]
    if any(base is None for base in bases):
        return measure.unit not in ("vnd", "count")
    return min(bases) < MIN_BASE


def _parts(row: Mapping, period: str) -> tuple[float, float] | None:
    events, base = row.get(f"{period}_numerator"), row.get(f"{period}_base")
    return None if events is None or not base else (float(events), float(base))


def move_z(measure_name: str, row: Mapping) -> float | None:
    """z of the change between the periods: two-proportion test for PROPORTIONS, the
    Poisson test of x1 against x0 scaled to the current base for RATES; None otherwise."""
    now, before = _parts(row, "current"), _parts(row, "previous")
    if now is None or before is None:
        return None
    (x1, b1), (x0, b0) = now, before
    if measure_name in PROPORTIONS:
        pooled = (x1 + x0) / (b1 + b0)
        variance = pooled * (1 - pooled) * (1 / b1 + 1 / b0)
        return (x1 / b1 - x0 / b0) / math.sqrt(variance) if variance > 0 else None
    expected, variance = x0 * b1 / b0, x1 + x0 * (b1 / b0) ** 2
    return (x1 - expected) / math.sqrt(variance) if variance > 0 else None


def miss_z(measure_name: str, row: Mapping) -> float | None:
    """z of the gap between the events observed and those the target implies."""
    now, value, target = _parts(row, "current"), row.get("current"), row.get("target")
    if now is None or not value or target is None:
        return None
    events, base = now
    if measure_name in PROPORTIONS:
        variance = target * (1 - target) / base
        return (events / base - target) / math.sqrt(variance) if variance > 0 else None
    expected = events * target / value  # the events at the target rate, same exposure
    return (events - expected) / math.sqrt(expected) if expected > 0 else None


def is_noise_move(measure, row: Mapping) -> bool:
    """A move on a small base, or one its counted events do not support (|z| < CONFIDENCE_Z)."""
    if _bases_small(measure, row, ("current_base", "previous_base")):
        return True
    if measure.name not in PROPORTIONS | RATES:
        return False
    z = move_z(measure.name, row)
    return z is None or abs(z) < CONFIDENCE_Z


def is_noise_miss(measure, row: Mapping) -> bool:
    """A gap to target on a small base, or one its counted events do not support."""
    if _bases_small(measure, row, ("current_base",)):
        return True
    if measure.name not in PROPORTIONS | RATES:
        return False
    z = miss_z(measure.name, row)
    return z is None or abs(z) < CONFIDENCE_Z


def _weights(provinces: pl.DataFrame) -> dict[tuple[str, str], float]:
    """√(share of the base) of each province, per measure (base, else |previous value|)."""
    weights: dict[tuple[str, str], float] = {}
    for (measure,), group in provinces.group_by("measure"):
        sizes = {}
        for row in group.iter_rows(named=True):
            base = row.get("current_base")
            if base is None:
                base = abs(row["previous"]) if row.get("previous") is not None else None
            sizes[row["province_code"]] = base or 0.0
        total = sum(sizes.values())
        for code, size in sizes.items():
            weights[(measure, code)] = math.sqrt(size / total) if total else 0.0
    return weights


def _mix_changes(mix: pl.DataFrame, province_code: str | None) -> dict[str | None, float]:
    """member -> current − previous events (over every province when province_code is None)."""
    rows = mix if province_code is None else mix.filter(pl.col("province_code") == province_code)
    changes: dict[str | None, float] = {}
    for row in rows.iter_rows(named=True):
        sign = 1.0 if row["period"] == "current" else -1.0 if row["period"] == "previous" else 0.0
        changes[row["member"]] = changes.get(row["member"], 0.0) + sign * float(row["value"] or 0)
    return changes


def dominant(changes: Mapping[str | None, float], sign: float) -> tuple[str, float] | None:
    """The member that accounts for at least DOMINANT_SHARE of the total change in the
    direction `sign`. Members that explain nothing (UNNAMED: not ported, 'other' reasons,
    an unknown destination) count in the total but are never named."""
    total = sum(changes.values()) * sign
    named = [(member, change * sign) for member, change in changes.items() if member not in UNNAMED]
    if total <= 0 or not named:
        return None
    member, change = max(named, key=lambda item: (item[1], str(item[0])))
    if change < max(DOMINANT_SHARE * total, MIN_DRIVER_EVENTS):
        return None
    return str(member), change * sign


def _drivers(inputs: FindingInputs, row: Mapping, province_code: str | None, single: bool) -> tuple[Driver, ...]:
    measure = row["measure"]
    change = row["current"] - row["previous"]
    found: list[Driver] = []
    if province_code is None and not single:
        province = _province_driver(inputs.provinces, measure, change)
        if province:
            found.append(province)
    dimensions, relation = DRIVERS.get(measure, ((), 1))
    sign = math.copysign(1.0, change) * relation
    for dimension in dimensions:
        if dimension == "volume":
            before, after = row.get("previous_base"), row.get("current_base")
            if before and after is not None and (after - before) / before * sign >= VOLUME_SHARE:
                found.append(Driver("volume", "", (after - before) / before))
            continue
        mix = inputs.mixes.get(dimension)
        if mix is None or mix.is_empty():
            continue
        best = dominant(_mix_changes(mix, province_code), sign)
        if best:
            found.append(Driver(dimension, best[0], best[1]))
    return tuple(found)


def _province_driver(provinces: pl.DataFrame, measure: str, change: float) -> Driver | None:
    rows = provinces.filter(pl.col("measure") == measure)
    additive = MEASURES[measure].additive
    changes: dict[str | None, float] = {}
    for row in rows.iter_rows(named=True):
        if additive:
            before, after = row.get("previous"), row.get("current")
        else:
            before, after = row.get("previous_numerator"), row.get("current_numerator")
        if before is None or after is None:
            return None  # NPS and other measures without a numerator cannot be split by province
        changes[row["province_code"]] = after - before
    best = dominant(changes, math.copysign(1.0, change))
    return Driver("province", best[0], best[1]) if best else None


def _moves(inputs: FindingInputs, frame: pl.DataFrame, weights, single: str | None) -> list[Finding]:
    found = []
    for row in frame.iter_rows(named=True):
        measure = MEASURES.get(row["measure"])
        if measure is None or measure.direction == 0 or row["current"] is None or row["previous"] is None:
            continue
        scale = _scale(measure, row["previous"])
        if not scale or is_noise_move(measure, row):
            continue
        relative = abs(row["current"] - row["previous"]) / scale
        if relative < MIN_RELATIVE_MOVE:
            continue
        code = row.get("province_code")
        weight = weights.get((row["measure"], code), 0.0) if code else 1.0
        better = (row["current"] - row["previous"]) * measure.direction > 0
        found.append(
            Finding(
                kind="improvement" if better else "deterioration",
                measure=row["measure"],
                province_code=code or single,
                current=row["current"],
                reference=row["previous"],
                size=relative * weight,
                filters=_link_filters(inputs.filters, code),
                drivers=_drivers(inputs, row, code or single, single is not None),
            )
        )
    return found


def _misses(inputs: FindingInputs, frame: pl.DataFrame, weights, single: str | None) -> list[Finding]:
    found = []
    for row in frame.iter_rows(named=True):
        measure = MEASURES.get(row["measure"])
        if measure is None or row.get("status") != "red" or row["current"] is None or row["target"] is None:
            continue
        scale = _scale(measure, row["target"])
        if not scale or is_noise_miss(measure, row):
            continue
        code = row.get("province_code")
        weight = weights.get((row["measure"], code), 0.0) if code else 1.0
        shortfall = (row["target"] - row["current"]) * measure.direction
        found.append(
            Finding(
                kind="off_target",
                measure=row["measure"],
                province_code=code or single,
                current=row["current"],
                reference=row["target"],
                size=shortfall / scale * weight,
                filters=_link_filters(inputs.filters, code),
            )
        )
    return found


def _link_filters(filters: Filters, province_code: str | None) -> Filters:
    return filters if province_code is None else replace(filters, provinces=(province_code,), regions=())


def merge_misses_into_moves(candidates: list[Finding]) -> list[Finding]:
    """A deterioration and an off-target finding about the same measure and place tell one
    story (the move explains the miss): keep the deterioration, with the target and the
    larger of the two sizes."""
    misses = {(item.measure, item.province_code): item for item in candidates if item.kind == "off_target"}
    merged, absorbed = [], set()
    for item in candidates:
        key = (item.measure, item.province_code)
        if item.kind == "deterioration" and key in misses:
            miss = misses[key]
            item = replace(item, target=miss.reference, size=max(item.size, miss.size))
            absorbed.add(key)
        merged.append(item)
    return [
        item for item in merged if not (item.kind == "off_target" and (item.measure, item.province_code) in absorbed)
    ]


def compute_findings(inputs: FindingInputs, top: int = TOP) -> list[Finding]:
    """The findings worth a sentence, largest first, at most `top` (MAX_PER_KIND of a kind,
    MAX_PER_MEASURE per measure and kind)."""
    province_codes = inputs.provinces["province_code"].unique().to_list() if inputs.provinces.height else []
    single = province_codes[0] if len(province_codes) == 1 else None
    weights = _weights(inputs.provinces) if inputs.provinces.height else {}
    candidates: list[Finding] = []
    if inputs.has_previous:
        candidates += _moves(inputs, inputs.selection, weights, single)
        if single is None and inputs.provinces.height:
            candidates += _moves(inputs, inputs.provinces, weights, single)
    candidates += _misses(inputs, inputs.selection, weights, single)
    if single is None and inputs.provinces.height:
        candidates += _misses(inputs, inputs.provinces, weights, single)
    candidates = merge_misses_into_moves(candidates)
    candidates.sort(key=lambda item: (-item.size, item.kind, item.measure, item.province_code or ""))
    chosen: list[Finding] = []
    for finding in candidates:
        same_kind = [kept for kept in chosen if kept.kind == finding.kind]
        if len(same_kind) >= MAX_PER_KIND:
            continue
        if sum(1 for kept in same_kind if kept.measure == finding.measure) >= MAX_PER_MEASURE:
            continue
        chosen.append(finding)
        if len(chosen) >= top:
            break
    return chosen


# --- wording ------------------------------------------------------------------------------


def _place(code: str | None, options: FilterOptions, lang: str) -> str:
    if code is None:
        return ""
    province = options.province(code)
    return t("review_where", lang, place=province.name(lang) if province else code)


def driver_text(driver: Driver, options: FilterOptions, lang: str) -> str:
    if driver.dimension == "volume":
        key = "review_driver_volume_up" if driver.change > 0 else "review_driver_volume_down"
        return t(key, lang, value=format_percent_value(abs(driver.change), lang, 0))
    if driver.dimension == "province":
        province = options.province(driver.member)
        return t("review_driver_province", lang, value=province.name(lang) if province else driver.member)
    if driver.dimension == "age_band":
        return t("review_driver_age_band", lang, value=driver.member.replace("-", "–"))
    prefixes = {
        "plan": "plan",
        "segment": "segment",
        "competitor": "competitor",
        "reason": "reason",
        "category": "category",
        "missed_category": "category",
    }
    label = value_label(prefixes[driver.dimension], driver.member, lang)
    if driver.dimension != "competitor":  # operator names keep their capitals
        label = label.lower() if lang == "vi" else label[:1].lower() + label[1:]
    key = "review_driver_category" if driver.dimension == "missed_category" else f"review_driver_{driver.dimension}"
    return t(key, lang, value=label)


def finding_text(finding: Finding, options: FilterOptions, lang: str) -> str:
    """The sentence, e.g. "Tỷ lệ rời mạng tháng ở Đà Nẵng tăng 0,8 điểm % so với kỳ trước
    (2,1% → 2,9%), chủ yếu cước trả trước, 18–24 tuổi, sang MobiFone."."""
    measure = MEASURES[finding.measure]
    label = measure.label(lang)
    where = _place(finding.province_code, options, lang)
    if finding.kind == "off_target":
        return t(
            "review_finding_missed",
            lang,
            measure=label,
            where=where,
            value=format_value(finding.current, measure.unit, lang),
            target=format_value(finding.reference, measure.unit, lang),
            gap=format_delta(finding.current, finding.reference, measure.unit, lang) or "",
        )
    delta = format_delta(finding.current, finding.reference, measure.unit, lang) or ""
    mix = [driver_text(driver, options, lang) for driver in finding.drivers if driver.dimension != "volume"]
    clauses = t("review_mainly", lang, items=", ".join(mix)) if mix else ""
    clauses += "".join(
        t("review_when", lang, what=driver_text(driver, options, lang))
        for driver in finding.drivers
        if driver.dimension == "volume"
    )
    if finding.target is not None:
        clauses += t("review_and_off_target", lang, target=format_value(finding.target, measure.unit, lang))
    rose = finding.current > finding.reference
    return t(
        "review_finding_rose" if rose else "review_finding_fell",
        lang,
        measure=label,
        where=where,
        delta=delta.lstrip("+-−"),
        before=format_value(finding.reference, measure.unit, lang),
        after=format_value(finding.current, measure.unit, lang),
        drivers=clauses,
    )


def finding_link(finding: Finding, lang: str) -> str:
    """The page and its filter parameters, relative to the app's address: 'churn?from=…'."""
    return f"{finding.page}?{urlencode(to_params(finding.filters, lang))}"


def page_title(finding: Finding, lang: str) -> str:
    return t(PAGE_TITLE_KEYS[finding.page], lang)
