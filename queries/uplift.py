"""Retention-campaign effectiveness: churn of contacted customers against the control group.

For each group of targeted customers (a campaign, an offer, a customer segment):

    control churn   p_c = churned within 90 days ÷ customers held out (control)
    contacted churn p_t = churned within 90 days ÷ customers contacted
    uplift          u   = p_c − p_t        (> 0: the campaign kept customers)
    95% interval        u ± z · √(p_c(1 − p_c)/n_c + p_t(1 − p_t)/n_t),  z = queries.rules.CONFIDENCE_Z
    customers kept      u · n_t            (and the interval's ends × n_t)

The interval is the **Wald** (unpooled normal-approximation) interval for a difference of
two independent proportions: the same one the registry's `campaign_uplift` measure uses,
so the Review page and any chart of that measure never disagree. It is adequate here
because control groups hold hundreds to thousands of customers and 90-day churn sits
around 2–15 %; with a control group of a few dozen, or churn near 0, Newcombe's hybrid
score interval would be the better choice (Wald is then too narrow).

The counts come from the warehouse (`campaign_counts_select`); the formula above is
applied by `with_uplift` to the aggregated rows (a handful per campaign) and nowhere else.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta

import polars as pl
from sqlalchemy import ColumnElement, FromClause, Select, Table, and_, case, func, select

from queries.filters import Filters, Scope, add_months
from queries.marts import answered_from_mart
from queries.marts import events as events_mart
from queries.measures_base import customer_scope, period_bounds
from queries.rules import CONFIDENCE_Z
from queries.sql_functions import as_double
from queries.tables import campaign_targets, campaigns, customers

# Campaigns are few (a handful a year) and their outcome needs 90 days: a monthly review
# still shows the campaigns targeted in the 12 months up to its end.
CAMPAIGN_LOOKBACK_MONTHS = 12
OUTCOME_DAYS = 90
GROUPINGS = {
    "campaign": ("campaign_id", "name", "offer", "target_segment"),
    "offer": ("offer",),
    "segment": ("segment",),
    "total": (),
}


def campaign_window(filters: Filters) -> Filters:
    """The review period, widened to CAMPAIGN_LOOKBACK_MONTHS months ending with it."""
    start = min(filters.start_month, add_months(filters.end_month, -(CAMPAIGN_LOOKBACK_MONTHS - 1)))
    return replace(filters, start_month=start)


@answered_from_mart(events_mart.campaign_targets_in_view)
def campaign_targets_in_view(
    filters: Filters, scope: Scope
) -> tuple[Table, FromClause, ColumnElement, ColumnElement[bool]]:
    """(targets, their source joined to the campaigns, the customer's segment, the customers
    in view): campaign_targets joined to the campaigns and the customers."""
    t = campaign_targets.c
    source = campaign_targets.join(campaigns, campaigns.c.campaign_id == t.campaign_id).join(
        customers, customers.c.customer_id == t.customer_id
    )
    return campaign_targets, source, customers.c.segment, customer_scope(filters, scope)


def campaign_counts_select(filters: Filters, scope: Scope, grouping: str = "campaign") -> Select:
    """Rows (*group columns, first_targeted_on, last_targeted_on, control_n, control_churned,
    contacted_n, contacted_churned) for customers targeted in the period (filters ∩ scope).

    grouping: 'campaign' (campaign_id, name, offer, target_segment), 'offer', 'segment'
    (the customer's segment) or 'total' (one row)."""
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}; choose from {tuple(GROUPINGS)}")
    k = campaigns.c
    start, stop = period_bounds(filters)
    targets, source, segment, in_view = campaign_targets_in_view(filters, scope)
    t = targets.c
    available = {
        "campaign_id": k.campaign_id,
        "name": k.name,
        "offer": k.offer,
        "target_segment": k.target_segment,
        "segment": segment,
    }
    keys = [available[name].label(name) for name in GROUPINGS[grouping]]
    contacted = t.group_name == "contacted"
    control = t.group_name == "control"

    def count(condition):
        return as_double(func.coalesce(func.sum(case((condition, 1), else_=0)), 0))

    return (
        select(
            *keys,
            func.min(t.targeted_on).label("first_targeted_on"),
            func.max(t.targeted_on).label("last_targeted_on"),
            count(control).label("control_n"),
            count(and_(control, t.churned_within_90d)).label("control_churned"),
            count(contacted).label("contacted_n"),
            count(and_(contacted, t.churned_within_90d)).label("contacted_churned"),
        )
        .select_from(source)
        .where(t.targeted_on >= start, t.targeted_on < stop, in_view)
        .group_by(*(available[name] for name in GROUPINGS[grouping]))
        .order_by(*(available[name] for name in GROUPINGS[grouping]))
    )


def with_uplift(counts: pl.DataFrame, z: float = CONFIDENCE_Z) -> pl.DataFrame:
    """Add control_rate, contacted_rate, uplift, ci_low, ci_high, kept, kept_low, kept_high
    to rows holding control_n, control_churned, contacted_n, contacted_churned (the formula
    of the module docstring). A group with no control or no contacted customer gets nulls."""
    n_c, n_t = pl.col("control_n").cast(pl.Float64), pl.col("contacted_n").cast(pl.Float64)
    p_c = pl.when(n_c > 0).then(pl.col("control_churned") / n_c)
    p_t = pl.when(n_t > 0).then(pl.col("contacted_churned") / n_t)
    uplift = p_c - p_t
    half_width = z * (p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t).sqrt()
    return counts.with_columns(
        p_c.alias("control_rate"),
        p_t.alias("contacted_rate"),
        uplift.alias("uplift"),
        (uplift - half_width).alias("ci_low"),
        (uplift + half_width).alias("ci_high"),
        (uplift * n_t).alias("kept"),
        ((uplift - half_width) * n_t).alias("kept_low"),
        ((uplift + half_width) * n_t).alias("kept_high"),
    )


@dataclass(frozen=True)
class Uplift:
    control_rate: float
    contacted_rate: float
    uplift: float
    ci_low: float
    ci_high: float
    kept: float
    kept_low: float
    kept_high: float


def uplift_interval(
    control_n: int, control_churned: int, contacted_n: int, contacted_churned: int, z: float = CONFIDENCE_Z
) -> Uplift | None:
    """The uplift of one group (None when a group is empty), through `with_uplift`."""
    frame = with_uplift(
        pl.DataFrame(
            {
                "control_n": [control_n],
                "control_churned": [control_churned],
                "contacted_n": [contacted_n],
                "contacted_churned": [contacted_churned],
            }
        ),
        z,
    )
    row = frame.row(0, named=True)
    if row["uplift"] is None:
        return None
    return Uplift(**{name: float(row[name]) for name in Uplift.__dataclass_fields__})


def outcome_complete(last_targeted_on: date, data_end: date) -> bool:
    """True when every targeted customer's 90-day window ended by the data's last day."""
    return last_targeted_on + timedelta(days=OUTCOME_DAYS) <= data_end
