"""Named business rules the measures use: one place to read and change them.

These are product decisions, not facts of the data. The generator (data_seed) may
import them to plant behaviours that the measures will find, never the other way round.
"""

# Frequent debtor (khách hàng thường xuyên nợ cước): at least this many late bills whose
# due date falls in the window of months ending with the period's end month. A bill is
# late as of a day when its due date has passed and it was not fully paid by the due date.
FREQUENT_DEBTOR_LATE_BILLS = 3
FREQUENT_DEBTOR_WINDOW_MONTHS = 12

# Regulation expects a first response to a complaint within 48 hours.
ACK_TARGET_HOURS = 48

# Complaint rate is quoted per 100 customers per quarter (QCVN threshold ~0.25).
COMPLAINT_RATE_MONTHS = 3

# A churned customer counts as won back when re-acquired within this many days of leaving.
WINBACK_WINDOW_DAYS = 90

# Debt ageing by days past due as of the period's last day. Day 30 is in 0-30, day 31 in
# 31-60; a bill due on the last day itself is not past due yet (0 days is never debt).
# (label, first day, last day or None for open-ended)
DEBT_AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)

# Backlog ageing: open complaints by whole days since opened, at the period's end
# (the first instant of the next month). Aligned with the SLA targets (10, 15, 30 days).
BACKLOG_AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-15", 8, 15),
    ("16-30", 16, 30),
    ("31+", 31, None),
)

# Normal-approximation 95% interval for the campaign uplift (difference of two proportions).
CONFIDENCE_Z = 1.96

# --- Customers and churn (issue 5) ---------------------------------------------------------
# Big customer by revenue (khách hàng lớn theo doanh thu): among ALL the operator's
# customers active at the period end, the top TOP_REVENUE_SHARE by revenue over the
# TOP_REVENUE_WINDOW_MONTHS months ending with the period's end month (cume_dist ≤ share,
# so ties at the boundary fall out rather than in). The rank is the operator's, not the
# view's: a customer is big or not whatever the filter, so the counts add up across
# provinces and segments and move over time (ranked within the view, the group would be
# 1 % of any view by construction). What a user sees is still only their own customers;
# the ranking itself is done by the refresh step (queries.marts.mart_big_customers).
# Revenue here is net of credits and refunds: a customer refunded more than charged ranks
# below one without revenue, which is where a net credit belongs.
TOP_REVENUE_SHARE = 0.01
TOP_REVENUE_WINDOW_MONTHS = 12

# Tenure bands: whole calendar months from the activation month to the as-of month
# (label, first month, last month or None for open-ended).
TENURE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-11", 0, 11),
    ("12-23", 12, 23),
    ("24-59", 24, 59),
    ("60-119", 60, 119),
    ("120+", 120, None),
)

# --- Complaints and debt (issue 6) ----------------------------------------------------------
# Resolution targets (SLA) of a complaint, hours from opened to resolved: key (big) customers
# 10 days whatever the category, billing and charges 15 days, every other category 30 days
# (docs/domain.md). The measures read them when a select is built (queries.sla.
# sla_target_hours), so changing one here changes every SLA figure; the generator stores the
# same targets in complaints.sla_hours for reference only.
SLA_TARGET_HOURS_KEY_ACCOUNT = 240
SLA_TARGET_HOURS_BILLING = 360
SLA_TARGET_HOURS_OTHER = 720

# QCVN threshold for the complaint rate: 0.25 complaints per 100 customers per quarter, in the
# registry's unit (complaints per customer per quarter).
COMPLAINT_RATE_THRESHOLD = 0.0025

# Call centre: calls answered within 60 s ÷ calls offered should reach this share.
CALL_ANSWER_TARGET = 0.80

# --- Periodic review (issue 7) ---------------------------------------------------------------
# Red/amber/green of a KPI against its target (the Review scorecard, the Overview cards):
# green when on target or better; amber when on the wrong side by at most RAG_AMBER_BAND of
# the target (5 %: e.g. SLA 86 % against 90 %), or by at most RAG_AMBER_BAND_POINTS for a
# points scale such as NPS, which sits near zero where a relative band means nothing; red beyond.
RAG_AMBER_BAND = 0.05
RAG_AMBER_BAND_POINTS = 3.0
