"""The KPI numbers the Overview shows equal an independent computation from the warehouse.

The independent side reads the raw tables into Polars and applies the KPI
definitions (docs/measures.md) directly (no measure_select, no queries/ code). Two checks per card:
- the rendered value and delta strings equal the independent numbers formatted the same way;
- the card's sparkline carries exact numbers: the KPI for each of the last 12 months.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.charts.components import card_value
from dashboard.text.formatting import format_delta
from queries.engine import duckdb_path
from queries.filters import AGE_BANDS, Filters, add_months
from tests.conftest import log_in

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
KPIS = (  # name, unit, as the Overview orders them
    ("active_customers", "count"),
    ("net_adds", "count"),
    ("churn_rate", "percent"),
    ("arpu", "vnd"),
    ("revenue", "vnd"),
    ("outstanding_debt", "vnd"),
    ("open_complaints", "count"),
    ("sla_share", "percent"),
    ("nps", "points"),
)


@dataclass(frozen=True)
class Case:
    params: dict
    filters: Filters
    lang: str


CASES = {
    "country_last_month_vi": Case({}, Filters(date(2026, 10, 1), date(2026, 10, 1)), "vi"),
    "two_cities_individual_prepaid_h1_vs_last_year_en": Case(
        {
            "from": "2026-04",
            "to": "2026-09",
            "cmp": "last_year",
            "province": "01,79",
            "segment": "individual",
            "plan": "prepaid",
            "lang": "en",
        },
        Filters(
            date(2026, 4, 1),
            date(2026, 9, 1),
            "last_year",
            provinces=("01", "79"),
            segments=("individual",),
            plans=("prepaid",),
        ),
        "en",
    ),  # fmt: skip
    "centre_25_34_august_vi": Case(
        {"from": "2026-08", "to": "2026-08", "region": "trung", "age": "25-34,35-44"},
        Filters(date(2026, 8, 1), date(2026, 8, 1), regions=("Trung",), age_bands=("25-34", "35-44")),
        "vi",
    ),
}


@pytest.fixture(scope="module")
def raw(duck_url) -> dict[str, pl.DataFrame]:
    """The raw tables the KPIs come from (the test warehouse is small: 20,000 customers)."""
    with duckdb.connect(str(duckdb_path(duck_url)), read_only=True) as connection:
        return {
            name: pl.from_arrow(connection.sql(f"select * from {name}").to_arrow_table())  # our table names
            for name in ("customers", "provinces", "revenue_monthly", "bills", "complaints", "surveys")
        }


def chosen_customers(raw: dict[str, pl.DataFrame], filters: Filters, age_year: int) -> pl.DataFrame:
    customers = raw["customers"]
    if filters.regions:
        codes = raw["provinces"].filter(pl.col("macro_region").is_in(filters.regions))["province_code"]
        customers = customers.filter(pl.col("province_code").is_in(codes.implode()))
    for column, values in (
        ("province_code", filters.provinces),
        ("segment", filters.segments),
        ("plan", filters.plans),
        ("area_type", filters.area_types),
    ):
        if values:
            customers = customers.filter(pl.col(column).is_in(values))
    if filters.age_bands:
        age = age_year - pl.col("birth_year")
        bands = [age.is_between(low, high) for label, low, high in AGE_BANDS if label in filters.age_bands]
        customers = customers.filter(pl.any_horizontal(bands))
    return customers


def active_at_start(customers: pl.DataFrame, month: date) -> int:
    return customers.filter(
        (pl.col("activated_on") < month) & (pl.col("churned_on").is_null() | (pl.col("churned_on") >= month))
    ).height


def independent(raw: dict[str, pl.DataFrame], filters: Filters, age_year: int | None = None) -> dict[str, float | None]:
    """The nine KPIs for filters. Age bands read against age_year (default: the end month's
    year; a 12-month trend keeps the year of the period it belongs to)."""
    customers = chosen_customers(raw, filters, age_year or filters.end_month.year)
    ids = customers["customer_id"].implode()
    start, stop = filters.start_month, add_months(filters.end_month, 1)
    last_day = stop - timedelta(days=1)
    start_ts, stop_ts = datetime(start.year, start.month, 1), datetime(stop.year, stop.month, 1)
    months = [add_months(start, offset) for offset in range(filters.month_count)]

    churned = sum(
        customers.filter(pl.col("churned_on").is_between(month, add_months(month, 1), closed="left")).height
        for month in months
    )
    base = sum(active_at_start(customers, month) for month in months)
    new = customers.filter(pl.col("activated_on").is_between(start, stop, closed="left")).height
    churned_in_period = customers.filter(pl.col("churned_on").is_between(start, stop, closed="left")).height

    revenue = raw["revenue_monthly"].filter(
        pl.col("customer_id").is_in(ids) & pl.col("revenue_month").is_between(start, stop, closed="left")
    )
    bills = raw["bills"].filter(pl.col("customer_id").is_in(ids) & (pl.col("due_on") < last_day))
    paid_by_then = pl.when(pl.col("paid_on") <= last_day).then(pl.col("paid_vnd")).otherwise(0)
    debt = bills.select((pl.col("billed_vnd") - paid_by_then).sum()).item()

    complaints = raw["complaints"].filter(pl.col("customer_id").is_in(ids))
    open_complaints = complaints.filter(
        (pl.col("opened_at") < stop_ts) & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= stop_ts))
    ).height
    resolved = complaints.filter(pl.col("resolved_at").is_between(start_ts, stop_ts, closed="left"))
    hours = (pl.col("resolved_at") - pl.col("opened_at")).dt.total_seconds() / 3600
    within_sla = resolved.filter(hours <= pl.col("sla_hours")).height

    surveys = raw["surveys"].filter(
        pl.col("customer_id").is_in(ids) & pl.col("surveyed_on").is_between(start, stop, closed="left")
    )
    promoters = surveys.filter(pl.col("nps_score") >= 9).height
    detractors = surveys.filter(pl.col("nps_score") <= 6).height

    return {
        "active_customers": float(active_at_start(customers, stop)),
        "net_adds": float(new - churned_in_period),
        "churn_rate": churned / base if base else None,
        "arpu": revenue["revenue_vnd"].sum() / revenue.height if revenue.height else None,
        "revenue": float(revenue["revenue_vnd"].sum()),
        "outstanding_debt": float(debt or 0),
        "open_complaints": float(open_complaints),
        "sla_share": within_sla / resolved.height if resolved.height else None,
        "nps": 100.0 * (promoters - detractors) / surveys.height if surveys.height else None,
    }


def single_month(filters: Filters, month: date) -> Filters:
    return Filters(month, month, filters.comparison, *(getattr(filters, name) for name in FILTER_LISTS))


FILTER_LISTS = ("regions", "provinces", "segments", "age_bands", "plans", "area_types")


@pytest.mark.parametrize("name", list(CASES))
def test_overview_kpis_equal_an_independent_computation(duck_url, raw, monkeypatch, demo_users, name):
    case = CASES[name]
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update(case.params)
    log_in(app, "executive").run()  # every province: the independent computation has no scope
    assert not app.exception, [item.value for item in app.exception]
    assert app.session_state["_view"].filters == case.filters

    current = independent(raw, case.filters)
    previous = independent(raw, case.filters.comparison_filters())
    # The 12 months ending with the period's end month (all inside the test data).
    end = case.filters.end_month
    monthly = [
        independent(raw, single_month(case.filters, add_months(end, -back)), end.year) for back in range(11, -1, -1)
    ]
    assert current["active_customers"] > 0, "the case must select customers"

    metrics = list(app.metric)
    assert len(metrics) == len(KPIS)
    for metric, (kpi, unit) in zip(metrics, KPIS, strict=True):
        assert metric.value == card_value(current[kpi], unit, case.lang), kpi
        # Net adds is a difference of two flows: its change is shown in customers, not in %.
        expected_delta = format_delta(current[kpi], previous[kpi], unit, case.lang, relative=kpi != "net_adds")
        assert metric.delta == (expected_delta or ""), kpi
        # The sparkline: every month with a value, oldest first (a month without any resolved
        # complaint or survey has no rate and is left out).
        expected = [month[kpi] for month in monthly if month[kpi] is not None]
        assert list(metric.proto.chart_data) == pytest.approx(expected, rel=1e-9, abs=1e-9), kpi
