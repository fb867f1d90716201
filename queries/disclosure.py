"""Small-cell protection: an aggregate that reaches outside the user's scope is shown only
when the part outside the scope is built from at least MIN_UNITS customers (or units).

Why. A regional manager sees their own provinces only, but the review compares them with
the whole country (queries.review.country_scope). Under narrow filters that national
figure can be made of one or two customers of some other province: "Toàn quốc: 1 active
customer, ARPU 294.900 ₫, overdue debt 66.401 ₫" is one customer's bill and debt in Phú
Thọ, which the manager may not see. So such a figure is shown only when the customers
outside the scope that it is built from number at least k = MIN_UNITS (10, a common
small-cell threshold in official statistics); otherwise a localised mark replaces it.

What is counted (per measure and per period; `hide_small_cells`):
- customers: the customers in view (the segment/plan/age/area filters) outside the scope
  who were customers at some time in the period (active at its start, or new in it), for
  every measure of customers (Measure.customer_filters);
- units: also the measure's own base (queries.review.period_values_select `base`: resolved
  complaints for the SLA share, survey answers for NPS, calls offered for the call answer
  rate, customers at the start for churn …) outside the scope, unless that base is money
  (MONEY_BASES: billed VND, which counts no one);
- outside the scope = the national count − the same count over the user's own provinces,
  not the national count alone: a national figure of 12 customers, 4 of them the user's
  own, would otherwise hand over the other 8 by subtraction;
- zero outside is not small: the national figure then is the user's own and says nothing
  about anyone else.

Who. Only scopes limited to some provinces (regional managers); roles that see the whole
country (executive, analyst, viewer, admin) see every figure, and aggregates of the user's
own provinces are never hidden. The pages (dashboard/review/, the meeting pack) show
the mark and the note of dashboard/text/strings.py ("Small-cell protection"); docs/access.md
lists where the rule applies.
"""

from collections.abc import Mapping

import polars as pl
from sqlalchemy import Select, String, literal, select, union_all

from queries.filters import Filters, Scope
from queries.metrics import MEASURES, measure_select
from queries.sql_functions import as_double

MIN_UNITS = 10  # k: fewer customers (or complaints, answers, calls) outside the scope than this are hidden
# Measures whose base (denominator) is money, not a count of anyone: only their customers are counted.
MONEY_BASES = frozenset({"collection_rate", "dso"})
# The measure whose parts count the customers in view during a period: start_active + new.
CUSTOMERS_MEASURE = "retention_rate"
HIDDEN = "hidden"
KEYS = ("measure", "period")
PARTS = ("value", "base", "numerator")


def limits_provinces(scope: Scope) -> bool:
    """The scope is a part of the country: figures reaching outside it are protected."""
    return scope.provinces is not None


def too_few(units: float | None) -> bool:
    """1 … MIN_UNITS − 1 units: a small cell. None or 0 (nothing outside the scope) is not."""
    return units is not None and 0 < round(units) < MIN_UNITS


def customers_select(periods: Mapping[str, Filters], scope: Scope) -> Select:
    """Rows (period, customers): customers in view (filters ∩ scope) who were customers at
    some time in each named period (active at its start, or new in it)."""
    parts = []
    for label, filters in periods.items():
        counts = measure_select(CUSTOMERS_MEASURE, filters, scope).subquery()
        parts.append(
            select(
                literal(label, String).label("period"),
                as_double(counts.c.start_active + counts.c.new).label("customers"),
            )
        )
    return union_all(*parts)


def _by_period(customers: pl.DataFrame) -> dict[str, float]:
    return {period: float(count or 0) for period, count in customers.select("period", "customers").iter_rows()}


def hide_small_cells(
    country: pl.DataFrame, own: pl.DataFrame, customers: pl.DataFrame, own_customers: pl.DataFrame
) -> pl.DataFrame:
    """`country` (measure, period, value, base, numerator: period_values_select over the whole
    country) with value, base and numerator set to null where the part outside the scope is
    a small cell, and a boolean column `hidden` saying where.

    own: the same select over the user's own provinces (the same filters, no province filter);
    customers, own_customers: customers_select over the country and over the own provinces."""
    national, mine = _by_period(customers), _by_period(own_customers)
    own_bases = {(measure, period): base for measure, period, base in own.select(*KEYS, "base").iter_rows()}
    hidden = []
    for measure, period, base in country.select(*KEYS, "base").iter_rows():
        small = MEASURES[measure].customer_filters and too_few(national.get(period, 0.0) - mine.get(period, 0.0))
        if base is not None and measure not in MONEY_BASES:
            small = small or too_few(base - (own_bases.get((measure, period)) or 0.0))
        hidden.append(bool(small))
    flagged = country.with_columns(pl.Series(HIDDEN, hidden, dtype=pl.Boolean))
    return flagged.with_columns(
        pl.when(pl.col(HIDDEN)).then(None).otherwise(pl.col(name)).alias(name) for name in PARTS
    )
