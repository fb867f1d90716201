"""Events planted in the data for the dashboard to reveal (documented in docs/data.md).

They are placed relative to the end month, so they fall inside the window whatever the
end month; with a window shorter than 15 months they are pulled to its first month.
"""

from dataclasses import dataclass
from datetime import date

from data_seed.generate_calendar import Window

# A network outage (storm damage) in one province: coverage complaints spike, the call
# centre is flooded, and some customers leave over network quality the month after.
OUTAGE_PROVINCE = "38"  # Thanh Hóa
OUTAGE_MONTHS_BEFORE_END = 5
OUTAGE_COVERAGE_COMPLAINTS = 30.0  # multiplier of the coverage complaint rate (≈ 9× all complaints)
OUTAGE_CALLS = 3.0  # multiplier of call-centre contacts in the province that month
OUTAGE_CHURN_NEXT_MONTH = 1.5  # voluntary churn multiplier the month after (network_quality)

# A competitor's aggressive promotion in one sub-region: port-outs to it jump.
PROMOTION_COMPETITOR = "mobifone"
PROMOTION_SUB_REGION = "Đồng bằng sông Cửu Long"
PROMOTION_MONTHS_BEFORE_END = 14  # first month of the promotion
PROMOTION_LENGTH_MONTHS = 3
PROMOTION_EXTRA_HAZARD = 0.006  # extra monthly churn of consumer lines, all ported to the competitor
PROMOTION_SEGMENTS = ("individual", "household", "foreign")
PROMOTION_PORTING_COMPLAINTS = 3.0

# A billing incident (wrong charges sent nationwide): billing complaints jump for a month.
BILLING_INCIDENT_MONTHS_BEFORE_END = 7
BILLING_INCIDENT_COMPLAINTS = 6.0
BILLING_INCIDENT_CALLS = 1.5


@dataclass(frozen=True)
class Events:
    """Window month indexes (0 = first month) of each event."""

    outage_month: int
    promotion_months: tuple[int, ...]
    billing_incident_month: int

    @classmethod
    def place(cls, window: Window) -> "Events":
        last = window.months - 1
        promotion_start = max(0, last - PROMOTION_MONTHS_BEFORE_END)
        promotion = tuple(
            index for index in range(promotion_start, promotion_start + PROMOTION_LENGTH_MONTHS) if index <= last
        )
        return cls(
            outage_month=max(0, last - OUTAGE_MONTHS_BEFORE_END),
            promotion_months=promotion,
            billing_incident_month=max(0, last - BILLING_INCIDENT_MONTHS_BEFORE_END),
        )

    def describe(self, window: Window) -> dict[str, date | list[date]]:
        return {
            "outage_month": window.month(self.outage_month),
            "promotion_months": [window.month(index) for index in self.promotion_months],
            "billing_incident_month": window.month(self.billing_incident_month),
        }
