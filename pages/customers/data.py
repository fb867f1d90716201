"""The numbers the Customers page shows, from the query layer (queries/customers.py and the
registry), for the View's filters and scope, through dashboard.frame.warehouse.run (cached).

No formula here: which selects to run, and how their rows become labelled, ordered frames
for the components. Every frame keeps raw values (fractions, VND, counts).
"""

from datetime import date

import polars as pl
from sqlalchemy import Select

from dashboard.charts.components import KpiCard
from dashboard.charts.measure_cards import DerivedMeasure, has_comparison, registry_cards
from dashboard.frame.session import View
from dashboard.frame.warehouse import run
from dashboard.text.formatting import format_value
from dashboard.text.labels import dimension_label, member_label
from dashboard.text.strings import TEXT, t, value_label
from dashboard.text.table_text import shown_table
from queries.customers import (
    AREA_MEASURES,
    SERVICES,
    TENURE_BAND_LABELS,
    area_view_select,
    big_customers_select,
    customer_list_select,
    key_accounts_trend_select,
    mix_select,
    ranked_month_select,
    segment_value_select,
)
from queries.filters import AGE_BAND_LABELS
from queries.metrics import MEASURES, measure_select
from queries.overview import TREND_MONTHS
from queries.rules import TOP_REVENUE_SHARE, TOP_REVENUE_WINDOW_MONTHS
from queries.tables import AREA_TYPES, MACRO_REGIONS, PLANS, SEGMENTS

CARD_MEASURES: tuple[str, ...] = (
    "active_customers",
    "new_customers",
    "churned_customers",
    "net_adds",
    "revenue",
    "arpu",
)
ARPU_DIMENSIONS: tuple[str, ...] = ("segment", "plan", "age_band")
# The article's classes: big customers (three figures), frequent debtors, lost to competitors.
CLASS_REGISTRY: tuple[str, ...] = ("frequent_debtors", "port_outs")
# Natural order of each dimension's members (provinces: largest first, set in mix_frame).
MEMBER_ORDER: dict[str, tuple[str, ...]] = {
    "segment": SEGMENTS,
    "macro_region": MACRO_REGIONS,
    "age_band": AGE_BAND_LABELS,
    "plan": PLANS,
    "area_type": AREA_TYPES,
    "services": tuple(SERVICES.values()),
    "tenure_band": TENURE_BAND_LABELS,
}


def _derived(name: str, key: str, help_key: str, direction: int, **values) -> DerivedMeasure:
    (label_vi, label_en), (help_vi, help_en) = TEXT[key], TEXT[help_key]
    return DerivedMeasure(
        name=name,
        label_vi=label_vi,
        label_en=label_en,
        description_vi=help_vi.format(**values),
        description_en=help_en.format(**values),
        unit="count",
        direction=direction,
    )


TOP_SHARE_TEXT = f"{TOP_REVENUE_SHARE:.0%}"
BIG_CUSTOMER_MEASURES: dict[str, DerivedMeasure] = {
    "key_accounts": _derived("key_accounts", "cust_key_accounts", "cust_key_accounts_help", 1),
    "top_revenue": _derived(
        "top_revenue",
        "cust_top_revenue",
        "cust_top_revenue_help",
        0,
        share=TOP_SHARE_TEXT,
        months=TOP_REVENUE_WINDOW_MONTHS,
    ),
    "big_customers": _derived("big_customers", "cust_big_customers", "cust_big_customers_help", 1),
}
CLASS_NAMES: tuple[str, ...] = (*BIG_CUSTOMER_MEASURES, *CLASS_REGISTRY)


def class_measure(name: str):
    """The measure (registry) or derived measure behind a classification figure."""
    return BIG_CUSTOMER_MEASURES.get(name) or MEASURES[name]


def _ordered(frame: pl.DataFrame, dimension: str, column: str = "member") -> pl.DataFrame:
    order = MEMBER_ORDER.get(dimension)
    if order is None:
        return frame
    rank = {member: position for position, member in enumerate(order)}
    return (
        frame.with_columns(pl.col(column).replace_strict(rank, default=len(rank), return_dtype=pl.Int64).alias("_o"))
        .sort("_o", column)
        .drop("_o")
    )


def _with_labels(frame: pl.DataFrame, dimension: str, view: View, column: str = "member") -> pl.DataFrame:
    labels = [member_label(dimension, member, view) for member in frame[column].to_list()]
    return frame.with_columns(pl.Series("label", labels, dtype=pl.String))


# --- cards --------------------------------------------------------------------------------


def kpi_cards(view: View) -> list[KpiCard]:
    return registry_cards(view, CARD_MEASURES)


def selects_nothing(cards: list[KpiCard]) -> bool:
    """No customer in the filtered base at the period end and no revenue in the period."""
    values = {card.measure.name: card.value for card in cards}
    return not values.get("active_customers") and not values.get("revenue")


# --- mix ----------------------------------------------------------------------------------


def mix_frame(view: View, dimension: str) -> pl.DataFrame:
    """[member, label, customers, share, customers_comparison, share_comparison] at the period
    end and the comparison period's end (comparison columns NULL when it precedes the data)."""
    rows = run(mix_select(view.filters, view.scope, dimension), view.scope)
    current = rows.filter(pl.col("period") == "current").drop("period")
    previous = rows.filter(pl.col("period") == "comparison").select(
        "member", pl.col("customers").alias("customers_comparison"), pl.col("share").alias("share_comparison")
    )
    frame = current.join(previous, on="member", how="full", coalesce=True)
    if not has_comparison(view):
        frame = frame.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("customers_comparison"),
            pl.lit(None, dtype=pl.Float64).alias("share_comparison"),
        )
    frame = frame.with_columns(pl.col("customers").fill_null(0.0))
    if dimension == "province_code":
        frame = frame.sort(["customers", "member"], descending=[True, False])
    else:
        frame = _ordered(frame, dimension)
    return _with_labels(frame, dimension, view).select(
        "member", "label", "customers", "share", "customers_comparison", "share_comparison"
    )


# --- value by segment ---------------------------------------------------------------------


def segment_value_frame(view: View) -> pl.DataFrame:
    """[segment, label, customers, customer_share, revenue, revenue_share, arpu]."""
    frame = run(segment_value_select(view.filters, view.scope), view.scope)
    frame = _ordered(frame, "segment", "segment")
    return _with_labels(frame, "segment", view, "segment").select(
        "segment", "label", "customers", "customer_share", "revenue", "revenue_share", "arpu"
    )


def arpu_frame(view: View, dimension: str) -> pl.DataFrame:
    """[member, label, value]: ARPU (registry) by segment, plan or age band."""
    if dimension not in ARPU_DIMENSIONS:
        raise ValueError(f"ARPU is shown by {ARPU_DIMENSIONS}, not {dimension!r}")
    frame = run(measure_select("arpu", view.filters, view.scope, by=(dimension,)), view.scope)
    frame = _ordered(frame.rename({dimension: "member"}).filter(pl.col("member").is_not_null()), dimension)
    return _with_labels(frame, dimension, view).select("member", "label", "value")


# --- the article's classification ---------------------------------------------------------


def class_cards(view: View) -> list[KpiCard]:
    """Key accounts, top-revenue customers, big customers (either), frequent debtors and
    customers lost to competitors (port-outs), against the comparison period. Sparklines:
    the key-account count and the registry measures, month by month."""
    filters, scope = view.filters, view.scope
    current = run(big_customers_select(filters, scope), scope)
    previous = run(big_customers_select(filters.comparison_filters(), scope), scope) if has_comparison(view) else None
    key_trend = run(key_accounts_trend_select(filters, scope, months=TREND_MONTHS), scope)
    key_trend = key_trend.filter(pl.col("month") >= view.options.months[0])

    def number(frame: pl.DataFrame | None, column: str) -> float | None:
        if frame is None or frame.is_empty() or frame[column][0] is None:
            return None
        return float(frame[column][0])

    cards = [
        KpiCard(
            measure=measure,
            value=number(current, name),
            previous=number(previous, name),
            trend=tuple(float(value) for value in key_trend["value"]) if name == "key_accounts" else (),
        )
        for name, measure in BIG_CUSTOMER_MEASURES.items()
    ]
    return cards + registry_cards(view, CLASS_REGISTRY)


def class_by_province_frame(view: View) -> pl.DataFrame:
    """[province_code, label, key_accounts, top_revenue, big_customers, frequent_debtors,
    port_outs]: one row per province with any of them, largest big-customer count first."""
    filters, scope = view.filters, view.scope
    big = run(big_customers_select(filters, scope, by=("province_code",)), scope).select(
        "province_code", *BIG_CUSTOMER_MEASURES
    )
    frame = big
    for name in CLASS_REGISTRY:
        values = run(measure_select(name, filters, scope, by=("province_code",)), scope)
        frame = frame.join(
            values.select("province_code", pl.col("value").alias(name)), on="province_code", how="full", coalesce=True
        )
    frame = frame.with_columns(pl.col(name).fill_null(0.0) for name in CLASS_NAMES)
    frame = frame.sort(["big_customers", "province_code"], descending=[True, False])
    return _with_labels(frame, "province_code", view, "province_code").select("province_code", "label", *CLASS_NAMES)


# --- areas --------------------------------------------------------------------------------


def area_frame(view: View) -> pl.DataFrame:
    """[area_type, label, *AREA_MEASURES]: one row per area type with data (urban, rural,
    remote, then unknown when the extract did not record it for some customers)."""
    long = run(area_view_select(view.filters, view.scope), view.scope).filter(pl.col("area_type").is_not_null())
    if long.is_empty():
        wide = pl.DataFrame(schema={"area_type": pl.String, **{name: pl.Float64 for name in AREA_MEASURES}})
    else:
        wide = long.pivot(on="measure", index="area_type", values="value")
    for name in AREA_MEASURES:
        if name not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(name))
    wide = _ordered(wide, "area_type", "area_type")
    return _with_labels(wide, "area_type", view, "area_type").select("area_type", "label", *AREA_MEASURES)


# --- the customer list --------------------------------------------------------------------


def list_labels(lang: str) -> dict[str, str]:
    """Column headers of the customer list."""
    return {
        "customer_key": t("col_customer_id", lang),
        "full_name": t("col_full_name", lang),
        "phone": t("col_phone", lang),
        "segment": t("segment", lang),
        "province_code": t("col_province_code", lang),
        "province": t("province", lang),
        "plan": t("plan", lang),
        "activated_on": t("col_activated_on", lang),
        "status": t("col_status", lang),
        "revenue_12m": t("revenue_12m", lang),
    }


def ranked_month(view: View) -> date | None:
    """The month the customer-list mart ranks (queries.customers.ranked_month_select)."""
    frame = run(ranked_month_select(), view.scope)
    return frame["month"][0] if frame.height else None


def list_query(view: View, *, province_code: str | None = None, segment: str | None = None) -> Select:
    """The ordered, scoped select of the drill-down list, codes shown as labels in the view's language."""
    lang = view.lang
    value_labels = {
        "segment": {segment_: value_label("segment", segment_, lang) for segment_ in SEGMENTS},
        "plan": {plan: value_label("plan", plan, lang) for plan in PLANS},
        "status": {status: t(f"status_{status}", lang) for status in ("active", "churned")},
    }
    return customer_list_select(
        view.filters,
        view.scope,
        province_code=province_code,
        segment=segment,
        lang=lang,
        value_labels=value_labels,
        ranked_month=ranked_month(view),
    )


def list_choices(view: View, by: str) -> list[str]:
    """What the drill-down can be opened on: the provinces in view (filters ∩ scope) or the
    segments in view, in the order of the sidebar."""
    if by == "province_code":
        allowed = view.filters.provinces or view.options.province_codes()
        regions = view.filters.regions
        return [
            option.code
            for option in view.options.provinces_in(regions)
            if option.code in allowed and (view.scope.provinces is None or option.code in view.scope.provinces)
        ]
    return list(view.filters.segments or SEGMENTS)


# --- tables for reading (the downloads keep the raw frames) -------------------------------


def mix_table(mix: pl.DataFrame, dimension: str, lang: str) -> pl.DataFrame:
    comparison = t("comparison_period", lang)
    headers = {
        "label": dimension_label(dimension, lang),
        "customers": t("customers_count", lang),
        "share": t("share", lang),
        "customers_comparison": f"{t('customers_count', lang)} · {comparison}",
        "share_comparison": f"{t('share', lang)} · {comparison}",
    }
    units = {"customers": "count", "share": "percent", "customers_comparison": "count", "share_comparison": "percent"}
    return shown_table(mix, headers, units, lang)


def class_bar_frame(by_province: pl.DataFrame, name: str) -> pl.DataFrame:
    """[label, value]: one classification figure by province, for the bar chart."""
    return by_province.select("label", pl.col(name).alias("value"))


def class_table(by_province: pl.DataFrame, lang: str) -> pl.DataFrame:
    headers = {"label": t("province", lang), **{name: class_measure(name).label(lang) for name in CLASS_NAMES}}
    return shown_table(by_province, headers, dict.fromkeys(CLASS_NAMES, "count"), lang)


def area_table(areas: pl.DataFrame, lang: str) -> pl.DataFrame:
    """One row per indicator, one column per area type: remote reads against urban and rural."""
    columns = {t("indicator", lang): [MEASURES[name].label(lang) for name in AREA_MEASURES]}
    for row in areas.iter_rows(named=True):
        columns[row["label"]] = [format_value(row[name], MEASURES[name].unit, lang) for name in AREA_MEASURES]
    return pl.DataFrame(columns)
