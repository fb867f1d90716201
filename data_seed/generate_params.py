"""Every knob of the synthetic data, in one place, with the fact it comes from.

Shares are probabilities; hazards are monthly probabilities; money is VND per month.
Numbers are approximate market facts (docs/domain.md) or judgement calls tuned so the
behaviours the article describes show in the data (docs/data.md lists the outcomes).
Order of every per-segment tuple: queries.tables.SEGMENTS
(individual, household, enterprise, government, foreign).
"""

from queries.tables import COMPLAINT_CATEGORIES, SEGMENTS

# Customers are generated in fixed-size chunks, each from its own random stream, so memory
# stays flat whatever the size and the result depends only on (customers, months, seed, end).
CHUNK_CUSTOMERS = 250_000

# --- who the customers are -------------------------------------------------------------------
# Segment mix of the base already active when the window opens, and of new activations in it:
# enterprises and agencies accumulate in the base (they rarely leave); new lines are mostly
# individuals. Together about 80 / 12 / 5 / 1.5 / 1.5 %.
SEGMENT_SHARES_BASE = (0.775, 0.13, 0.065, 0.02, 0.01)
SEGMENT_SHARES_NEW = (0.835, 0.105, 0.03, 0.008, 0.022)
# Share of postpaid by segment: overall about 10 % (market: ~90 % prepaid, docs/domain.md).
POSTPAID_SHARE = (0.05, 0.07, 0.70, 0.80, 0.15)
# Enterprises weigh more in the two big cities.
BIG_CITY_ENTERPRISE_BOOST = 1.6
BIG_CITIES = ("01", "79")
# Key (big) customers managed by an account manager.
KEY_ACCOUNT_SHARE = (0.0, 0.0, 0.15, 0.25, 0.0)
# Services held, by segment: mobile, home internet, TV, enterprise solutions.
HAS_MOBILE = (0.99, 0.85, 0.95, 0.95, 0.99)
HAS_HOME_INTERNET = (0.07, 0.45, 0.35, 0.30, 0.10)
HAS_TV = (0.04, 0.35, 0.02, 0.05, 0.03)
HAS_ENTERPRISE_SOLUTIONS = (0.0, 0.0, 0.25, 0.20, 0.0)
MALE_SHARE = 0.52

# Adult age bands (docs/domain.md): (lowest age, highest age, share). Age = end year − birth year.
AGE_BANDS = ((18, 24, 0.13), (25, 34, 0.22), (35, 44, 0.22), (45, 54, 0.18), (55, 64, 0.14), (65, 85, 0.11))
# Contact persons of organisations are of working age.
ORGANISATION_CONTACT_AGES = (25, 60)
# A SIM is registered from this age (contracts accept 14+).
YOUNGEST_SUBSCRIBER_AGE = 16

# Area type by sub-region: (urban share, remote share); the rest is rural. Big cities override.
AREA_BY_SUB_REGION = {
    "Đồng bằng sông Hồng": (0.38, 0.02),
    "Đông Bắc": (0.25, 0.22),
    "Tây Bắc": (0.18, 0.38),
    "Bắc Trung Bộ": (0.25, 0.12),
    "Duyên hải Nam Trung Bộ": (0.35, 0.08),
    "Tây Nguyên": (0.25, 0.28),
    "Đông Nam Bộ": (0.45, 0.03),
    "Đồng bằng sông Cửu Long": (0.25, 0.06),
}
AREA_BY_CITY = {
    "01": (0.65, 0.01),  # Hà Nội
    "79": (0.85, 0.005),  # Hồ Chí Minh
    "31": (0.50, 0.01),  # Hải Phòng
    "48": (0.75, 0.02),  # Đà Nẵng
    "92": (0.55, 0.01),  # Cần Thơ
    "46": (0.50, 0.05),  # Huế
}

# --- activation ----------------------------------------------------------------------------------
# Gross additions per month as a share of the base: a little above the blended churn so the
# base grows slowly (~+2 % a year). Decides how many of the customers are new in the window.
GROSS_ADD_RATE = 0.026
# The oldest accounts were opened this many months before the window.
OLDEST_ACCOUNT_MONTHS = 120
# Activation seasonality around Tết: SIMs and phones bought before, shops closed during.
ACTIVATION_TET = (1.25, 0.85, 1.10)
# Share of new activations that ported their number in from a competitor (after MNP start).
PORTED_IN_SHARE_NEW = 0.10
PORTED_IN_SHARE_BASE = 0.04

# --- churn -------------------------------------------------------------------------------------------
# Monthly voluntary hazard by plan (market: prepaid 2–4 %, postpaid 0.8–1.5 % in total).
VOLUNTARY_HAZARD = {"prepaid": 0.021, "postpaid": 0.0095}
# Prepaid lines that stop topping up expire: involuntary, as a share of the voluntary hazard.
PREPAID_EXPIRY_SHARE = 0.25
SEGMENT_CHURN = (1.15, 0.80, 0.35, 0.20, 0.90)
# Multiplier by age band (same order as AGE_BANDS): the young switch easily, the old stay.
AGE_CHURN = (1.65, 1.25, 1.0, 0.80, 0.62, 0.50)
AREA_CHURN = {"urban": 1.05, "rural": 0.95, "remote": 0.80}
# New customers are volatile for their first months.
EARLY_TENURE_MONTHS = 6
EARLY_TENURE_CHURN = 1.35
# Spread of churn between provinces (lognormal sigma of a per-province multiplier).
PROVINCE_CHURN_SIGMA = 0.12
# Share of voluntary leavers who take their number to a competitor (MNP).
PORTED_SHARE = {"prepaid": 0.10, "postpaid": 0.25}
# Reasons of voluntary churn (involuntary is always non_payment).
VOLUNTARY_REASONS = {
    "price": 0.30,
    "competitor_promotion": 0.18,
    "network_quality": 0.15,
    "service_attitude": 0.08,
    "relocation": 0.13,
    "other": 0.16,
}
# Share of voluntary leavers re-acquired later (win-back), and how many days later.
WIN_BACK_SHARE = 0.05
WIN_BACK_DAYS = (10, 120)

# --- postpaid payment behaviour ------------------------------------------------------------------
# Payer types: (share among individuals/households/foreign, share among organisations,
# probability a bill is paid late, probability a bill is never paid → termination chain).
PAYER_TYPES = {
    "good": (0.80, 0.90, 0.04, 0.0006),
    "occasional": (0.13, 0.08, 0.28, 0.004),
    "chronic": (0.07, 0.02, 0.62, 0.022),
}
# Young holders are more often chronic late payers.
YOUNG_CHRONIC_BOOST = 1.8
# Of late bills, the share only partly paid.
PARTIAL_SHARE_OF_LATE = 0.12
BILL_DUE_DAYS = (20, 25)  # due on this day of the month after the usage month
PAID_EARLY_DAYS = (0, 14)  # on-time payers pay this many days before the due date
LATE_DAYS_MEDIAN = 9  # late payers pay this many days after due (lognormal median)
ONE_WAY_BLOCK_AFTER_DUE = (3, 6)  # days
TWO_WAY_BLOCK_AFTER_ONE_WAY = (15, 30)
TERMINATION_AFTER_TWO_WAY = (30, 60)
# Customers facing termination who first ask to port out (refused for unpaid bills).
REFUSED_PORT_SHARE = 0.30

# --- revenue -----------------------------------------------------------------------------------------
# Mobile revenue per month (VND) by segment and plan; add-ons for other services held.
MOBILE_ARPU = {
    "prepaid": (62_000, 55_000, 90_000, 80_000, 85_000),
    "postpaid": (210_000, 190_000, 330_000, 300_000, 260_000),
}
HOME_INTERNET_VND = (130_000, 130_000, 300_000, 300_000, 130_000)
TV_VND = (60_000, 60_000, 80_000, 80_000, 60_000)
ENTERPRISE_SOLUTIONS_VND = (0, 0, 420_000, 350_000, 0)
REMOTE_REVENUE = 0.80
CUSTOMER_REVENUE_SIGMA = 0.45  # spread between customers (lognormal)
MONTH_REVENUE_SIGMA = {"prepaid": 0.22, "postpaid": 0.08}  # month-to-month noise
REVENUE_TET = (1.05, 1.10, 0.97)
REVENUE_ROUND_VND = 100

# --- complaints --------------------------------------------------------------------------------------
# Complaints per customer-month before the multipliers below: 0.00068 × 3 months × 100 ≈ 0.2
# per 100 customers per quarter; with organisations, remote areas, Tết and the events the
# country lands around 0.25–0.3 (QCVN threshold ~0.25), some provinces well above.
COMPLAINT_RATE = 0.00068
SEGMENT_COMPLAINTS = (1.0, 1.0, 1.6, 1.4, 1.2)
AREA_COMPLAINTS = {"urban": 1.0, "rural": 1.0, "remote": 1.25}
PROVINCE_COMPLAINT_SIGMA = 0.25
COMPLAINT_TET = (1.0, 1.2, 1.1)
# Category mix (order of COMPLAINT_CATEGORIES) and how it shifts.
CATEGORY_WEIGHTS = (0.20, 0.24, 0.20, 0.05, 0.10, 0.07, 0.14)
assert len(CATEGORY_WEIGHTS) == len(COMPLAINT_CATEGORIES)
COVERAGE_BY_AREA = {"urban": 0.8, "rural": 1.4, "remote": 3.5}
POSTPAID_BILLING = 1.7
# Channels: (hotline, store, app, web, social, email, account_manager) for ordinary customers;
# key accounts go to their account manager most of the time.
COMPLAINT_CHANNEL_WEIGHTS = (0.45, 0.20, 0.13, 0.05, 0.12, 0.05, 0.0)
KEY_ACCOUNT_MANAGER_SHARE = 0.70
# Departments involved (1…5) by category (order of COMPLAINT_CATEGORIES).
DEPARTMENT_WEIGHTS = (
    (0.30, 0.38, 0.22, 0.08, 0.02),  # coverage
    (0.50, 0.33, 0.13, 0.04, 0.00),  # billing
    (0.70, 0.24, 0.05, 0.01, 0.00),  # value-added services
    (0.40, 0.40, 0.15, 0.05, 0.00),  # porting
    (0.75, 0.20, 0.05, 0.00, 0.00),  # SIM / subscriber data
    (0.60, 0.30, 0.10, 0.00, 0.00),  # staff attitude
    (0.45, 0.35, 0.15, 0.05, 0.00),  # spam / fraud
)
# Hours to resolve (lognormal median for one department) by category; each extra
# department multiplies it (more hand-offs).
RESOLUTION_MEDIAN_HOURS = (75, 55, 24, 40, 16, 45, 65)
RESOLUTION_PER_EXTRA_DEPARTMENT = 1.8
RESOLUTION_SIGMA = 1.0
KEY_ACCOUNT_RESOLUTION = 0.5
# A few complaints get stuck waiting on another party (a partner, a network fix): they feed
# the long tail of resolution times, the SLA misses and the backlog of old open complaints.
STUCK_SHARE = 0.03
STUCK_FACTOR = 12.0
# SLA targets (docs/domain.md: billing ≤ 15 days, others ≤ 30 days, key customers ≤ 10 days).
SLA_HOURS_BILLING = 360
SLA_HOURS_OTHER = 720
SLA_HOURS_KEY_ACCOUNT = 240
# First response (acknowledgement): lognormal hours; ~95 % within the 48 h rule.
ACK_MEDIAN_HOURS = 7
ACK_SIGMA = 1.25
# Resolved at first contact: only single-department complaints on a live channel.
FIRST_CONTACT_SHARE = 0.55
CLOSE_MEDIAN_HOURS = 20
REOPENED_SHARE = 0.05
# CSAT after resolution: share surveyed; mean score lift when the owner had completed training.
CSAT_SURVEYED_SHARE = 0.6
CSAT_BASE = 3.45
CSAT_TRAINED_LIFT = 0.6

# --- staff and training -----------------------------------------------------------------------------
CUSTOMERS_PER_CALL_CENTRE_AGENT = 2_500
CUSTOMERS_PER_STORE_AGENT = 3_500
KEY_ACCOUNTS_PER_MANAGER = 60
ENROLMENT_SHARE = 0.80  # per staff member and course
COMPLETION_SHARE = 0.72  # of enrolments; a few more are still in progress at the end (→ ~68 % completed)
SCORE_MEAN, SCORE_SD = 78, 9

# --- surveys ---------------------------------------------------------------------------------------------
SURVEY_RATE = 0.004  # responses per customer-month

# --- retention campaigns --------------------------------------------------------------------------------
# (months before the end month it starts, target segment, offer, name).
CAMPAIGNS = (
    (32, "individual", "data_bonus", "Tặng data giữ chân khách hàng trẻ"),
    (26, "household", "discount", "Ưu đãi cước gia đình"),
    (20, "individual", "loyalty_points", "Tích điểm Viettel++ cho thuê bao rủi ro"),
    (15, "enterprise", "discount", "Chiết khấu doanh nghiệp gia hạn"),
    (9, "individual", "device", "Đổi máy 4G cho thuê bao lâu năm"),
    (3, "individual", "data_bonus", "Gói data ưu đãi cuối năm"),
)
CAMPAIGN_CONTACT_DAYS = 20  # contacts spread over the first days of the start month
CAMPAIGN_RISK_QUANTILE = 0.70  # at-risk = hazard above this quantile of the segment
CAMPAIGN_TARGET_SHARE = 0.30  # of the at-risk customers
CAMPAIGN_CONTROL_SHARE = 0.20
CAMPAIGN_ACCEPT_SHARE = 0.35
CAMPAIGN_EFFECT_MONTHS = 3
CAMPAIGN_HAZARD_ACCEPTED = 0.30  # hazard multiplier for contacted customers who accepted
CAMPAIGN_HAZARD_DECLINED = 0.85  # … and for those contacted who declined

assert len(SEGMENTS) == 5
