"""The customer drill-down list (opened on demand on the Customers page, so no page render
runs it): the count and the first page of 50, as the paged list asks for them, timed cold
and warm like a page (bench.timing).

Three cases: a province and a segment over the last month of data (the default period,
read from mart_customer_list), and a province over a year ending a year earlier (ranked
from the raw revenue rows: the mart holds the last month only).
"""

from datetime import date

from bench.config import END_MONTH
from bench.timing import cold, warm
from dashboard.charts.paged_list import count_select, page_select
from queries.customers import customer_list_select, ranked_month_select
from queries.engine import make_engine
from queries.filters import Filters, Scope, add_months
from queries.run import run

YEAR_BEFORE = add_months(END_MONTH, -12)
LIST_CASES: tuple[tuple[str, Filters, dict[str, str]], ...] = (
    ("province 01, last month", Filters(END_MONTH, END_MONTH), {"province_code": "01"}),
    ("segment individual, last month", Filters(END_MONTH, END_MONTH), {"segment": "individual"}),
    ("province 01, a year earlier", Filters(add_months(YEAR_BEFORE, -11), YEAR_BEFORE), {"province_code": "01"}),
)


def ranked_month(url: str) -> date | None:
    engine = make_engine(url, read_only=True)
    try:
        frame = run(ranked_month_select(), engine)
    finally:
        engine.dispose()
    return frame["month"][0] if frame.height else None


def measure_lists(url: str, repeats: int, log=print) -> list[dict]:
    ranked = ranked_month(url)
    results = []
    for label, filters, choice in LIST_CASES:
        query = customer_list_select(filters, Scope(), ranked_month=ranked, **choice)
        selects = [count_select(query), page_select(query, 1)]
        cold_timing = cold(url, selects, repeats)
        warm_timing, _ = warm(url, selects, repeats)
        results.append({"case": label, "cold": cold_timing.as_dict(), "warm": warm_timing.as_dict()})
        log(f"  customer list  {label:<32} cold p95 {cold_timing.p95:6.3f} s  warm p95 {warm_timing.p95:6.3f} s")
    return results
