"""The numbers the Churn page shows, from the query layer (queries/churn.py and the registry),
for the View's filters and scope, through dashboard.frame.warehouse.run (cached).

No formula here: which selects to run, and how their rows become labelled, ordered frames
for the components. Trends and cohorts cover the TREND_MONTHS months ending with the
period's end month, trimmed to the months the warehouse has data for.
"""

import polars as pl

from dashboard.charts.components import KpiCard
from dashboard.charts.measure_cards import DerivedMeasure, has_comparison, registry_cards
from dashboard.frame.session import View
from dashboard.frame.warehouse import run
from dashboard.text.formatting import count_text, format_month, format_month_range
from dashboard.text.labels import dimension_label, member_label
from dashboard.text.strings import TEXT, t, value_label
from dashboard.text.table_text import shown_table
from queries.churn import (
    CHURN_RATES,
    TREND_MONTHS,
    churn_by_tenure_select,
    churn_rates_by_select,
    churn_reasons_select,
    churn_trend_by_plan_select,
    churn_trend_select,
    cohort_retention_select,
    involuntary_share_select,
    kaplan_meier,
    port_balance_select,
    port_flow_select,
    port_out_requests_select,
    port_outs_by_competitor_trend_select,
    port_trend_select,
    survival_select,
    target_trend_select,
    trend_range,
)
from queries.customers import TENURE_BAND_LABELS
from queries.filters import AGE_BAND_LABELS, add_months
from queries.metrics import MEASURES, measure_select
from queries.overview import TREND_MONTHS as CARD_TREND_MONTHS
from queries.tables import AREA_TYPES, MACRO_REGIONS, PLANS, PORT_DESTINATIONS, SEGMENTS

CARD_MEASURES: tuple[str, ...] = (
    "churn_rate",
    "churn_rate_voluntary",
    "churn_rate_involuntary",
    "annualised_churn",
    "churned_customers",
    "winback_rate",
    "port_outs",
    "port_ins",
    "net_port",
)
# A cohort heat map or survival curve needs cohorts followed for some months: with fewer
# months of data the page says so instead of drawing one or two cells.
COHORT_MIN_MONTHS = 3
WHO_DIMENSIONS: tuple[str, ...] = ("age_band", "segment", "tenure_band", "area_type")
FLOW_SOURCES: tuple[str, ...] = ("segment", "macro_region")
ORDER: dict[str, tuple[str, ...]] = {
    "age_band": AGE_BAND_LABELS,
    "segment": SEGMENTS,
    "tenure_band": TENURE_BAND_LABELS,
    "area_type": AREA_TYPES,
    "plan": PLANS,
    "macro_region": MACRO_REGIONS,
}


def _derived(name: str, key: str, help_key: str, direction: int) -> DerivedMeasure:
    (label_vi, label_en), (help_vi, help_en) = TEXT[key], TEXT[help_key]
    return DerivedMeasure(name, label_vi, label_en, help_vi, help_en, unit="percent", direction=direction)


INVOLUNTARY_SHARE = _derived(
    "involuntary_share", "churn_involuntary_share", "churn_involuntary_share_help", direction=-1
)
REFUSED_SHARE = _derived("refused_share", "churn_refused_share", "churn_refused_share_help", direction=-1)


def competitor_label(code: str, lang: str) -> str:
    return t(f"competitor_{code}", lang) if f"competitor_{code}" in TEXT else code


def reason_label(code: str, lang: str) -> str:
    return t(f"reason_{code}", lang) if f"reason_{code}" in TEXT else code


def _rank(order: tuple[str, ...], column: str) -> pl.Expr:
    return pl.col(column).replace_strict(
        {member: position for position, member in enumerate(order)}, default=len(order), return_dtype=pl.Int64
    )


def _trimmed(frame: pl.DataFrame, view: View, column: str = "month") -> pl.DataFrame:
    """Only months the warehouse has data for (a trend range may start before the data)."""
    return frame.filter(pl.col(column) >= view.options.months[0])


def trend_months(view: View) -> int:
    """How many months the trends and cohorts read: the TREND_MONTHS months ending with the
    period's end month, from the first month of data on."""
    return min(TREND_MONTHS, sum(1 for month in view.options.months if month <= view.filters.end_month))


def trend_caption(view: View) -> str:
    """Caption of the trends and cohorts: they read a wider range than the chosen period
    (said with the number of months), unless the data holds no more than the period."""
    months = trend_months(view)
    if months <= view.filters.month_count:
        return view.description
    return t(
        "trend_wider",
        view.lang,
        months=count_text("n_months", months, view.lang),
        end=format_month(view.filters.end_month, view.lang),
        filters=view.description,
    )


# --- cards and rates ----------------------------------------------------------------------


def kpi_cards(view: View) -> list[KpiCard]:
    return registry_cards(view, CARD_MEASURES)


def selects_nothing(cards: list[KpiCard]) -> bool:
    """Nobody in view at the start of the period, nobody who left and nobody ported in."""
    values = {card.measure.name: card.value for card in cards}
    return values.get("churn_rate") is None and not values.get("churned_customers") and not values.get("port_ins")


def plan_type_frame(view: View, cards: list[KpiCard]) -> pl.DataFrame:
    """[plan, label, *CHURN_RATES]: prepaid, postpaid, then all plans (the cards' values)."""
    rows = run(churn_rates_by_select(view.filters, view.scope, "plan"), view.scope)
    wide = rows.pivot(on="measure", index="member", values="value") if rows.height else pl.DataFrame()
    frame = pl.DataFrame({"plan": list(PLANS)}).join(
        wide.rename({"member": "plan"}) if wide.height else pl.DataFrame(schema={"plan": pl.String}),
        on="plan",
        how="left",
    )
    for name in CHURN_RATES:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(name))
    values = {card.measure.name: card.value for card in cards}
    schema = {"plan": pl.String, **dict.fromkeys(CHURN_RATES, pl.Float64)}
    total = pl.DataFrame({"plan": ["all"], **{name: [values.get(name)] for name in CHURN_RATES}}, schema=schema)
    frame = pl.concat([frame.select("plan", *CHURN_RATES), total], how="vertical_relaxed")
    labels = [t("all", view.lang) if plan == "all" else value_label("plan", plan, view.lang) for plan in frame["plan"]]
    return frame.with_columns(pl.Series("label", labels, dtype=pl.String)).select("plan", "label", *CHURN_RATES)


def plan_type_table(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    headers = {"label": t("plan", lang), **{name: MEASURES[name].label(lang) for name in CHURN_RATES}}
    return shown_table(frame, headers, dict.fromkeys(CHURN_RATES, "percent"), lang)


# --- trends -------------------------------------------------------------------------------


def churn_trend_frame(view: View) -> pl.DataFrame:
    """[month, series, value]: churn_rate, voluntary and involuntary by month."""
    frame = run(churn_trend_select(view.filters, view.scope), view.scope)
    return _trimmed(frame.rename({"measure": "series"}).select("month", "series", "value"), view)


def churn_series_labels(lang: str) -> dict[str, str]:
    return {name: MEASURES[name].label(lang) for name in CHURN_RATES[:3]}


def target_trend_frame(view: View) -> pl.DataFrame:
    """[month, target]: the monthly churn-rate target (NULL where none applies)."""
    return _trimmed(run(target_trend_select("churn_rate", view.filters, view.scope), view.scope), view)


def plan_trend_frame(view: View) -> pl.DataFrame:
    """[month, series (plan), value]: monthly churn rate by plan."""
    frame = run(churn_trend_by_plan_select(view.filters, view.scope), view.scope)
    return _trimmed(frame.select("month", pl.col("plan").alias("series"), "value"), view)


def plan_series_labels(lang: str) -> dict[str, str]:
    return {plan: value_label("plan", plan, lang) for plan in PLANS}


# --- porting ------------------------------------------------------------------------------


def port_trend_frame(view: View) -> pl.DataFrame:
    """[month, series (port_ins, port_outs, net_port), value]."""
    frame = run(port_trend_select(view.filters, view.scope), view.scope)
    return _trimmed(frame.rename({"measure": "series"}).select("month", "series", "value"), view)


def port_series_labels(lang: str) -> dict[str, str]:
    return {name: MEASURES[name].label(lang) for name in ("port_ins", "port_outs", "net_port")}


def competitor_trend_frame(view: View) -> pl.DataFrame:
    """[month, series (competitor), value]: every month × destination, 0 where none ported.
    The destinations are the five competitors and "unknown" (left for a competitor the
    extract does not name): a port-out counts whether or not its destination is known."""
    frame = run(port_outs_by_competitor_trend_select(view.filters, view.scope), view.scope)
    span = trend_range(view.filters)
    months = [add_months(span.start_month, offset) for offset in range(span.month_count)]
    grid = pl.DataFrame({"month": months}).join(pl.DataFrame({"series": list(PORT_DESTINATIONS)}), how="cross")
    joined = grid.join(frame.rename({"competitor": "series"}), on=["month", "series"], how="left")
    return _trimmed(joined.with_columns(pl.col("value").fill_null(0.0)), view)


def competitor_series_labels(lang: str) -> dict[str, str]:
    return {code: competitor_label(code, lang) for code in PORT_DESTINATIONS}


def port_balance_frame(view: View) -> pl.DataFrame:
    """[competitor, label, port_ins, port_outs, net_port] in the period, every destination
    (the five competitors, then "unknown")."""
    frame = run(port_balance_select(view.filters, view.scope), view.scope)
    every = pl.DataFrame({"competitor": list(PORT_DESTINATIONS)}).join(frame, on="competitor", how="left")
    every = every.with_columns(pl.col(name).fill_null(0.0) for name in ("port_ins", "port_outs", "net_port"))
    labels = [competitor_label(code, view.lang) for code in every["competitor"]]
    return every.with_columns(pl.Series("label", labels, dtype=pl.String)).select(
        "competitor", "label", "port_ins", "port_outs", "net_port"
    )


def port_balance_table(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    names = ("port_ins", "port_outs", "net_port")
    headers = {"label": t("competitor", lang), **{name: MEASURES[name].label(lang) for name in names}}
    return shown_table(frame, headers, dict.fromkeys(names, "count"), lang)


def flow_frame(view: View, source: str) -> pl.DataFrame:
    """[source, target, value]: port-outs in the period from each segment/region to each
    destination ("unknown" included: the flow chart labels it with competitor_label)."""
    frame = run(port_flow_select(view.filters, view.scope, source), view.scope)
    return frame.select("source", pl.col("competitor").alias("target"), "value")


# --- reasons, who leaves ------------------------------------------------------------------


def reasons_frame(view: View) -> pl.DataFrame:
    """[reason, label, churn_type, value, share]: who left in the period, by reason (largest first)."""
    frame = run(churn_reasons_select(view.filters, view.scope), view.scope)
    frame = frame.sort(["value", "reason"], descending=[True, False])
    labels = [reason_label(code, view.lang) for code in frame["reason"]]
    return frame.with_columns(pl.Series("label", labels, dtype=pl.String)).select(
        "reason", "label", "churn_type", "value", "share"
    )


def reasons_measure() -> object:
    return MEASURES["churned_customers"]


def churn_by_frame(view: View, dimension: str) -> pl.DataFrame:
    """[member, label, value, numerator, denominator]: monthly churn rate by age band, segment,
    tenure band or area type (registry churn_rate; tenure built on the same definition)."""
    if dimension == "tenure_band":
        frame = run(churn_by_tenure_select(view.filters, view.scope), view.scope)
    else:
        rows = run(churn_rates_by_select(view.filters, view.scope, dimension, names=("churn_rate",)), view.scope)
        frame = rows.select("member", "value", "numerator", "denominator")
    frame = frame.filter(pl.col("member").is_not_null())
    frame = frame.with_columns(_rank(ORDER[dimension], "member").alias("_o")).sort("_o", "member").drop("_o")
    labels = [member_label(dimension, member, view) for member in frame["member"]]
    return frame.with_columns(pl.Series("label", labels, dtype=pl.String)).select(
        "member", "label", "value", "numerator", "denominator"
    )


# --- cohorts ------------------------------------------------------------------------------


def cohorts_readable(view: View) -> bool:
    """Enough months of data for a cohort to be followed (COHORT_MIN_MONTHS). The cohorts are
    the activation months of the trend range from the first month of data on: a cohort
    activated before the data started would hold only the customers still there then."""
    return trend_months(view) >= COHORT_MIN_MONTHS


def cohort_note(view: View) -> str:
    """Said instead of the cohort charts when the data is too short to follow a cohort."""
    return t(
        "churn_cohorts_need_months",
        view.lang,
        need=count_text("n_months", COHORT_MIN_MONTHS, view.lang),
        have=count_text("n_months", trend_months(view), view.lang),
        end=format_month(view.filters.end_month, view.lang),
    )


def cohort_frame(view: View) -> pl.DataFrame:
    """[cohort, months_after, customers, active, value]: activation cohorts with data."""
    months = trend_months(view)
    return run(cohort_retention_select(view.filters, view.scope, months), view.scope)


def survival_frame(view: View) -> pl.DataFrame:
    """[series (segment), months_after, at_risk, churned, value]: Kaplan–Meier survival by
    segment over the same cohorts as the heat map (customers still active are censored at
    the period end)."""
    months = trend_months(view)
    risk_sets = run(survival_select(view.filters, view.scope, "segment", months), view.scope)
    return kaplan_meier(risk_sets, "segment").rename({"segment": "series"})


def survival_caption(view: View) -> str:
    """What the survival curve is (Kaplan–Meier, which cohorts, censored where), then the filters."""
    first = add_months(view.filters.end_month, -(trend_months(view) - 1))
    note = t(
        "churn_survival_note",
        view.lang,
        span=format_month_range(first, view.filters.end_month, view.lang),
        end=format_month(view.filters.end_month, view.lang),
    )
    return f"{note} · {view.description}"


def segment_series_labels(lang: str) -> dict[str, str]:
    return {segment: value_label("segment", segment, lang) for segment in SEGMENTS}


# --- win-back and the debt link -----------------------------------------------------------


def winback_trend_frame(view: View) -> pl.DataFrame:
    """[month, value]: win-back rate of each churn month over the trend range."""
    frame = run(measure_select("winback_rate", trend_range(view.filters), view.scope, by=("month",)), view.scope)
    return _trimmed(frame.select("month", "value"), view)


def debt_cards(view: View) -> list[KpiCard]:
    """Share of churn that is involuntary, and share of port-out requests refused for unpaid
    bills: period value, comparison and a 12-month sparkline."""
    filters, scope = view.filters, view.scope
    comparison = filters.comparison_filters() if has_comparison(view) else None
    spark = trend_range(filters, CARD_TREND_MONTHS)
    cards = []
    for measure, build in (
        (INVOLUNTARY_SHARE, involuntary_share_select),
        (REFUSED_SHARE, port_out_requests_select),
    ):
        current = run(build(filters, scope), scope)
        previous = run(build(comparison, scope), scope) if comparison else None
        trend = _trimmed(run(build(spark, scope, ("month",)), scope), view)
        cards.append(
            KpiCard(
                measure=measure,
                value=_first(current),
                previous=_first(previous),
                trend=tuple(float(value) for value in trend["value"] if value is not None),
            )
        )
    return cards


def _first(frame: pl.DataFrame | None) -> float | None:
    if frame is None or frame.is_empty() or frame["value"][0] is None:
        return None
    return float(frame["value"][0])


def port_requests_frame(view: View) -> pl.DataFrame:
    """[month, series (completed, refused), value]: port-out requests by outcome and month
    (stacked, they add up to the requests)."""
    frame = run(port_out_requests_select(trend_range(view.filters), view.scope, ("month",)), view.scope)
    long = frame.select("month", "completed", "refused").unpivot(
        index="month", on=["completed", "refused"], variable_name="series", value_name="value"
    )
    return _trimmed(long, view)


def port_requests_labels(lang: str) -> dict[str, str]:
    return {"completed": t("churn_port_completed", lang), "refused": t("churn_refused", lang)}


def who_label(dimension: str, lang: str) -> str:
    return dimension_label(dimension, lang)
