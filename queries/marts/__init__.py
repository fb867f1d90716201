"""Marts: pre-aggregated (or pre-joined) tables built from the raw tables by the refresh
step (data_seed/refresh.py runs the builders of data_seed/mart_builds.py), so the measures
answer without scanning the raw facts.

The raw tables stay the source of truth: every mart is a pure function of them, rebuilt
inside every load and import (all or nothing, with the raw data) and by
`python -m data_seed refresh`; tests/queries/test_marts.py proves each measure answered from the
marts equals the same measure computed from the raw tables. Marts live in their own
MetaData (`mart_metadata`): the importer, the data contracts and docs/schema.md describe
only what an operator supplies.

| mart | one row per | answers |
|---|---|---|
| mart_customer_month (+ _rollup) | month × customer group | actives, new, churn (rates, by type), |
| | | retention, revenue, ARPU, port-ins/outs, win-back, campaign uplift |
| mart_port_outs | month × customer group × competitor | port-outs by competitor |
| mart_complaints | complaint | every complaint measure (exact medians and p90) |
| mart_open_complaints | complaint × month end it was open at | open complaints, backlog ageing |
| mart_surveys | survey response | NPS, CSAT and aspect scores |
| mart_debt_month (+ _rollup) | month × customer group × days-past-due bucket | outstanding debt and its ageing |
| mart_bills_month (+ _rollup) | month × customer group | collection rate, DSO, frequent debtors |
| mart_big_customers (+ _rollup) | month × customer group × key account × top revenue | big customers, |
| | | key accounts and their 12-month revenue |
| mart_customer_cohorts (+ _rollup) | activation month × month left × customer group | tenure mix, churn by |
| | | tenure, cohort retention, survival curves |
| mart_debtors | month × customer: frequent debtors and organisations owing at its end | frequent-debtor |
| | | summary and list, largest organisation debtors |
| mart_block_events | bill × block stage reached | the block pipeline over a period |
| mart_block_month (+ _rollup) | month × customer group × block stage | the block pipeline by month |
| mart_churn_events | churn event | why customers left, the review's churn mix |
| mart_campaign_targets | campaign target | campaign uplift by campaign, offer, segment |
| mart_port_out_requests | port-out request | requests refused for unpaid bills |
| mart_customer_list | customer | the drill-down customer list, ranked by revenue over the 12 months |
| | | ending with the last month of data |

A customer group is province_code, segment, plan, area_type and birth_year, copied from
the customer (the age band depends on the period's end year, so it is derived at query
time from birth_year exactly as for raw customers). The *_rollup marts drop birth_year
and are read when no age band is filtered or broken down (40× fewer rows at 10 M
customers). Nothing is approximated: counts and sums add up, and the percentiles are
taken over one row per complaint, as on the raw table (complaints are ~0.2 % of the
rows, so this stays small and fast).

Months covered: customer marts from the month of the first activation, debt marts from
the first bill, complaint marts from the first complaint, up to the last month of data
(warehouse_meta.data_through): every month the dashboard can ask for. A month after
data_through reads as empty (no page asks for the future).

One module per mart family holds its tables and the selects that read them (base.py: the
MetaData, the switch and the column helpers; reading.py: what every read shares). Each
read returns the same columns as the raw facts select it stands in for (named in its
docstring), so the measure builders keep their one `summarise()` step and their formulas:
a raw fact row is one event with 0/1 flags, a mart row is a group of events with the flags
already summed, and every aggregate the builders apply to these columns is a sum. Which
groups appear must match too: a raw facts list has a row only where an event exists, so
each read keeps only the mart rows that hold such an event.

Whether a select is answered from a mart is declared once, on the raw select, with
`answered_from_mart(twin)` (the twins are the reads in the family modules here); the raw select stays
the definition and the test oracle. `use_marts(False)` makes every measure read the raw
tables again: for tests and the benchmark only (a process-wide switch, because Streamlit
runs pages in other threads).
"""

from sqlalchemy import Column, MetaData, Table, Text

from queries.marts.base import MART_ANSWERS, answered_from_mart, mart_metadata, marts_enabled, use_marts
from queries.marts.complaints import mart_complaints, mart_open_complaints
from queries.marts.customer_month import mart_customer_month, mart_customer_month_rollup, mart_port_outs
from queries.marts.customers import (
    LISTED_CUSTOMER_COLUMNS,
    mart_big_customers,
    mart_big_customers_rollup,
    mart_customer_cohorts,
    mart_customer_cohorts_rollup,
    mart_customer_list,
)
from queries.marts.debt import (
    mart_bills_month,
    mart_bills_month_rollup,
    mart_block_events,
    mart_block_month,
    mart_block_month_rollup,
    mart_debt_month,
    mart_debt_month_rollup,
    mart_debtors,
)
from queries.marts.events import mart_campaign_targets, mart_churn_events, mart_port_out_requests
from queries.marts.surveys import mart_surveys

ROLLUPS: dict[str, Table] = {  # fine mart name -> its rollup
    mart_customer_month.name: mart_customer_month_rollup,
    mart_debt_month.name: mart_debt_month_rollup,
    mart_bills_month.name: mart_bills_month_rollup,
    mart_big_customers.name: mart_big_customers_rollup,
    mart_customer_cohorts.name: mart_customer_cohorts_rollup,
    mart_block_month.name: mart_block_month_rollup,
}

MART_TABLES: tuple[Table, ...] = tuple(mart_metadata.sorted_tables)  # the marts the measures read

# What the refresh step knows about the marts (kept apart from warehouse_meta, which
# describes the load): marts_through (ISO date of the last month covered),
# marts_data_version (the warehouse_meta.data_version they were built from),
# marts_refreshed_at (ISO timestamp, Asia/Ho_Chi_Minh).
mart_refresh = Table(
    "mart_refresh",
    MetaData(),
    Column("key", Text, primary_key=True, doc="marts_through, marts_data_version or marts_refreshed_at"),
    Column("value", Text, nullable=False, doc="Value as text"),
)

STORED_TABLES: tuple[Table, ...] = (*MART_TABLES, mart_refresh)  # created and swapped by the loader

__all__ = [
    "LISTED_CUSTOMER_COLUMNS",
    "MART_ANSWERS",
    "MART_TABLES",
    "ROLLUPS",
    "STORED_TABLES",
    "answered_from_mart",
    "mart_big_customers",
    "mart_big_customers_rollup",
    "mart_bills_month",
    "mart_bills_month_rollup",
    "mart_block_events",
    "mart_block_month",
    "mart_block_month_rollup",
    "mart_campaign_targets",
    "mart_churn_events",
    "mart_complaints",
    "mart_customer_cohorts",
    "mart_customer_cohorts_rollup",
    "mart_customer_list",
    "mart_customer_month",
    "mart_customer_month_rollup",
    "mart_debt_month",
    "mart_debt_month_rollup",
    "mart_debtors",
    "mart_metadata",
    "mart_open_complaints",
    "mart_port_out_requests",
    "mart_port_outs",
    "mart_refresh",
    "mart_surveys",
    "marts_enabled",
    "use_marts",
]
