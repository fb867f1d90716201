"""Row marts of events with their customer's columns: churn events, campaign targets and
port-out requests (read by queries/measures_churn.py, queries/uplift.py, queries/churn.py).
"""

from sqlalchemy import ColumnElement, FromClause, Table

from queries.filters import Filters, Scope, customer_conditions
from queries.marts.base import copied_columns, group_columns, mart_metadata, month_column
from queries.tables import campaign_targets, campaigns, churn_events, port_out_requests, provinces

# One row per churn event and per campaign target with the customer's dimensions: the
# review's mixes and uplift group these by reason, competitor, campaign or offer, which no
# aggregate mart keeps, without joining ten million customers on every view.
mart_churn_events = Table(
    "mart_churn_events",
    mart_metadata,
    month_column("Month (first day) of leaving"),
    *copied_columns(
        churn_events,
        "customer_id",
        "churned_on",
        "churn_type",
        "reason",
        "ported_to",
        key=("customer_id", "churned_on"),
    ),
    *group_columns(birth_year=True, key=False),
)


mart_campaign_targets = Table(
    "mart_campaign_targets",
    mart_metadata,
    month_column("Month (first day) the customer was targeted"),
    *copied_columns(
        campaign_targets,
        "campaign_id",
        "customer_id",
        "targeted_on",
        "group_name",
        "churned_within_90d",
        key=("campaign_id", "customer_id"),
    ),
    *group_columns(birth_year=True, key=False),
)


mart_port_out_requests = Table(
    "mart_port_out_requests",
    mart_metadata,
    month_column("Month (first day) of the request"),
    *copied_columns(
        port_out_requests, "request_id", "customer_id", "requested_on", "to_competitor", "outcome", key=("request_id",)
    ),
    *group_columns(birth_year=True, key=False),
)


def port_out_requests_in_view(filters: Filters, scope: Scope) -> tuple[Table, FromClause, ColumnElement[bool]]:
    """As queries.churn.port_out_requests_in_view: the requests with their customer's columns."""
    in_view = customer_conditions(filters, scope, mart_port_out_requests, provinces)
    return mart_port_out_requests, mart_port_out_requests, in_view


def campaign_targets_in_view(
    filters: Filters, scope: Scope
) -> tuple[Table, FromClause, ColumnElement, ColumnElement[bool]]:
    """As queries.uplift.campaign_targets_in_view: the targets with their customer's columns."""
    t = mart_campaign_targets.c
    source = mart_campaign_targets.join(campaigns, campaigns.c.campaign_id == t.campaign_id)
    return (
        mart_campaign_targets,
        source,
        t.segment,
        customer_conditions(filters, scope, mart_campaign_targets, provinces),
    )
