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
