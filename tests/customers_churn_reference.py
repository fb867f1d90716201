"""Independent Polars computations of what the Customers and Churn pages show (tests only).

Written from the definitions (docs/domain.md, queries/rules.py, the docstrings of
queries/customers.py and queries/churn.py), not from their SQL: whole raw tables in
Polars, loops over months, plain filters. Registry measures come from
tests/measure_reference.py (itself independent of the query layer). Everything here
returns plain Polars frames with raw values, compared with the page data within a
relative 1e-9.
"""

import math
from datetime import date

import polars as pl
from sqlalchemy import create_engine, select

from queries.filters import Filters, Scope, add_months
from queries.rules import TENURE_BANDS, TOP_REVENUE_SHARE, TOP_REVENUE_WINDOW_MONTHS
from queries.run import run
from queries.tables import port_out_requests
from tests.measure_reference import (
    active_end,
    load_raw,
    make_context,
    next_month,
    reference_value,
)

TOLERANCE = 1e-9
SERVICE_FLAGS = {
    "mobile": "has_mobile",
    "home_internet": "has_home_internet",
    "tv": "has_tv",
    "enterprise_solutions": "has_enterprise_solutions",
}
_EXTRA: dict[str, pl.DataFrame] = {}


def raw_tables(url: str) -> dict[str, pl.DataFrame]:
    """measure_reference's raw tables plus port_out_requests."""
    raw = dict(load_raw(url))
    if url not in _EXTRA:
        engine = create_engine(url)
        with engine.connect() as connection:
            _EXTRA[url] = run(select(port_out_requests), connection)
        engine.dispose()
    raw["port_out_requests"] = _EXTRA[url]
    return raw


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_index_expr(column: str) -> pl.Expr:
    return pl.col(column).dt.year().cast(pl.Int64) * 12 + pl.col(column).dt.month().cast(pl.Int64) - 1


def tenure_label(months: int) -> str:
    for label, low, high in TENURE_BANDS:
        if months >= low and (high is None or months <= high):
            return label
    raise AssertionError(f"no band for {months}")


def registry(raw, name: str, filters: Filters, scope: Scope, by=()) -> pl.DataFrame:
    return reference_value(raw, name, filters, scope, by)


def registry_total(raw, name: str, filters: Filters, scope: Scope) -> float | None:
    frame = registry(raw, name, filters, scope)
    return frame["value"][0] if frame.height else None


def as_dict(frame: pl.DataFrame, key: str, value: str = "value") -> dict:
    return dict(zip(frame[key].to_list(), frame[value].to_list(), strict=True))


# --- customers ------------------------------------------------------------------------------------


def active_customers_at_end(raw, filters: Filters, scope: Scope) -> pl.DataFrame:
    return make_context(raw, filters, scope).cust.filter(active_end(filters.end_month))


def mix(raw, filters: Filters, scope: Scope, dimension: str) -> dict[str, tuple[float, float]]:
    """{member: (customers, share)} at the period end."""
    active = active_customers_at_end(raw, filters, scope)
    total = active.height
    if dimension == "services":
        counts = {member: float(active[flag].sum()) for member, flag in SERVICE_FLAGS.items()}
    elif dimension == "tenure_band":
        end = month_index(filters.end_month)
        tenure = (pl.lit(end) - month_index_expr("activated_on")).alias("tenure")
        labels = [tenure_label(value) for value in active.select(tenure)["tenure"].to_list()]
        counts = {}
        for label in labels:
            counts[label] = counts.get(label, 0.0) + 1.0
    else:
        grouped = active.group_by(dimension).len()
        counts = {row[dimension]: float(row["len"]) for row in grouped.iter_rows(named=True)}
    return {member: (count, count / total if total else None) for member, count in counts.items()}


def revenue_in(raw, filters: Filters, scope: Scope) -> pl.DataFrame:
    start, stop = filters.start_month, next_month(filters.end_month)
    rows = raw["revenue_monthly"].filter((pl.col("revenue_month") >= start) & (pl.col("revenue_month") < stop))
    cust = make_context(raw, filters, scope).cust
    return rows.join(cust.select("customer_id", "segment", "plan", "age_band", "province_code"), on="customer_id")


def segment_value(raw, filters: Filters, scope: Scope) -> dict[str, dict]:
    counts = mix(raw, filters, scope, "segment")
    revenue = revenue_in(raw, filters, scope)
    total_revenue = float(revenue["revenue_vnd"].sum())
    by_segment = revenue.group_by("segment").agg(pl.col("revenue_vnd").sum().alias("revenue"), pl.len().alias("cm"))
    out = {}
    for segment in set(counts) | set(by_segment["segment"].to_list()):
        rows = by_segment.filter(pl.col("segment") == segment)
        amount = float(rows["revenue"][0]) if rows.height else 0.0
        months = float(rows["cm"][0]) if rows.height else 0.0
        out[segment] = {
            "customers": counts.get(segment, (0.0, None))[0],
            "customer_share": counts.get(segment, (None, None))[1],
            "revenue": amount,
            "revenue_share": amount / total_revenue if total_revenue > 0 else None,  # net: may be ≤ 0
            "arpu": amount / months if months else None,
        }
    return out


def arpu_by(raw, filters: Filters, scope: Scope, dimension: str) -> dict[str, float]:
    revenue = revenue_in(raw, filters, scope)
    grouped = revenue.group_by(dimension).agg((pl.col("revenue_vnd").sum() / pl.len()).alias("arpu"))
    return {row[dimension]: row["arpu"] for row in grouped.iter_rows(named=True) if row[dimension] is not None}


def revenue_12m(raw, filters: Filters) -> pl.DataFrame:
    stop = next_month(filters.end_month)
    start = add_months(stop, -TOP_REVENUE_WINDOW_MONTHS)
    rows = raw["revenue_monthly"].filter((pl.col("revenue_month") >= start) & (pl.col("revenue_month") < stop))
    return rows.group_by("customer_id").agg(pl.col("revenue_vnd").sum().cast(pl.Float64).alias("revenue_12m"))


def big_customers(raw, filters: Filters, scope: Scope, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """[*by, key_accounts, top_revenue, big_customers, big_revenue_12m, revenue_12m]. The top
    revenue group is ranked over every customer active at the end (no filter, no scope),
    then the customers in view are counted."""
    everyone = Filters(filters.start_month, filters.end_month)
    ranked = active_customers_at_end(raw, everyone, Scope()).join(
        revenue_12m(raw, filters), on="customer_id", how="left"
    )
    ranked = ranked.with_columns(pl.col("revenue_12m").fill_null(0.0))
    n = ranked.height
    # cume_dist over revenue descending: rows with revenue ≥ this one, over all rows
    at_least = pl.col("revenue_12m").rank(method="max", descending=True).cast(pl.Float64)
    ranked = ranked.with_columns(
        (at_least / n <= TOP_REVENUE_SHARE).alias("top") if n else pl.lit(False).alias("top"),
        pl.col("is_key_account").alias("key"),
    ).with_columns((pl.col("top") | pl.col("key")).alias("big"))
    in_view = active_customers_at_end(raw, filters, scope).select("customer_id")
    active = ranked.join(in_view, on="customer_id", how="semi")
    aggregations = [
        pl.col("key").cast(pl.Float64).sum().alias("key_accounts"),
        pl.col("top").cast(pl.Float64).sum().alias("top_revenue"),
        pl.col("big").cast(pl.Float64).sum().alias("big_customers"),
        pl.when(pl.col("big")).then(pl.col("revenue_12m")).otherwise(0.0).sum().alias("big_revenue_12m"),
        pl.col("revenue_12m").sum().alias("revenue_12m"),
    ]
    if by:
        return active.group_by(list(by)).agg(aggregations).sort(list(by))
    return active.select(aggregations)


def key_accounts_trend(raw, filters: Filters, scope: Scope, months: int) -> dict[date, float]:
    cust = make_context(raw, filters, scope).cust.filter(pl.col("is_key_account"))
    out = {}
    for offset in range(-(months - 1), 1):
        month = add_months(filters.end_month, offset)
        out[month] = float(cust.filter(active_end(month)).height)
    return out


def customer_list(raw, filters: Filters, scope: Scope, province: str | None = None, segment: str | None = None):
    """[customer_key, full_name, phone, segment, province_code, plan, activated_on, status,
    revenue_12m]: customers active at some time in the period, biggest revenue first, then id
    (the list shows the operator's key; the warehouse's id only orders ties)."""
    start, stop = filters.start_month, next_month(filters.end_month)
    cust = make_context(raw, filters, scope).cust.filter(
        (pl.col("activated_on") < stop) & (pl.col("churned_on").is_null() | (pl.col("churned_on") >= start))
    )
    if province is not None:
        cust = cust.filter(pl.col("province_code") == province)
    if segment is not None:
        cust = cust.filter(pl.col("segment") == segment)
    cust = cust.join(revenue_12m(raw, filters), on="customer_id", how="left").with_columns(
        pl.col("revenue_12m").fill_null(0.0),
        pl.when(pl.col("churned_on") < stop).then(pl.lit("churned")).otherwise(pl.lit("active")).alias("status"),
    )
    return cust.sort(["revenue_12m", "customer_id"], descending=[True, False]).select(
        "customer_key",
        "full_name",
        "phone",
        "segment",
        "province_code",
        "plan",
        "activated_on",
        "status",
        "revenue_12m",
    )


# --- churn ------------------------------------------------------------------------------------------


def period_months(filters: Filters) -> list[date]:
    return [add_months(filters.start_month, offset) for offset in range(filters.month_count)]


def churn_by_tenure(raw, filters: Filters, scope: Scope) -> dict[str, tuple[float, float]]:
    """{band: (churned, active at month start)} summed over the months of the period."""
    cust = make_context(raw, filters, scope).cust
    totals: dict[str, list[float]] = {}
    for month in period_months(filters):
        after = next_month(month)
        rows = cust.filter(
            (pl.col("activated_on") < after) & (pl.col("churned_on").is_null() | (pl.col("churned_on") >= month))
        ).select(
            (pl.lit(month_index(month)) - month_index_expr("activated_on")).alias("tenure"),
            (pl.col("activated_on") < month).alias("start"),
            (pl.col("churned_on") < after).fill_null(False).alias("churned"),
        )
        for tenure, start, churned in rows.iter_rows():
            band = totals.setdefault(tenure_label(tenure), [0.0, 0.0])
            band[0] += float(churned)
            band[1] += float(start)
    return {band: (values[0], values[1]) for band, values in totals.items()}


def cohorts(raw, filters: Filters, scope: Scope, months: int, by: str | None = None) -> dict[tuple, tuple]:
    """{(cohort or by-member, months_after): (customers, active)}: customers activated in month
    C still active at the end of C+N (C in the `months` months ending with the period end)."""
    first = add_months(filters.end_month, -(months - 1))
    stop = next_month(filters.end_month)
    cust = make_context(raw, filters, scope).cust.filter(
        (pl.col("activated_on") >= first) & (pl.col("activated_on") < stop)
    )
    out: dict[tuple, list[float]] = {}
    rows = cust.select(
        pl.col("activated_on").dt.truncate("1mo").cast(pl.Date).alias("cohort"),
        "churned_on",
        pl.col(by) if by else pl.lit(None).alias("_"),
    ).rows()
    for cohort, churned_on, member in rows:
        after = 0
        while add_months(cohort, after) <= filters.end_month:
            boundary = add_months(cohort, after + 1)
            key = (member if by else cohort, after)
            cell = out.setdefault(key, [0.0, 0.0])
            cell[0] += 1
            cell[1] += 1.0 if churned_on is None or churned_on >= boundary else 0.0
            after += 1
    return {key: (values[0], values[1]) for key, values in out.items()}


def kaplan_meier(raw, filters: Filters, scope: Scope, months: int, by: str) -> dict[tuple, float]:
    """{(by-member, N): Kaplan–Meier survival}: customers activated in the `months` months
    ending with the period end, each followed from their activation month until the month
    they left (an event at that age) or until the period end (censored: still there).
    S(N) = Π over k ≤ N of (1 − left at age k ÷ followed at age k)."""
    first = add_months(filters.end_month, -(months - 1))
    end = month_index(filters.end_month)
    cust = make_context(raw, filters, scope).cust.filter(
        (pl.col("activated_on") >= first) & (pl.col("activated_on") < next_month(filters.end_month))
    )
    lives: dict[object, list[tuple[int, bool]]] = {}  # member -> (last age followed, left at it)
    for activated_on, churned_on, member in cust.select("activated_on", "churned_on", by).rows():
        cohort = month_index(activated_on)
        if churned_on is not None and month_index(churned_on) <= end:
            lives.setdefault(member, []).append((month_index(churned_on) - cohort, True))
        else:
            lives.setdefault(member, []).append((end - cohort, False))
    curves: dict[tuple, float] = {}
    for member, followed in lives.items():
        survival = 1.0
        for age in range(max(last for last, _ in followed) + 1):
            at_risk = sum(1 for last, _ in followed if last >= age)
            left = sum(1 for last, event in followed if event and last == age)
            survival *= 1.0 - left / at_risk
            curves[(member, age)] = survival
    return curves


def churn_events_in(raw, filters: Filters, scope: Scope) -> pl.DataFrame:
    start, stop = filters.start_month, next_month(filters.end_month)
    cust = make_context(raw, filters, scope).cust
    events = raw["churn_events"].filter((pl.col("churned_on") >= start) & (pl.col("churned_on") < stop))
    return events.join(cust.select("customer_id", "segment", "macro_region"), on="customer_id")


def reasons(raw, filters: Filters, scope: Scope) -> dict[tuple[str, str], tuple[float, float]]:
    events = churn_events_in(raw, filters, scope)
    total = events.height
    grouped = events.group_by("churn_type", "reason").len()
    return {
        (row["churn_type"], row["reason"]): (float(row["len"]), row["len"] / total)
        for row in grouped.iter_rows(named=True)
    }


def port_outs_by(raw, filters: Filters, scope: Scope, by: str) -> dict[tuple[str, str], float]:
    """{(by member, competitor): port-outs in the period}; by: segment, macro_region or month."""
    events = churn_events_in(raw, filters, scope).filter(pl.col("ported_to").is_not_null())
    events = events.with_columns(pl.col("churned_on").dt.truncate("1mo").cast(pl.Date).alias("month"))
    grouped = events.group_by(by, "ported_to").len()
    return {(row[by], row["ported_to"]): float(row["len"]) for row in grouped.iter_rows(named=True)}


def port_ins_by_competitor(raw, filters: Filters, scope: Scope) -> dict[str, float]:
    start, stop = filters.start_month, next_month(filters.end_month)
    cust = make_context(raw, filters, scope).cust.filter(
        pl.col("ported_in_from").is_not_null() & (pl.col("activated_on") >= start) & (pl.col("activated_on") < stop)
    )
    grouped = cust.group_by("ported_in_from").len()
    return {row["ported_in_from"]: float(row["len"]) for row in grouped.iter_rows(named=True)}


def involuntary_share(raw, filters: Filters, scope: Scope) -> float | None:
    events = churn_events_in(raw, filters, scope)
    return ratio_value(events.filter(pl.col("churn_type") == "involuntary").height, events.height)


def involuntary_share_by_month(raw, filters: Filters, scope: Scope) -> dict[date, float | None]:
    """Per month of the period; the customers (age bands) as of the period, like every breakdown."""
    events = churn_events_in(raw, filters, scope).with_columns(
        pl.col("churned_on").dt.truncate("1mo").cast(pl.Date).alias("month")
    )
    out = {}
    for month in period_months(filters):
        rows = events.filter(pl.col("month") == month)
        out[month] = ratio_value(rows.filter(pl.col("churn_type") == "involuntary").height, rows.height)
    return out


def port_requests(raw, filters: Filters, scope: Scope, by_month: bool = False):
    """(requests, refused) in the period, or {month: (requests, refused)}."""
    start, stop = filters.start_month, next_month(filters.end_month)
    cust = make_context(raw, filters, scope).cust.select("customer_id")
    rows = (
        raw["port_out_requests"]
        .filter((pl.col("requested_on") >= start) & (pl.col("requested_on") < stop))
        .join(cust, on="customer_id")
        .with_columns(pl.col("requested_on").dt.truncate("1mo").cast(pl.Date).alias("month"))
    )
    if not by_month:
        return float(rows.height), float((rows["outcome"] == "refused_debt").sum())
    grouped = rows.group_by("month").agg(pl.len().alias("n"), (pl.col("outcome") == "refused_debt").sum().alias("r"))
    return {row["month"]: (float(row["n"]), float(row["r"])) for row in grouped.iter_rows(named=True)}


def ratio_value(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def churn_target(raw, filters: Filters, scope: Scope, month: date) -> float | None:
    """The churn-rate target of one month (queries.metrics.target_select's rules, from kpi_targets)."""
    from queries.filters import allowed_provinces

    if filters.segments or filters.age_bands or filters.plans or filters.area_types:
        return None
    targets = raw["kpi_targets"].filter((pl.col("measure") == "churn_rate") & (pl.col("target_month") == month))
    allowed = allowed_provinces(filters, scope)
    if allowed is None and not filters.regions:
        rows = targets.filter(pl.col("province_code") == "00")
    else:
        codes = raw["provinces"]
        if filters.regions:
            codes = codes.filter(pl.col("macro_region").is_in(list(filters.regions)))
        if allowed is not None:
            codes = codes.filter(pl.col("province_code").is_in(sorted(allowed)))
        rows = targets.filter(pl.col("province_code").is_in(codes["province_code"].to_list()))
    return float(rows["target_value"].mean()) if rows.height else None
