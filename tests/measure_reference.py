"""Independent Polars computations of every measure, from the raw tables (tests only).

Written from the KPI definitions (each Measure's description, docs/measures.md), not from the
SQL: loops over months and plain Polars filters, so a mistake in the query layer's joins,
spine or as-of logic shows up as a difference. Whole tables come into Python here, which
is allowed in tests only, on the small seeded warehouses.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl
from sqlalchemy import create_engine, select

from queries.filters import AGE_BANDS, Filters, Scope, add_months, allowed_provinces
from queries.rules import (
    ACK_TARGET_HOURS,
    BACKLOG_AGE_BUCKETS,
    COMPLAINT_RATE_MONTHS,
    DEBT_AGE_BUCKETS,
    FREQUENT_DEBTOR_LATE_BILLS,
    FREQUENT_DEBTOR_WINDOW_MONTHS,
    WINBACK_WINDOW_DAYS,
)
from queries.run import run
from queries.tables import (
    bills,
    campaign_targets,
    care_contacts_monthly,
    churn_events,
    complaints,
    customers,
    kpi_targets,
    provinces,
    revenue_monthly,
    surveys,
)

RAW_TABLES = (
    customers,
    provinces,
    revenue_monthly,
    complaints,
    churn_events,
    bills,
    surveys,
    campaign_targets,
    care_contacts_monthly,
    kpi_targets,
)
_RAW_CACHE: dict[str, dict[str, pl.DataFrame]] = {}


def load_raw(url: str) -> dict[str, pl.DataFrame]:
    """Every table the measures read, whole, as Polars frames (cached per warehouse)."""
    if url not in _RAW_CACHE:
        engine = create_engine(url)
        with engine.connect() as connection:
            _RAW_CACHE[url] = {table.name: run(select(table), connection) for table in RAW_TABLES}
        engine.dispose()
    return _RAW_CACHE[url]


def months_of(filters: Filters) -> list[date]:
    return [add_months(filters.start_month, i) for i in range(filters.month_count)]


def next_month(month: date) -> date:
    return add_months(month, 1)


def last_day(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def as_ts(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def month_of(column: str) -> pl.Expr:
    return pl.col(column).dt.truncate("1mo").cast(pl.Date)


@dataclass
class Context:
    raw: dict[str, pl.DataFrame]
    filters: Filters
    scope: Scope
    cust: pl.DataFrame  # customers passing filters ∩ scope, with macro_region and age_band

    @property
    def months(self) -> list[date]:
        return months_of(self.filters)


def make_context(raw: dict[str, pl.DataFrame], filters: Filters, scope: Scope) -> Context:
    end_year = filters.end_month.year
    band = pl.lit(None, dtype=pl.String)
    age = end_year - pl.col("birth_year").cast(pl.Int32)
    for label, low, high in reversed(AGE_BANDS):
        band = pl.when((age >= low) & (age <= high)).then(pl.lit(label)).otherwise(band)
    cust = raw["customers"].join(raw["provinces"].select("province_code", "macro_region"), on="province_code")
    cust = cust.with_columns(band.alias("age_band"))
    allowed = allowed_provinces(filters, scope)
    if allowed is not None:
        cust = cust.filter(pl.col("province_code").is_in(sorted(allowed)))
    for values, column in (
        (filters.regions, "macro_region"),
        (filters.segments, "segment"),
        (filters.plans, "plan"),
        (filters.area_types, "area_type"),
        (filters.age_bands, "age_band"),
    ):
        if values:
            cust = cust.filter(pl.col(column).is_in(list(values)))
    return Context(raw, filters, scope, cust)


CUSTOMER_DIMS = ("province_code", "macro_region", "segment", "plan", "area_type", "age_band")


def with_dims(ctx: Context, events: pl.DataFrame) -> pl.DataFrame:
    """Events of customers that pass the filters, with the customer's dimensions."""
    return events.join(ctx.cust.select("customer_id", *CUSTOMER_DIMS), on="customer_id", how="inner")


def grouped(frame: pl.DataFrame, by: Sequence[str], aggregations: dict[str, pl.Expr]) -> pl.DataFrame:
    exprs = [expression.alias(name) for name, expression in aggregations.items()]
    if by:
        return frame.group_by(list(by)).agg(exprs)
    return frame.select(exprs)


def per_month(months: Sequence[date], build: Callable[[date], pl.DataFrame]) -> pl.DataFrame:
    """Stack one frame per month, with a month column."""
    frames = [build(month).with_columns(pl.lit(month).alias("month")) for month in months]
    return pl.concat(frames, how="vertical_relaxed")


def eval_months(ctx: Context, by: Sequence[str]) -> list[date]:
    return ctx.months if "month" in by else [ctx.filters.end_month]


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator != 0).then(numerator.cast(pl.Float64) / denominator.cast(pl.Float64))


# --- customers -------------------------------------------------------------------------


def active_end(month: date) -> pl.Expr:
    after = next_month(month)
    return (pl.col("activated_on") < after) & (pl.col("churned_on").is_null() | (pl.col("churned_on") >= after))


def active_start(month: date) -> pl.Expr:
    return (pl.col("activated_on") < month) & (pl.col("churned_on").is_null() | (pl.col("churned_on") >= month))


def in_month(column: str, month: date) -> pl.Expr:
    return (pl.col(column) >= month) & (pl.col(column) < next_month(month))


def customer_flags(ctx: Context, months: Sequence[date]) -> pl.DataFrame:
    """Per month: every filtered customer with 0/1 flags (start, end, new, churned…)."""
    types = ctx.raw["churn_events"].select("customer_id", "churn_type")
    cust = ctx.cust.join(types, on="customer_id", how="left")

    def build(month: date) -> pl.DataFrame:
        return cust.select(
            *CUSTOMER_DIMS,
            active_start(month).cast(pl.Int64).alias("start"),
            active_end(month).cast(pl.Int64).alias("end"),
            in_month("activated_on", month).cast(pl.Int64).alias("new"),
            in_month("churned_on", month).fill_null(False).cast(pl.Int64).alias("churned"),
            (in_month("churned_on", month).fill_null(False) & (pl.col("churn_type") == "voluntary"))
            .fill_null(False)
            .cast(pl.Int64)
            .alias("voluntary"),
            (in_month("churned_on", month).fill_null(False) & (pl.col("churn_type") == "involuntary"))
            .fill_null(False)
            .cast(pl.Int64)
            .alias("involuntary"),
        )

    return per_month(months, build)


def ref_active(ctx, by):
    flags = customer_flags(ctx, eval_months(ctx, by)).filter(pl.col("end") == 1)
    return grouped(flags, by, {"value": pl.len()})


def ref_count_flag(flag):
    def compute(ctx, by):
        flags = customer_flags(ctx, ctx.months).filter(pl.col(flag) == 1)
        return grouped(flags, by, {"value": pl.len()})

    return compute


def ref_net_adds(ctx, by):
    flags = customer_flags(ctx, ctx.months)
    return grouped(flags, by, {"value": pl.col("new").sum() - pl.col("churned").sum()})


def ref_churn_rate(flag, annualised=False):
    def compute(ctx, by):
        flags = customer_flags(ctx, ctx.months)
        out = grouped(flags, by, {"n": pl.col(flag).sum(), "d": pl.col("start").sum()})
        monthly = ratio(pl.col("n"), pl.col("d"))
        value = (1 - (1 - monthly) ** 12) if annualised else monthly
        return out.with_columns(value.alias("value")).drop("n", "d")

    return compute


def ref_retention(ctx, by):
    flags = customer_flags(ctx, ctx.months)
    if "month" not in by:
        flags = flags.with_columns(
            pl.when(pl.col("month") == ctx.filters.end_month).then(pl.col("end")).otherwise(0).alias("end"),
            pl.when(pl.col("month") == ctx.filters.start_month).then(pl.col("start")).otherwise(0).alias("start"),
        )
    out = grouped(flags, by, {"e": pl.col("end").sum(), "n": pl.col("new").sum(), "s": pl.col("start").sum()})
    return out.with_columns(ratio(pl.col("e") - pl.col("n"), pl.col("s")).alias("value")).drop("e", "n", "s")


def share(frame: pl.DataFrame, by: Sequence[str], *, positive_whole: bool = False) -> pl.DataFrame:
    """positive_whole: a whole of zero or below (net revenue) has no shares (NULL)."""
    whole = pl.col("value").sum().over("month") if "month" in by else pl.col("value").sum()
    if positive_whole:
        whole = pl.when(whole > 0).then(whole)
    return frame.with_columns(ratio(pl.col("value"), whole).alias("value"))


def ref_customer_share(ctx, by):
    return share(ref_active(ctx, by), by)


# --- revenue ---------------------------------------------------------------------------------


def revenue_rows(ctx):
    start, stop = ctx.filters.start_month, next_month(ctx.filters.end_month)
    rows = ctx.raw["revenue_monthly"].filter((pl.col("revenue_month") >= start) & (pl.col("revenue_month") < stop))
    return with_dims(ctx, rows).with_columns(pl.col("revenue_month").alias("month"))


def ref_revenue(ctx, by):
    return grouped(revenue_rows(ctx), by, {"value": pl.col("revenue_vnd").sum()})


def ref_arpu(ctx, by):
    return grouped(revenue_rows(ctx), by, {"value": pl.col("revenue_vnd").sum() / pl.len()})


def ref_revenue_share(ctx, by):
    return share(ref_revenue(ctx, by), by, positive_whole=True)


# --- complaints -----------------------------------------------------------------------------


def hours(later: str, earlier: str) -> pl.Expr:
    return (pl.col(later) - pl.col(earlier)).dt.total_microseconds() / 3_600_000_000


def complaints_in(ctx, column):
    start, stop = as_ts(ctx.filters.start_month), as_ts(next_month(ctx.filters.end_month))
    rows = ctx.raw["complaints"].filter((pl.col(column) >= start) & (pl.col(column) < stop))
    return with_dims(ctx, rows).with_columns(month_of(column).alias("month"))


def ref_complaint_count(ctx, by):
    return grouped(complaints_in(ctx, "opened_at"), by, {"value": pl.len()})


def ref_complaint_rate(ctx, by):
    counts = grouped(complaints_in(ctx, "opened_at"), by, {"c": pl.len()})
    base = grouped(revenue_rows(ctx), by, {"cm": pl.len()})
    joined = (
        counts.join(base, on=list(by), how="full", coalesce=True) if by else pl.concat([counts, base], how="horizontal")
    )
    joined = joined.with_columns(pl.col("c").fill_null(0), pl.col("cm").fill_null(0))
    return joined.with_columns(ratio(pl.col("c") * COMPLAINT_RATE_MONTHS, pl.col("cm")).alias("value")).drop("c", "cm")


def ref_quantile(column_of: str, later: str, earlier: str, fraction: float):
    def compute(ctx, by):
        rows = (
            complaints_in(ctx, column_of)
            .with_columns(hours(later, earlier).alias("h"))
            .filter(pl.col("h").is_not_null())
        )
        return grouped(rows, by, {"value": pl.col("h").quantile(fraction, interpolation="linear")})

    return compute


def ref_ack_share(ctx, by):
    rows = complaints_in(ctx, "opened_at").with_columns(
        (hours("acknowledged_at", "opened_at") <= ACK_TARGET_HOURS).fill_null(False).alias("ok")
    )
    return grouped(rows, by, {"value": pl.col("ok").cast(pl.Float64).mean()})


def ref_resolved_share(flag: Callable[[], pl.Expr]):
    def compute(ctx, by):
        rows = complaints_in(ctx, "resolved_at").with_columns(flag().alias("ok"))
        return grouped(rows, by, {"value": pl.col("ok").cast(pl.Float64).mean()})

    return compute


def ref_csat(ctx, by):
    rows = complaints_in(ctx, "resolved_at")
    return grouped(rows, by, {"value": pl.col("csat").cast(pl.Float64).mean()})


def open_complaints_at(ctx, by):
    def build(month):
        end = as_ts(next_month(month))
        rows = ctx.raw["complaints"].filter(
            (pl.col("opened_at") < end) & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= end))
        )
        return with_dims(ctx, rows).with_columns(
            ((pl.lit(end) - pl.col("opened_at")).dt.total_hours() // 24).alias("age_days")
        )

    return per_month(eval_months(ctx, by), build)


def ref_open(ctx, by):
    return grouped(open_complaints_at(ctx, by), by, {"value": pl.len()})


def ref_backlog(first, last):
    def compute(ctx, by):
        rows = open_complaints_at(ctx, by).filter(pl.col("age_days") >= first)
        if last is not None:
            rows = rows.filter(pl.col("age_days") <= last)
        return grouped(rows, by, {"value": pl.len()})

    return compute


# --- surveys -----------------------------------------------------------------------------------


def survey_rows(ctx):
    start, stop = ctx.filters.start_month, next_month(ctx.filters.end_month)
    rows = ctx.raw["surveys"].filter((pl.col("surveyed_on") >= start) & (pl.col("surveyed_on") < stop))
    return with_dims(ctx, rows).with_columns(month_of("surveyed_on").alias("month"))


def ref_nps(ctx, by):
    nps = (
        (pl.col("nps_score") >= 9).cast(pl.Float64).mean() - (pl.col("nps_score") <= 6).cast(pl.Float64).mean()
    ) * 100
    return grouped(survey_rows(ctx), by, {"value": nps})


def ref_survey_mean(column):
    def compute(ctx, by):
        return grouped(survey_rows(ctx), by, {"value": pl.col(column).cast(pl.Float64).mean()})

    return compute


# --- debt ----------------------------------------------------------------------------------------


def paid_as_of(day: date) -> pl.Expr:
    return pl.when(pl.col("paid_on") <= day).then(pl.col("paid_vnd")).otherwise(0)


def paid_on_time() -> pl.Expr:
    return pl.when(pl.col("paid_on") <= pl.col("due_on")).then(pl.col("paid_vnd")).otherwise(0)


def past_due_at(ctx, by):
    def build(month):
        day = last_day(month)
        rows = (
            ctx.raw["bills"]
            .filter(pl.col("due_on") < day)
            .with_columns(
                (pl.col("billed_vnd") - paid_as_of(day)).alias("unpaid"),
                (pl.lit(day) - pl.col("due_on")).dt.total_days().alias("days"),
            )
        )
        return with_dims(ctx, rows.filter(pl.col("unpaid") > 0))

    return per_month(eval_months(ctx, by), build)


def ref_debt(first=None, last=None):
    def compute(ctx, by):
        rows = past_due_at(ctx, by)
        if first is not None:
            rows = rows.filter(pl.col("days") >= first)
        if last is not None:
            rows = rows.filter(pl.col("days") <= last)
        return grouped(rows, by, {"value": pl.col("unpaid").sum()})

    return compute


def ref_collection(ctx, by):
    start, stop = ctx.filters.start_month, next_month(ctx.filters.end_month)
    rows = ctx.raw["bills"].filter((pl.col("due_on") >= start) & (pl.col("due_on") < stop))
    rows = with_dims(ctx, rows).with_columns(month_of("due_on").alias("month"), paid_on_time().alias("on_time"))
    return grouped(rows, by, {"value": pl.col("on_time").sum() / pl.col("billed_vnd").sum()})


def ref_dso(ctx, by):
    bills_ = with_dims(ctx, ctx.raw["bills"])

    def build(month):
        day = last_day(month)
        receivable = bills_.filter(pl.col("bill_month") < month).select(
            *CUSTOMER_DIMS, (pl.col("billed_vnd") - paid_as_of(day)).alias("receivable"), pl.lit(0).alias("billed")
        )
        billed = bills_.filter(pl.col("bill_month") == add_months(month, -1)).select(
            *CUSTOMER_DIMS, pl.lit(0).alias("receivable"), pl.col("billed_vnd").alias("billed")
        )
        if "month" not in by and month != ctx.filters.end_month:
            receivable = receivable.clear()
        days = (
            (next_month(month) - month).days
            if "month" in by
            else (next_month(ctx.filters.end_month) - ctx.filters.start_month).days
        )
        return pl.concat([receivable, billed], how="vertical_relaxed").with_columns(pl.lit(days).alias("days"))

    rows = per_month(ctx.months, build)
    out = grouped(
        rows, by, {"r": pl.col("receivable").sum(), "b": pl.col("billed").sum(), "days": pl.col("days").max()}
    )
    return out.with_columns((ratio(pl.col("r"), pl.col("b")) * pl.col("days")).alias("value")).drop("r", "b", "days")


def ref_frequent_debtors(ctx, by):
    def build(month):
        day = last_day(month)
        window_start = add_months(month, -(FREQUENT_DEBTOR_WINDOW_MONTHS - 1))
        late = ctx.raw["bills"].filter(
            (pl.col("due_on") >= window_start) & (pl.col("due_on") < day) & (pl.col("billed_vnd") > paid_on_time())
        )
        debtors = late.group_by("customer_id").len().filter(pl.col("len") >= FREQUENT_DEBTOR_LATE_BILLS)
        return with_dims(ctx, debtors.select("customer_id"))

    return grouped(per_month(eval_months(ctx, by), build), by, {"value": pl.len()})


# --- churn side ------------------------------------------------------------------------------------


def churn_rows(ctx):
    start, stop = ctx.filters.start_month, next_month(ctx.filters.end_month)
    rows = ctx.raw["churn_events"].filter((pl.col("churned_on") >= start) & (pl.col("churned_on") < stop))
    return with_dims(ctx, rows).with_columns(month_of("churned_on").alias("month"))


def port_in_rows(ctx):
    start, stop = ctx.filters.start_month, next_month(ctx.filters.end_month)
    return ctx.cust.filter(
        pl.col("ported_in_from").is_not_null() & (pl.col("activated_on") >= start) & (pl.col("activated_on") < stop)
    ).with_columns(month_of("activated_on").alias("month"))


def ref_port(which):
    def compute(ctx, by):
        outs = churn_rows(ctx).filter(pl.col("ported_to").is_not_null()).with_columns(pl.lit(-1).alias("sign"))
        ins = port_in_rows(ctx).with_columns(pl.lit(1).alias("sign"))
        rows = pl.concat([ins.select(*CUSTOMER_DIMS, "month", "sign"), outs.select(*CUSTOMER_DIMS, "month", "sign")])
        aggregations = {
            "port_ins": (pl.col("sign") == 1).sum(),
            "port_outs": (pl.col("sign") == -1).sum(),
            "net_port": pl.col("sign").sum(),
        }
        return grouped(rows, by, {"value": aggregations[which]})

    return compute


def ref_winback(ctx, by):
    rows = churn_rows(ctx).with_columns(
        ((pl.col("won_back_on") - pl.col("churned_on")).dt.total_days() <= WINBACK_WINDOW_DAYS)
        .fill_null(False)
        .alias("won")
    )
    return grouped(rows, by, {"value": pl.col("won").cast(pl.Float64).mean()})


def ref_uplift(ctx, by):
    start, stop = ctx.filters.start_month, next_month(ctx.filters.end_month)
    rows = ctx.raw["campaign_targets"].filter((pl.col("targeted_on") >= start) & (pl.col("targeted_on") < stop))
    rows = with_dims(ctx, rows).with_columns(month_of("targeted_on").alias("month"))
    churn = pl.col("churned_within_90d").cast(pl.Float64)
    control = churn.filter(pl.col("group_name") == "control").mean()
    contacted = churn.filter(pl.col("group_name") == "contacted").mean()
    return grouped(rows, by, {"value": control - contacted})


# --- care ------------------------------------------------------------------------------------------


def ref_care(numerator, denominator):
    def compute(ctx, by):
        start, stop = ctx.filters.start_month, next_month(ctx.filters.end_month)
        rows = ctx.raw["care_contacts_monthly"].filter(
            (pl.col("channel") == "call_centre") & (pl.col("contact_month") >= start) & (pl.col("contact_month") < stop)
        )
        rows = rows.join(ctx.raw["provinces"].select("province_code", "macro_region"), on="province_code")
        allowed = allowed_provinces(ctx.filters, ctx.scope)
        if allowed is not None:
            rows = rows.filter(pl.col("province_code").is_in(sorted(allowed)))
        if ctx.filters.regions:
            rows = rows.filter(pl.col("macro_region").is_in(list(ctx.filters.regions)))
        rows = rows.with_columns(pl.col("contact_month").alias("month"))
        return grouped(rows, by, {"value": pl.col(numerator).sum() / pl.col(denominator).sum()})

    return compute


REFERENCE: dict[str, Callable[[Context, Sequence[str]], pl.DataFrame]] = {
    "active_customers": ref_active,
    "new_customers": ref_count_flag("new"),
    "churned_customers": ref_count_flag("churned"),
    "net_adds": ref_net_adds,
    "churn_rate": ref_churn_rate("churned"),
    "churn_rate_voluntary": ref_churn_rate("voluntary"),
    "churn_rate_involuntary": ref_churn_rate("involuntary"),
    "annualised_churn": ref_churn_rate("churned", annualised=True),
    "retention_rate": ref_retention,
    "customer_share": ref_customer_share,
    "revenue": ref_revenue,
    "arpu": ref_arpu,
    "revenue_share": ref_revenue_share,
    "complaint_count": ref_complaint_count,
    "complaint_rate": ref_complaint_rate,
    "ack_time_median_h": ref_quantile("opened_at", "acknowledged_at", "opened_at", 0.5),
    "ack_time_p90_h": ref_quantile("opened_at", "acknowledged_at", "opened_at", 0.9),
    "ack_within_48h_share": ref_ack_share,
    "resolve_time_median_h": ref_quantile("resolved_at", "resolved_at", "opened_at", 0.5),
    "resolve_time_p90_h": ref_quantile("resolved_at", "resolved_at", "opened_at", 0.9),
    "sla_share": ref_resolved_share(lambda: hours("resolved_at", "opened_at") <= pl.col("sla_hours")),
    "first_contact_resolution": ref_resolved_share(lambda: pl.col("resolved_first_contact")),
    "reopened_rate": ref_resolved_share(lambda: pl.col("reopened")),
    "csat": ref_csat,
    "open_complaints": ref_open,
    **{
        (f"backlog_{first}d_plus" if last is None else f"backlog_{first}_{last}d"): ref_backlog(first, last)
        for _, first, last in BACKLOG_AGE_BUCKETS
    },
    "nps": ref_nps,
    "survey_csat": ref_survey_mean("csat_score"),
    "survey_network_quality": ref_survey_mean("network_quality_score"),
    "survey_procedure_speed": ref_survey_mean("procedure_speed_score"),
    "survey_staff_attitude": ref_survey_mean("staff_attitude_score"),
    "survey_price": ref_survey_mean("price_score"),
    "outstanding_debt": ref_debt(),
    **{
        (f"debt_{first - 1}_plus" if last is None else f"debt_{label.replace('-', '_')}"): ref_debt(first, last)
        for label, first, last in DEBT_AGE_BUCKETS
    },
    "collection_rate": ref_collection,
    "dso": ref_dso,
    "frequent_debtors": ref_frequent_debtors,
    "port_outs": ref_port("port_outs"),
    "port_ins": ref_port("port_ins"),
    "net_port": ref_port("net_port"),
    "winback_rate": ref_winback,
    "campaign_uplift": ref_uplift,
    "call_answer_rate": ref_care("answered_within_60s", "contacts_offered"),
    "avg_handle_time": ref_care("handle_time_s_total", "contacts_handled"),
}


def reference_value(raw, name: str, filters: Filters, scope: Scope, by: Sequence[str]) -> pl.DataFrame:
    """[*by, value] computed in Polars (0/0 is NULL, as in SQL)."""
    ctx = make_context(raw, filters, scope)
    return REFERENCE[name](ctx, by).select(*by, pl.col("value").cast(pl.Float64).fill_nan(None))
