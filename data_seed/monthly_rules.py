"""Which month a row of each imported table belongs to, for monthly loads and their export.

A monthly load replaces the rows of its month in the tables of MONTH_COLUMN (loading a
month twice equals loading it once) and updates rows of earlier months by their key (a
complaint resolved, a bill paid, a win-back). Customers and the tables of KEYED_DATE are
updated by their key, whatever their date; their date only places them in an export folder.
"""

# The column whose month a fact row belongs to.
MONTH_COLUMN: dict[str, str] = {
    "revenue_monthly": "revenue_month",
    "bills": "bill_month",
    "complaints": "opened_at",
    "churn_events": "churned_on",
    "port_out_requests": "requested_on",
    "surveys": "surveyed_on",
    "care_contacts_monthly": "contact_month",
    "campaign_targets": "targeted_on",
    "training": "enrolled_on",
}
# Tables updated by key only, and the date that places a row in a month's folder.
KEYED_DATE: dict[str, str] = {
    "customers": "activated_on",
    "staff": "hired_on",
    "campaigns": "started_on",
    "kpi_targets": "target_month",
}
