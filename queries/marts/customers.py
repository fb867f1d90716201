"""The customer-base family: big customers, cohorts (+ rollups) and the drill-down customer
list (read by queries/customers.py).
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Boolean, Column, ColumnElement, Date, FromClause, Subquery, Table, select

from queries.filters import Filters, Scope
from queries.marts.base import copied_columns, count_column, group_columns, mart_metadata, month_column, rollup_of
from queries.marts.reading import grain, mart_dimensions, mart_scope, with_region
from queries.tables import customers

# Customers active at each month's end, counted by whether they are key accounts and whether
# they are in the operator's top revenue group that month (queries.rules.TOP_REVENUE_SHARE
# over TOP_REVENUE_WINDOW_MONTHS, ranked over every active customer): the ranking needs
# every customer's 12-month revenue, which only the refresh step can afford to compute.
mart_big_customers = Table(
    "mart_big_customers",
    mart_metadata,
    month_column("Month (first day) at whose end the customers were active"),
    *group_columns(birth_year=True, key=True),
    Column("is_key_account", Boolean, primary_key=True, nullable=False, doc="Key accounts (customers.is_key_account)"),
    Column("is_top_revenue", Boolean, primary_key=True, nullable=False, doc="In the operator's top revenue group"),
    count_column("customers", "Customers active at the month's end"),
    count_column(
        "revenue_12m_vnd", "Their net revenue over the 12 months ending with the month, VND (may be negative)"
    ),
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
    *group_columns(birth_year=True, key=True),
    count_column("customers", "Customers"),
)


# One row per customer with the columns the drill-down list shows and filters on, and the
# revenue of the 12 months ending with the last month of data (the period end a user meets
# by default). Ranking millions of customers by a year of revenue rows takes seconds; read
# from here it is a top-N over one table. Rebuilt whole at every refresh (the window moves).
LISTED_CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "customer_key",  # what the operator's own systems call the customer: what the list shows
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
    *copied_columns(customers, *LISTED_CUSTOMER_COLUMNS, key=("customer_id",)),
    Column("month", Date, nullable=False, doc="Last month (first day) of the revenue window: the last month of data"),
    count_column(
        "revenue_12m_vnd",
        "Net revenue over the 12 months ending with the month, VND (0 without revenue; may be negative)",
    ),
)


mart_big_customers_rollup = rollup_of(mart_big_customers)


mart_customer_cohorts_rollup = rollup_of(mart_customer_cohorts)


def customer_lifetimes(filters: Filters, scope: Scope, by: Sequence[str] = ()) -> Subquery:
    """As queries.customers.customer_lifetimes, from mart_customer_cohorts (customers = the
    group's count)."""
    mart = grain(mart_customer_cohorts, filters, by)
    return (
        select(
            *mart_dimensions(by, filters, mart, None),
            mart.c.activated_month,
            mart.c.left_month,
            mart.c.customers,
        )
        .select_from(with_region(mart, by))
        .where(mart_scope(filters, scope, mart))
        .subquery("lifetimes")
    )


def big_customer_rows(
    filters: Filters, end_month: date
) -> tuple[FromClause, ColumnElement, ColumnElement, ColumnElement[bool]]:
    """As queries.customers.big_customer_rows, from mart_big_customers (counted groups)."""
    mart = grain(mart_big_customers, filters, ())
    return mart, mart.c.customers, mart.c.revenue_12m_vnd, mart.c.month == end_month
