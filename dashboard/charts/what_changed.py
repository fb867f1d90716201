"""The five largest movements of the period, by province and by segment, in plain sentences.

Movements of different measures are made comparable by asking one question of each:
what share of the national figure did this province (or segment) move?
- counts and money add up, so a member's move is its change ÷ the national comparison
  total (the sum over members);
- rates, means and scores do not add up, so a member's move is its change ÷ the national
  comparison value, weighted by the member's share of the base (the measure's
  denominator: customers at the start of the month, resolved complaints, …).
Members with a tiny base are skipped for rates: 1 churner out of 4 customers is noise,
not news. The numbers come from the query layer (queries.overview.what_changed_select);
only the ranking and the wording happen here.
"""

from dataclasses import dataclass

import polars as pl

from dashboard.charts.components import delta_text, measure_label
from dashboard.frame.filter_options import FilterOptions
from dashboard.text.formatting import format_month, format_month_range, format_value
from dashboard.text.strings import t, value_label

TOP = 5
MAX_PER_MEASURE = 2  # five sentences about one KPI would hide the others
MIN_BASE_FOR_RATES = 50  # denominator (customers, resolved complaints…) before a rate is worth a sentence
MIN_TOTAL_FOR_COUNTS = 50  # "open complaints fell from 3 to 2" is not news either
ADDITIVE_UNITS = ("count", "vnd")
# The total a measure's movements are shares of. A net flow (net adds) can sum to about
# zero, so its movements are read against the customer base instead.
SCALE_MEASURE = {"net_adds": "active_customers"}


@dataclass(frozen=True)
class Movement:
    measure: str
    dimension: str  # province_code or segment
    member: str
    current: float
    previous: float
    score: float  # share of the national figure this member moved


def _base(row: dict) -> float | None:
    """The member's denominator in the comparison period. A rate without one (the query
    layer gives none for NPS yet) cannot be told apart from noise, so it is left out."""
    base = row.get("comparison_base")
    return None if base is None else float(base)


def _national_totals(frame: pl.DataFrame) -> dict[tuple[str, str], float]:
    totals: dict[tuple[str, str], float] = {}
    for row in frame.iter_rows(named=True):
        if row["comparison_value"] is not None:
            key = (row["measure"], row["dimension"])
            totals[key] = totals.get(key, 0.0) + abs(float(row["comparison_value"]))
    return totals


def rank_movements(frame: pl.DataFrame, measures: dict, top: int = TOP) -> list[Movement]:
    """frame: measure, dimension, member, current_value, comparison_value, comparison_base."""
    if frame.is_empty():
        return []
    totals = _national_totals(frame)
    movements: list[Movement] = []
    for (name, dimension), group in frame.group_by("measure", "dimension", maintain_order=True):
        measure = measures.get(name)
        rows = [
            row
            for row in group.iter_rows(named=True)
            if row["current_value"] is not None and row["comparison_value"] is not None and row["member"] is not None
        ]
        if measure is None or not rows:
            continue
        if measure.unit in ADDITIVE_UNITS:
            national = totals.get((SCALE_MEASURE.get(name, name), dimension), 0.0)
            if measure.unit == "count" and national < MIN_TOTAL_FOR_COUNTS:
                continue
            weighted = [(row, 1.0) for row in rows]
        else:
            rows = [row for row in rows if (_base(row) or 0) >= MIN_BASE_FOR_RATES]
            total_base = sum(_base(row) for row in rows)
            if not rows or not total_base:
                continue
            national = abs(sum(float(row["comparison_value"]) * _base(row) for row in rows) / total_base)
            weighted = [(row, _base(row) / total_base) for row in rows]
        if not national:
            continue
        for row, weight in weighted:
            current, previous = float(row["current_value"]), float(row["comparison_value"])
            if current == previous:
                continue
            movements.append(
                Movement(
                    name, dimension, str(row["member"]), current, previous, abs(current - previous) / national * weight
                )
            )
    movements.sort(key=lambda move: (-move.score, move.measure, move.dimension, move.member))
    chosen: list[Movement] = []
    for movement in movements:
        if sum(1 for kept in chosen if kept.measure == movement.measure) < MAX_PER_MEASURE:
            chosen.append(movement)
    return chosen[:top]


def _where(movement: Movement, options: FilterOptions, lang: str) -> str:
    if movement.dimension == "province_code":
        province = options.province(movement.member)
        name = province.name(lang) if province else movement.member
        return t("in_province", lang, province=name)
    return t("in_segment", lang, segment=value_label("segment", movement.member, lang))


def sentence(movement: Movement, measures: dict, options: FilterOptions, lang: str) -> str:
    measure = measures[movement.measure]
    rose = movement.current > movement.previous
    return t(
        "change_sentence_up" if rose else "change_sentence_down",
        lang,
        measure=measure_label(measure, lang),
        where=_where(movement, options, lang),
        before=format_value(movement.previous, measure.unit, lang, compact=True),
        after=format_value(movement.current, measure.unit, lang, compact=True),
        delta=delta_text(measure, movement.current, movement.previous, lang),
    )


def sentences(frame: pl.DataFrame, measures: dict, options: FilterOptions, lang: str, top: int = TOP) -> list[str]:
    return [sentence(movement, measures, options, lang) for movement in rank_movements(frame, measures, top)]


def no_earlier_period(view) -> str:
    """Said when the comparison period starts before the data: nothing to compare with."""
    comparison = view.filters.comparison_filters()
    return t(
        "what_changed_no_earlier",
        view.lang,
        start=format_month(view.options.months[0], view.lang),
        comparison=format_month_range(comparison.start_month, comparison.end_month, view.lang),
    )


def what_changed_panel(view, measures: dict, frame: pl.DataFrame | None) -> None:
    """The heading, five sentences (or a plain "nothing notable"), and the filter caption.
    frame None: the data holds no comparison period, which is said instead of "no change"."""
    import streamlit as st

    st.subheader(t("what_changed", view.lang))
    if frame is None:
        st.markdown(no_earlier_period(view))
        st.caption(view.description)
        return
    lines = sentences(frame, measures, view.options, view.lang)
    if lines:
        st.markdown("\n".join(f"{index}. {line}" for index, line in enumerate(lines, start=1)))
    else:
        st.markdown(t("what_changed_none", view.lang))
    st.caption(view.description)
