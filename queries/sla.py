"""The resolution target (SLA) of a complaint as SQL, defined once for every reader: the
raw measures, the complaint mart's reads, the Complaints page and the review."""

from sqlalchemy import ColumnElement, case, literal

from queries import rules
from queries.tables import complaints, customers


def sla_target_hours() -> ColumnElement:
    """The resolution target of a complaint, hours: the named settings of queries.rules
    (key customers, else billing, else every other category), read when the select is
    built. The one SLA definition: sla_share and the Complaints page both use it."""
    return case(
        (customers.c.is_key_account, literal(rules.SLA_TARGET_HOURS_KEY_ACCOUNT)),
        (complaints.c.category == "billing", literal(rules.SLA_TARGET_HOURS_BILLING)),
        else_=literal(rules.SLA_TARGET_HOURS_OTHER),
    )
