"""Everything the Review page and the meeting pack show, gathered once per view.

`load_review(view, kind)` runs the selects of queries/review.py and queries/uplift.py
through dashboard.frame.warehouse.run (cached per data version and scope) and returns a
ReviewData: plain Polars frames with raw numbers (fractions, VND, counts) and the
computed findings. The page formats them for the screen, dashboard/review/pack_pdf.py and
dashboard/review/pack_excel.py for the files, so all three always show the same numbers.

Places: the scorecard is the selection (filters ∩ role scope). The breakdown adds the
country (a national aggregate every role may see, see queries.review.country_scope), the
macro regions when no province is singled out, and each province the user may see. For a
scope limited to some provinces, a country figure whose part outside the scope is built
from fewer than k customers (or units) is hidden: null, flagged in `<period>_hidden`
(queries/disclosure.py).
"""

from dataclasses import dataclass, field, replace
from datetime import date

import polars as pl

from dashboard.charts.components import rag_status
from dashboard.frame.filter_options import FilterOptions
from dashboard.frame.filter_text import describe_filters
from dashboard.frame.warehouse import run, warehouse_meta_values
from dashboard.review.findings import Finding, FindingInputs, compute_findings
from dashboard.text.formatting import format_month
from dashboard.text.strings import t, value_label
from queries.disclosure import HIDDEN, customers_select, hide_small_cells, limits_provinces
from queries.filters import Filters, Scope, allowed_provinces
from queries.metrics import MEASURES
from queries.review import (
    ReviewPeriod,
    care_channels_select,
    churn_mix_select,
    complaint_mix_select,
    country_filters,
    country_scope,
    grouped_targets_select,
    mix_by_period_select,
    period_values_select,
    review_period,
    selection_targets_select,
    shows_regions,
    sla_by_category_select,
    targeted_measures_select,
    training_effect_select,
)
from queries.uplift import campaign_counts_select, campaign_window, outcome_complete, with_uplift

WIDE_COLUMNS = ("current", "previous", "last_year")
PARTS = ("base", "numerator")
CHURN_MIXES = ("plan", "age_band", "competitor", "reason")
CAMPAIGN_GROUPINGS = ("campaign", "offer", "segment", "total")
SCORECARD_SCHEMA = {
    "measure": pl.String,
    **dict.fromkeys(WIDE_COLUMNS, pl.Float64),
    **{f"{name}_{part}": pl.Float64 for name in WIDE_COLUMNS for part in PARTS},
    "target": pl.Float64,
    "gap": pl.Float64,
    "status": pl.String,
    "trend": pl.List(pl.Float64),
}


@dataclass(frozen=True)
class ReviewData:
    period: ReviewPeriod
    filters: Filters  # the view's filters over the review period
    scope: Scope
    lang: str
    options: FilterOptions
    description: str  # place · who · "Q3/2026 so với Q2/2026 và Q3/2025"
    loaded_at: str | None
    scorecard: pl.DataFrame  # one row per measure with a target
    breakdown: pl.DataFrame  # country, regions, provinces × measure
    campaigns: dict[str, pl.DataFrame] = field(default_factory=dict)  # grouping -> counts + uplift
    campaign_filters: Filters | None = None  # the campaigns' targeting window
    training: dict[str, pl.DataFrame] = field(default_factory=dict)  # "total", "staff_channel", "province_code"
    sla: pl.DataFrame = field(default_factory=pl.DataFrame)
    care: pl.DataFrame = field(default_factory=pl.DataFrame)  # channel × current/previous
    findings: tuple[Finding, ...] = ()

    @property
    def data_through(self) -> date:
        return self.options.data_through

    def period_label(self, period: ReviewPeriod | None = None) -> str:
        return period_label(period or self.period, self.lang)

    def target_of(self, measure: str) -> float | None:
        rows = self.scorecard.filter(pl.col("measure") == measure)["target"]
        return None if rows.is_empty() or rows[0] is None else float(rows[0])


def period_label(period: ReviewPeriod, lang: str) -> str:
    """T5/2026 · Quý 2/2026 · Năm 2025 (vi); May 2026 · Q2 2026 · 2025 (en)."""
    if period.kind == "month":
        return format_month(period.start_month, lang)
    if period.kind == "quarter":
        return t("review_quarter", lang, quarter=(period.start_month.month - 1) // 3 + 1, year=period.start_month.year)
    return t("review_year", lang, year=period.start_month.year)


def review_description(filters: Filters, period: ReviewPeriod, options: FilterOptions, lang: str, scope: Scope) -> str:
    """The view's place and customers (as under every chart), then the review period and
    both comparisons: "Hà Nội · Quý 3/2026 so với Quý 2/2026 và Quý 3/2025"."""
    who = describe_filters(filters, options, lang, scope).rsplit(" · ", 1)[0]
    versus = t(
        "review_versus",
        lang,
        period=period_label(period, lang),
        previous=period_label(period.previous, lang),
        last_year=period_label(period.last_year, lang),
    )
    return f"{who} · {versus}"


def known(period: ReviewPeriod, options: FilterOptions) -> bool:
    """The period lies within the data (a month before the data would read as zero)."""
    return period.start_month >= options.months[0] and period.end_month <= options.months[-1]


def area_name(level: str, code: str, options: FilterOptions, lang: str, place: str) -> str:
    if level == "country":
        return t("review_level_country", lang)
    if level == "selection":
        return place
    if level == "macro_region":
        return value_label("region", code, lang)
    province = options.province(code)
    return province.name(lang) if province else code


# --- the scorecard and its breakdown --------------------------------------------------------


def wide(long: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """Long (measure, period, *keys, value, base, numerator) → one row per measure and keys:
    current, previous, last_year and the base/numerator of each (and whether it is hidden,
    when `long` says so: queries.disclosure.hide_small_cells)."""
    index = ["measure", *keys]
    frame = long.select(*index).unique(maintain_order=True)
    for period in WIDE_COLUMNS:
        part = long.filter(pl.col("period") == period).select(
            *index,
            pl.col("value").alias(period),
            *(pl.col(name).alias(f"{period}_{name}") for name in (*PARTS, HIDDEN) if name in long.columns),
        )
        frame = frame.join(part, on=index, how="left", nulls_equal=True)
    return frame


def with_status(frame: pl.DataFrame, targets: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """Join the targets; add gap (actual − target) and status (green/amber/red, or null)."""
    joined = frame.join(targets, on=["measure", *keys], how="left", nulls_equal=True)
    statuses, gaps = [], []
    for row in joined.iter_rows(named=True):
        measure = MEASURES[row["measure"]]
        current, target = row["current"], row["target"]
        statuses.append(rag_status(current, target, measure.direction, measure.unit))
        gaps.append(None if current is None or target is None else current - target)
    return joined.with_columns(pl.Series("gap", gaps, dtype=pl.Float64), pl.Series("status", statuses, dtype=pl.String))


def forget_unknown(frame: pl.DataFrame, period: ReviewPeriod, options: FilterOptions) -> pl.DataFrame:
    """Comparison values of a period before the data are unknown, not zero."""
    blanks = []
    for name, compared in (("previous", period.previous), ("last_year", period.last_year)):
        if not known(compared, options):
            blanks += [pl.lit(None, pl.Float64).alias(column) for column in (name, *(f"{name}_{p}" for p in PARTS))]
    return frame.with_columns(blanks) if blanks else frame


def _trends(
    names: list[str], period: ReviewPeriod, filters: Filters, scope: Scope, options: FilterOptions
) -> dict[str, list[float]]:
    """measure -> its value in each of the last SPARK_PERIODS periods within the data, oldest first.
    Months come from one select per measure broken down by month; quarters and years need one
    per period (a ratio or a stock of a quarter is not a sum of months)."""
    spark = [item for item in period.spark() if known(item, options)]
    if not spark:
        return {}
    if period.kind == "month":
        span = replace(filters, start_month=spark[0].start_month)
        frame = run(period_values_select(names, {"spark": span}, scope, ("month",)), scope)
        frame = frame.rename({"month": "order"})
    else:
        periods = {str(index): item.filters(filters) for index, item in enumerate(spark)}
        frame = run(period_values_select(names, periods, scope), scope)
        frame = frame.with_columns(pl.col("period").cast(pl.Int32).alias("order"))
    return {
        name: [value for value in group.sort("order")["value"].to_list() if value is not None]
        for (name,), group in frame.group_by("measure")
    }


def _scorecard(
    names: list[str], periods: dict[str, Filters], period: ReviewPeriod, view, filters: Filters
) -> pl.DataFrame:
    """One row per measure for the selection: values, target, gap, status, trend."""
    scope, options = view.scope, view.options
    long = run(period_values_select(names, periods, scope), scope)
    targets = run(selection_targets_select(names, filters, scope), scope)
    frame = with_status(forget_unknown(wide(long, ()), period, options), targets, ())
    trends = _trends(names, period, filters, scope, options)
    order = {name: position for position, name in enumerate(names)}
    frame = frame.with_columns(
        pl.col("measure").replace_strict(order, return_dtype=pl.Int32).alias("_order"),
        pl.col("measure").replace_strict(trends, default=[], return_dtype=pl.List(pl.Float64)).alias("trend"),
    )
    return frame.sort("_order").drop("_order")


def _small_cells_hidden(
    long: pl.DataFrame, names: list[str], periods: dict[str, Filters], scope: Scope
) -> pl.DataFrame:
    """The country's figures (`long`, over the whole country) with those hidden whose part
    outside a limited scope is a small cell (queries/disclosure.py); unchanged, flagged
    not hidden, for a scope that sees the whole country."""
    if not limits_provinces(scope):
        return long.with_columns(pl.lit(False).alias(HIDDEN))
    national_scope = country_scope(scope)
    own = run(period_values_select(names, periods, scope), scope)  # the same filters, own provinces only
    customers = run(customers_select(periods, national_scope), national_scope)
    own_customers = run(customers_select(periods, scope), scope)
    return hide_small_cells(long, own, customers, own_customers)


def _breakdown(
    names: list[str], periods: dict[str, Filters], period: ReviewPeriod, view, filters: Filters, selection: pl.DataFrame
) -> pl.DataFrame:
    scope, options, lang = view.scope, view.options, view.lang
    place = describe_filters(filters, options, lang, scope).rsplit(" · ", 1)[0]
    parts = []
    whole_country = allowed_provinces(filters, scope) is None and not filters.regions
    if whole_country:
        parts.append(selection.with_columns(pl.lit("country").alias("level"), pl.lit("").alias("code")))
    else:
        national_scope = country_scope(scope)
        national = country_filters(filters)
        national_periods = {name: country_filters(value) for name, value in periods.items()}
        long = run(period_values_select(names, national_periods, national_scope), national_scope)
        long = _small_cells_hidden(long, names, national_periods, scope)
        targets = run(selection_targets_select(names, national, national_scope), national_scope)
        country = with_status(forget_unknown(wide(long, ()), period, options), targets, ())
        parts.append(country.with_columns(pl.lit("country").alias("level"), pl.lit("").alias("code")))
        parts.append(selection.with_columns(pl.lit("selection").alias("level"), pl.lit("").alias("code")))
    levels = ["province_code"]
    if shows_regions(filters, scope):
        levels.insert(0, "macro_region")
    for level in levels:
        long = run(period_values_select(names, periods, scope, (level,)), scope)
        targets = run(grouped_targets_select(names, filters, scope, level), scope)
        frame = with_status(forget_unknown(wide(long, (level,)), period, options), targets, (level,))
        parts.append(frame.rename({level: "code"}).with_columns(pl.lit(level).alias("level")))
    columns = ["level", "code", "measure", *WIDE_COLUMNS, "target", "gap", "status"]
    columns += [f"{name}_{part}" for name in WIDE_COLUMNS for part in PARTS]
    flags = [f"{name}_{HIDDEN}" for name in WIDE_COLUMNS]  # only a country row can be hidden
    parts = [
        part.with_columns(pl.lit(False).alias(flag) for flag in flags if flag not in part.columns) for part in parts
    ]
    columns += flags
    frame = pl.concat([part.select(columns) for part in parts], how="vertical_relaxed")
    frame = frame.with_columns(pl.col(flags).fill_null(False))
    # Names in plain Python (a table of areas): no Python callback runs inside Polars (issue 13).
    areas = [area_name(level, code, options, lang, place) for level, code in frame.select("level", "code").iter_rows()]
    return frame.with_columns(pl.Series("area", areas, dtype=pl.String))


# --- what explains the moves -----------------------------------------------------------------


def _mixes(periods: dict[str, Filters], scope: Scope) -> dict[str, pl.DataFrame]:
    two = {name: periods[name] for name in ("current", "previous")}
    mixes = {
        dimension: run(mix_by_period_select(churn_mix_select, two, scope, dimension=dimension), scope)
        for dimension in CHURN_MIXES
    }
    complaints = run(mix_by_period_select(complaint_mix_select, two, scope), scope)
    for name, column in (("category", "opened"), ("missed_category", "missed_sla")):
        mixes[name] = complaints.select(
            "period", "province_code", pl.col("category").alias("member"), pl.col(column).alias("value")
        )
    return mixes


# --- what worked -------------------------------------------------------------------------------


def _campaigns(filters: Filters, scope: Scope, options: FilterOptions) -> dict[str, pl.DataFrame]:
    window = campaign_window(filters)
    frames = {}
    for grouping in CAMPAIGN_GROUPINGS:
        counts = run(campaign_counts_select(window, scope, grouping), scope)
        counts = counts.filter((pl.col("control_n") + pl.col("contacted_n")) > 0)  # 'total' of nobody
        complete = [outcome_complete(day, options.data_through) for day in counts["last_targeted_on"].to_list()]
        frames[grouping] = with_uplift(counts).with_columns(pl.Series("outcome_complete", complete, dtype=pl.Boolean))
    return frames


def _training(filters: Filters, scope: Scope) -> dict[str, pl.DataFrame]:
    return {
        name: run(training_effect_select(filters, scope, by), scope)
        for name, by in (("total", ()), ("staff_channel", ("staff_channel",)), ("province_code", ("province_code",)))
    }


def load_review(view, kind: str) -> ReviewData:
    """The review of the latest complete `kind` period ending by the view's end month."""
    scope, options, lang = view.scope, view.options, view.lang
    period = review_period(kind, view.filters.end_month)
    filters = period.filters(view.filters)
    periods = {name: value.filters(view.filters) for name, value in period.comparisons().items()}
    targeted = set(run(targeted_measures_select(filters), scope)["measure"].to_list())
    names = [name for name in MEASURES if name in targeted]
    if names:
        scorecard = _scorecard(names, periods, period, view, filters)
        breakdown = _breakdown(names, periods, period, view, filters, scorecard)
    else:
        scorecard, breakdown = pl.DataFrame(schema=SCORECARD_SCHEMA), pl.DataFrame()
    has_previous = known(period.previous, options)
    mixes = _mixes(periods, scope) if names and has_previous else {}
    provinces = breakdown.filter(pl.col("level") == "province_code") if breakdown.height else pl.DataFrame()
    findings = compute_findings(
        FindingInputs(
            filters=filters,
            selection=scorecard,
            provinces=provinces.rename({"code": "province_code"}) if provinces.height else pl.DataFrame(),
            mixes=mixes,
            has_previous=has_previous,
        )
    )
    return ReviewData(
        period=period,
        filters=filters,
        scope=scope,
        lang=lang,
        options=options,
        description=review_description(filters, period, options, lang, scope),
        loaded_at=warehouse_meta_values().get("loaded_at"),
        scorecard=scorecard,
        breakdown=breakdown,
        campaigns=_campaigns(filters, scope, options),
        campaign_filters=campaign_window(filters),
        training=_training(filters, scope),
        sla=run(sla_by_category_select(filters, scope), scope),
        care=run(care_channels_select({"current": filters, "previous": periods["previous"]}, scope), scope),
        findings=tuple(findings),
    )
