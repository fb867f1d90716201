"""Marts: pre-aggregated (or pre-joined) tables built from the raw tables by the refresh
step (data_seed/refresh.py runs the builders of data_seed/mart_builds.py), so the measures
answer without scanning the raw facts.

The raw tables stay the source of truth: every mart is a pure function of them, rebuilt
inside every load and import (all or nothing, with the raw data) and by
`python -m data_seed refresh`; tests/test_marts.py proves each measure answered from the
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

Whether a select is answered from a mart is declared once, on the raw select, with
`answered_from_mart(twin)` (the twins are in queries/mart_facts.py); the raw select stays
the definition and the test oracle. `use_marts(False)` makes every measure read the raw
tables again: for tests and the benchmark only (a process-wide switch, because Streamlit
runs pages in other threads).
"""

import functools
from collections.abc import Callable, Sequence

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

from queries.tables import campaign_targets, churn_events, complaints, customers, port_out_requests, surveys

mart_metadata = MetaData()

_enabled = True


def use_marts(enabled: bool) -> None:
    """Answer measures from the marts (default) or from the raw tables (tests, benchmark)."""
    global _enabled
    _enabled = bool(enabled)


def marts_enabled() -> bool:
    return _enabled


# Every raw facts select that a mart also answers, with its mart twin: (raw, from the mart).
MART_ANSWERS: list[tuple[Callable, Callable]] = []


def answered_from_mart(from_mart: Callable) -> Callable[[Callable], Callable]:
    """Declare that a mart answers the decorated raw facts select: `from_mart` takes the
    same arguments and returns the same columns (tests/test_marts.py holds them equal).

    This is the one place where the choice is made: with the marts on (the default),
    the mart answers; with `use_marts(False)`, the raw select. The raw select stays the
    definition and the test oracle, and is reachable as `.raw`."""

    def declare(raw: Callable) -> Callable:
        @functools.wraps(raw)
        def answer(*args, **kwargs):
            return (from_mart if _enabled else raw)(*args, **kwargs)

        answer.raw = raw
        answer.from_mart = from_mart
        MART_ANSWERS.append((raw, from_mart))
        return answer

    return declare


def _dimensions(*, birth_year: bool, key: bool) -> list[Column]:
    columns = [
        Column("province_code", String(2), primary_key=key, nullable=False, doc="Customer's province (34 codes)"),
        Column("segment", Text, primary_key=key, nullable=False, doc="Customer's segment"),
        Column("plan", Text, primary_key=key, nullable=False, doc="prepaid or postpaid"),
        Column("area_type", Text, primary_key=key, nullable=False, doc="urban, rural or remote"),
    ]
    if birth_year:
        columns.append(
            Column(
                "birth_year",
                SmallInteger,
                primary_key=key,
                nullable=False,
                doc="Holder's birth year (age bands are derived at query time)",
            )
        )
    return columns


def _copied(source: Table, *names: str, key: Sequence[str] = ()) -> list[Column]:
    """Columns of a raw table as the mart keeps them: same name, type, nullability and doc
    (no foreign key); those in `key` are part of the mart's key."""
    return [
        Column(
            name,
            source.c[name].type,
            primary_key=name in key,
            autoincrement=False,
            nullable=source.c[name].nullable,
            doc=source.c[name].doc,
        )
        for name in names
    ]


def _contact() -> list[Column]:
    """The customer's name and phone, for the lists that name people (masked by the list
    for roles that may not see them): copied so a page of a list never joins the customers."""
    return _copied(customers, "full_name", "phone")


def _count(name: str, doc: str) -> Column:
    return Column(name, BigInteger, nullable=False, doc=doc)


def _customer_month_columns() -> list[Column]:
    return [
        _count("start_active", "Customers active at the start of the month (= active at the end of the month before)"),
        _count("end_active", "Customers active at the end of the month (activated and not churned by its last day)"),
        _count("new_customers", "Customers activated in the month"),
        _count("churned", "Customers who churned in the month (customers.churned_on)"),
        _count("churned_voluntary", "Of those, with a voluntary churn event"),
        _count("churned_involuntary", "Of those, with an involuntary (non-payment) churn event"),
        _count("port_ins", "Customers activated in the month with a number ported in from a competitor"),
        _count("port_outs", "Churn events in the month with a number ported to a competitor"),
        _count("churn_events", "Churn events in the month (churn_events.churned_on): the win-back cohort"),
        _count("won_back", "Of those, re-acquired within queries.rules.WINBACK_WINDOW_DAYS days"),
        _count("customer_months", "revenue_monthly rows of the month (one per customer active in it)"),
        _count("revenue_vnd", "Service revenue earned in the month, VND"),
        _count("campaign_control", "Campaign targets selected in the month, control group"),
        _count("campaign_control_churned", "Of those, churned within 90 days"),
        _count("campaign_contacted", "Campaign targets selected in the month, contacted group"),
        _count("campaign_contacted_churned", "Of those, churned within 90 days"),
    ]


def _month(doc: str, key: bool = True) -> Column:
    return Column("month", Date, primary_key=key, nullable=False, doc=doc)


CUSTOMER_MONTH_DOC = "Month (first day) the row describes"

mart_customer_month = Table(
    "mart_customer_month",
    mart_metadata,
    _month(CUSTOMER_MONTH_DOC),
    *_dimensions(birth_year=True, key=True),
    *_customer_month_columns(),
)

mart_customer_month_rollup = Table(
    "mart_customer_month_rollup",
    mart_metadata,
    _month(CUSTOMER_MONTH_DOC),
    *_dimensions(birth_year=False, key=True),
    *_customer_month_columns(),
)

mart_port_outs = Table(
    "mart_port_outs",
    mart_metadata,
    _month("Month (first day) of leaving (churn_events.churned_on)"),
    *_dimensions(birth_year=True, key=True),
    Column("competitor", Text, primary_key=True, nullable=False, doc="Competitor the number was ported to"),
    _count("port_outs", "Numbers ported out in the month to that competitor"),
)

# One row per complaint, joined once to its customer's dimensions: the complaint measures
# (medians and p90 included) stay exact and never join the customers table. Complaints
# are few (~0.3 per 100 customers per quarter: ~200 k rows at 10 M customers), so a row
# per complaint is small and exact percentiles stay fast.
mart_complaints = Table(
    "mart_complaints",
    mart_metadata,
    *_copied(
        complaints,
        "complaint_id",
        "customer_id",
        "staff_id",
        "channel",
        "category",
        "opened_at",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "sla_hours",
        "departments_involved",
        "escalated",
        "reopened",
        "resolved_first_contact",
        "csat",
        key=("complaint_id",),
    ),
    *_copied(customers, "is_key_account"),
    *_dimensions(birth_year=True, key=False),
    *_contact(),
)

# One row per complaint and month end at which it was open (opened before the month's end,
# not resolved by then): the backlog at any month end is an equality filter on month, not
# a range join of every complaint with every month (most complaints are open at one month
# end or none).
mart_open_complaints = Table(
    "mart_open_complaints",
    mart_metadata,
    _month("Month (first day) at whose end (first instant of the next month) the complaint was open"),
    Column("complaint_id", BigInteger, primary_key=True, autoincrement=False, doc="complaints.complaint_id"),
    Column(
        "opened_at",
        DateTime,
        nullable=False,
        doc="Received (Asia/Ho_Chi_Minh): the age at the month end",
    ),
    *_dimensions(birth_year=True, key=False),
)

# One row per survey response with its customer's dimensions (~0.4 % of customer-months).
mart_surveys = Table(
    "mart_surveys",
    mart_metadata,
    *_copied(
        surveys,
        "survey_id",
        "customer_id",
        "surveyed_on",
        "nps_score",
        "csat_score",
        "network_quality_score",
        "procedure_speed_score",
        "staff_attitude_score",
        "price_score",
        key=("survey_id",),
    ),
    *_dimensions(birth_year=True, key=False),
)

# Postpaid debt as of each month's last day, by days-past-due bucket (queries.rules.DEBT_AGE_BUCKETS).
mart_debt_month = Table(
    "mart_debt_month",
    mart_metadata,
    _month("Month (first day); amounts are as of its last day"),
    *_dimensions(birth_year=True, key=True),
    Column(
        "days_past_due_from",
        SmallInteger,
        primary_key=True,
        nullable=False,
        doc="First day of the days-past-due bucket (queries.rules.DEBT_AGE_BUCKETS) the bills fall in",
    ),
    _count("unpaid_vnd", "Billed − paid as of the last day, over bills past due then, VND"),
)

mart_bills_month = Table(
    "mart_bills_month",
    mart_metadata,
    _month("Month (first day)"),
    *_dimensions(birth_year=True, key=True),
    _count("bills_due", "Bills due in the month"),
    _count("billed_due_vnd", "Billed amount of bills due in the month, VND"),
    _count("paid_on_time_vnd", "Of that, paid by the due date, VND"),
    _count("bills_issued", "Bills issued in the month (usage month = the month before; issued on the 1st)"),
    _count("billed_issued_vnd", "Billed amount of those, VND"),
    _count("receivable_bills", "Bills issued before the month and not fully paid by its last day"),
    _count("receivable_vnd", "Billed − paid as of the month's last day over those bills, VND"),
    _count("frequent_debtors", "Customers who are frequent debtors at the month's end (queries.rules)"),
)


# Customers active at each month's end, counted by whether they are key accounts and whether
# they are in the operator's top revenue group that month (queries.rules.TOP_REVENUE_SHARE
# over TOP_REVENUE_WINDOW_MONTHS, ranked over every active customer): the ranking needs
# every customer's 12-month revenue, which only the refresh step can afford to compute.
mart_big_customers = Table(
    "mart_big_customers",
    mart_metadata,
    _month("Month (first day) at whose end the customers were active"),
    *_dimensions(birth_year=True, key=True),
    Column("is_key_account", Boolean, primary_key=True, nullable=False, doc="Key accounts (customers.is_key_account)"),
    Column("is_top_revenue", Boolean, primary_key=True, nullable=False, doc="In the operator's top revenue group"),
    _count("customers", "Customers active at the month's end"),
    _count("revenue_12m_vnd", "Their revenue over the 12 months ending with the month, VND"),
)

# Customers by the month they were activated and the month they left (NULL while active):
# every "how long have they stayed" question (tenure bands, cohorts, survival) is month
# arithmetic on these two columns. Rebuilt whole by every refresh (one pass over customers):
# a customer leaving changes a row of an old activation month.
mart_customer_cohorts = Table(
    "mart_customer_cohorts",
    mart_metadata,
    Column("activated_month", Date, primary_key=True, nullable=False, doc="Month (first day) of activation"),
    Column(
        "left_month",
        Date,
        primary_key=True,
        nullable=True,
        doc="Month (first day) of customers.churned_on; NULL while active (no key constraint is created)",
    ),
    *_dimensions(birth_year=True, key=True),
    _count("customers", "Customers"),
)

# One row per customer and month end at which they are a frequent debtor or an organisation
# (queries.debt.ORGANISATION_SEGMENTS) owing something: what the Debt page lists and sums
# about individual debtors, without aggregating every unpaid bill per customer on each view.
mart_debtors = Table(
    "mart_debtors",
    mart_metadata,
    _month("Month (first day); everything is as of its last day"),
    Column("customer_id", BigInteger, primary_key=True, autoincrement=False, doc="The debtor"),
    *_dimensions(birth_year=True, key=False),
    *_copied(customers, "is_key_account"),
    *_contact(),
    Column("is_frequent_debtor", Boolean, nullable=False, doc="A frequent debtor at the month end (queries.rules)"),
    Column("late_bills", BigInteger, nullable=False, doc="Late bills in the window (0 if not a frequent debtor)"),
    Column("debt_vnd", Float, nullable=False, doc="Billed − paid over bills past due, VND (0 if none)"),
    Column("debt_90_plus_vnd", Float, nullable=False, doc="Of that, more than 90 days past due, VND"),
    Column("unpaid_bills", Float, nullable=False, doc="Bills past due and not fully paid"),
    Column("oldest_days_past_due", Float, doc="Days past due of the oldest such bill; NULL if none"),
    Column("churned_on", Date, doc="Left by the month end: the churn event's date; else NULL"),
    Column("churn_type", Text, doc="Its type (voluntary / involuntary); else NULL"),
)

# One row per bill and block stage it reached (queries.debt.BLOCK_STAGES), dated.
mart_block_events = Table(
    "mart_block_events",
    mart_metadata,
    _month("Month (first day) the stage was reached"),
    Column("bill_id", BigInteger, primary_key=True, autoincrement=False, doc="bills.bill_id"),
    Column("stage", Text, primary_key=True, nullable=False, doc="one_way, two_way or terminated"),
    Column("customer_id", BigInteger, nullable=False, doc="The bill's customer"),
    *_dimensions(birth_year=True, key=False),
)

# One row per churn event and per campaign target with the customer's dimensions: the
# review's mixes and uplift group these by reason, competitor, campaign or offer, which no
# aggregate mart keeps, without joining ten million customers on every view.
mart_churn_events = Table(
    "mart_churn_events",
    mart_metadata,
    _month("Month (first day) of leaving"),
    *_copied(
        churn_events,
        "customer_id",
        "churned_on",
        "churn_type",
        "reason",
        "ported_to",
        key=("customer_id", "churned_on"),
    ),
    *_dimensions(birth_year=True, key=False),
)

mart_campaign_targets = Table(
    "mart_campaign_targets",
    mart_metadata,
    _month("Month (first day) the customer was targeted"),
    *_copied(
        campaign_targets,
        "campaign_id",
        "customer_id",
        "targeted_on",
        "group_name",
        "churned_within_90d",
        key=("campaign_id", "customer_id"),
    ),
    *_dimensions(birth_year=True, key=False),
)

mart_port_out_requests = Table(
    "mart_port_out_requests",
    mart_metadata,
    _month("Month (first day) of the request"),
    *_copied(
        port_out_requests, "request_id", "customer_id", "requested_on", "to_competitor", "outcome", key=("request_id",)
    ),
    *_dimensions(birth_year=True, key=False),
)

# One row per customer with the columns the drill-down list shows and filters on, and the
# revenue of the 12 months ending with the last month of data (the period end a user meets
# by default). Ranking millions of customers by a year of revenue rows takes seconds; read
# from here it is a top-N over one table. Rebuilt whole at every refresh (the window moves).
LISTED_CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "full_name",
    "phone",
    "province_code",
    "segment",
    "plan",
    "area_type",
    "birth_year",
    "activated_on",
    "churned_on",
)
mart_customer_list = Table(
    "mart_customer_list",
    mart_metadata,
    *_copied(customers, *LISTED_CUSTOMER_COLUMNS, key=("customer_id",)),
    Column("month", Date, nullable=False, doc="Last month (first day) of the revenue window: the last month of data"),
    _count("revenue_12m_vnd", "Revenue over the 12 months ending with the month, VND (0 without revenue)"),
)

# The same events counted per month: customers are distinct within the month and group (a
# customer is in one group), so the counts add up over groups but not over months.
mart_block_month = Table(
    "mart_block_month",
    mart_metadata,
    _month("Month (first day) the stage was reached"),
    *_dimensions(birth_year=True, key=True),
    Column("stage", Text, primary_key=True, nullable=False, doc="one_way, two_way or terminated"),
    _count("customers", "Distinct customers reaching the stage in the month"),
    _count("bills", "Bills reaching the stage in the month"),
)


def _rollup_of(fine: Table) -> Table:
    """The same mart summed over birth years (every number in it adds up)."""
    return Table(
        f"{fine.name}_rollup",
        mart_metadata,
        *(column._copy() for column in fine.columns if column.name != "birth_year"),
    )


mart_debt_month_rollup = _rollup_of(mart_debt_month)
mart_bills_month_rollup = _rollup_of(mart_bills_month)
mart_big_customers_rollup = _rollup_of(mart_big_customers)
mart_customer_cohorts_rollup = _rollup_of(mart_customer_cohorts)
mart_block_month_rollup = _rollup_of(mart_block_month)
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
