"""The warehouse schema, defined in code (duckdb-engine cannot reflect on SQLAlchemy 2.1).

Every column carries a one-line ``doc``: unit, time zone, accepted values. The schema
section of the README (docs/schema.md) is generated from these docs by
``python -m queries.schema_doc`` so the two cannot drift apart.

Conventions:
- timestamps are local Vietnam time (Asia/Ho_Chi_Minh, UTC+7) stored without zone;
- money is whole Vietnamese dong (``*_vnd``, BIGINT);
- months are DATEs on the first day of the month (``*_month``);
- integer primary keys use ``autoincrement=False`` (duckdb-engine would emit SERIAL).
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()

# Accepted values, shared by the generator, the importer, the contracts and the UI.
SEGMENTS = ("individual", "household", "enterprise", "government", "foreign")
PLANS = ("prepaid", "postpaid")
# "unknown" is the honest answer of an extract that does not record it (docs/schema.md).
UNKNOWN = "unknown"
AREA_TYPES = ("urban", "rural", "remote", UNKNOWN)
GENDERS = ("male", "female")
CUSTOMER_STATUSES = ("active", "churned")
MACRO_REGIONS = ("Bắc", "Trung", "Nam")
COMPETITORS = ("mobifone", "vinaphone", "vietnamobile", "gmobile", "mvno")
# Where a number went or came from: a known competitor, or one the extract does not name
# (most churn extracts record "left for a competitor" without saying which).
PORT_DESTINATIONS = (*COMPETITORS, UNKNOWN)
CHURN_TYPES = ("voluntary", "involuntary")
CHURN_REASONS = (
    "price",
    "competitor_promotion",
    "network_quality",
    "service_attitude",
    "relocation",
    "non_payment",
    "other",
)
COMPLAINT_CATEGORIES = (
    "coverage",
    "billing",
    "value_added_services",
    "porting",
    "sim_subscriber_data",
    "staff_attitude",
    "spam_fraud",
)
COMPLAINT_CHANNELS = ("hotline", "store", "app", "web", "social", "email", "account_manager")
CARE_CHANNELS = ("call_centre", "store", "app", "web", "social", "email")
STAFF_CHANNELS = ("call_centre", "store", "account_manager")
COURSES = ("communication", "professional_manner", "special_situations")
CAMPAIGN_GROUPS = ("contacted", "control")
SURVEY_ASPECTS = ("network_quality", "procedure_speed", "staff_attitude", "price")
# The score column of each survey aspect, with its labels (Vietnamese, English).
ASPECT_COLUMNS = {
    "network_quality": ("network_quality_score", "chất lượng mạng", "network quality"),
    "procedure_speed": ("procedure_speed_score", "thủ tục nhanh gọn", "speed of procedures"),
    "staff_attitude": ("staff_attitude_score", "thái độ nhân viên", "staff attitude"),
    "price": ("price_score", "giá cước", "price"),
}
PORT_OUT_OUTCOMES = ("completed", "refused_debt")
CAMPAIGN_OFFERS = ("data_bonus", "discount", "device", "loyalty_points")


def _pk(name: str, doc: str) -> Column:
    return Column(name, BigInteger, primary_key=True, autoincrement=False, doc=doc)


provinces = Table(
    "provinces",
    metadata,
    Column(
        "province_code",
        String(2),
        primary_key=True,
        doc="Official statistical code of the 34 units since 1 July 2025, e.g. '01'",
    ),
    Column("name_vi", Text, nullable=False, doc="Short Vietnamese name, without 'Tỉnh'/'Thành phố'"),
    Column("full_name_vi", Text, nullable=False, doc="Full Vietnamese name"),
    Column("name_en", Text, nullable=False, doc="English name"),
    Column("macro_region", Text, nullable=False, doc="Bắc, Trung or Nam"),
    Column("sub_region", Text, nullable=False, doc="One of the 8 socio-economic sub-regions (Vietnamese)"),
    Column("population", BigInteger, nullable=False, doc="Population, persons (relative weight; sums to ~112 M)"),
    Column("area_km2", Float, nullable=False, doc="Area, km²"),
    Column("lat", Float, nullable=False, doc="Area-weighted centroid latitude, degrees WGS84"),
    Column("lon", Float, nullable=False, doc="Area-weighted centroid longitude, degrees WGS84"),
)

legacy_provinces = Table(
    "legacy_provinces",
    metadata,
    Column("old_code", String(2), primary_key=True, doc="Code of one of the 63 provinces before 1 July 2025"),
    Column("old_name_vi", Text, nullable=False, doc="Vietnamese name of the old province"),
    Column(
        "new_code",
        String(2),
        ForeignKey("provinces.province_code"),
        nullable=False,
        doc="Code of the province it merged into",
    ),
)

customers = Table(
    "customers",
    metadata,
    _pk("customer_id", "Customer (subscription account) id inside the warehouse"),
    Column(
        "customer_key",
        Text,
        nullable=False,
        doc="The operator's own key of the account, as extracted (text, unique, e.g. '0002-ORFBO'); imports match on it",
    ),
    Column("segment", Text, nullable=False, doc="individual, household, enterprise, government or foreign"),
    Column(
        "province_code",
        String(2),
        ForeignKey("provinces.province_code"),
        nullable=False,
        doc="Province of the account (34 codes)",
    ),
    Column(
        "area_type", Text, nullable=False, doc="urban, rural, remote (vùng sâu vùng xa), or unknown when not recorded"
    ),
    Column(
        "birth_year",
        SmallInteger,
        nullable=False,
        doc="Birth year of the account holder (of the contact person for organisations); age bands derive from it",
    ),
    Column("gender", Text, doc="male or female; NULL when not recorded or for an organisation's account"),
    Column("plan", Text, nullable=False, doc="prepaid or postpaid"),
    Column("has_mobile", Boolean, nullable=False, doc="Holds a mobile subscription"),
    Column("has_home_internet", Boolean, nullable=False, doc="Holds a home/fixed internet service"),
    Column("has_tv", Boolean, nullable=False, doc="Holds a TV service"),
    Column(
        "has_enterprise_solutions", Boolean, nullable=False, doc="Holds enterprise solutions (cloud, leased line, …)"
    ),
    Column("is_key_account", Boolean, nullable=False, doc="Key (big) customer managed by an account manager"),
    Column("activated_on", Date, nullable=False, doc="Activation date (Asia/Ho_Chi_Minh)"),
    Column("status", Text, nullable=False, doc="active or churned (as of the end of the data)"),
    Column("churned_on", Date, doc="Churn date (Asia/Ho_Chi_Minh); NULL while active"),
    Column(
        "ported_in_from",
        Text,
        doc="Competitor the number was ported in from (mobifone, vinaphone, vietnamobile, gmobile, mvno, or unknown); "
        "NULL otherwise",
    ),
    Column(
        "full_name", Text, doc="Holder name (personal data: masked for roles without rights); NULL when not extracted"
    ),
    Column("phone", Text, doc="Main phone number, 10 digits starting with 0 (personal data); NULL when not extracted"),
)

revenue_monthly = Table(
    "revenue_monthly",
    metadata,
    Column(
        "customer_id",
        BigInteger,
        ForeignKey("customers.customer_id"),
        primary_key=True,
        autoincrement=False,
        doc="Customer",
    ),
    Column("revenue_month", Date, primary_key=True, doc="Month (first day) the revenue was earned in"),
    Column(
        "revenue_vnd",
        BigInteger,
        nullable=False,
        doc="Net service revenue in the month, VND: charges less credits and refunds, so it can be negative",
    ),
)

bills = Table(
    "bills",
    metadata,
    _pk("bill_id", "Bill id"),
    Column(
        "customer_id", BigInteger, ForeignKey("customers.customer_id"), nullable=False, doc="Postpaid customer billed"
    ),
    Column("bill_month", Date, nullable=False, doc="Month of usage billed (first day)"),
    Column("billed_vnd", BigInteger, nullable=False, doc="Amount billed, VND (≥ 0)"),
    Column("due_on", Date, nullable=False, doc="Due date (around the 20th–25th of the next month)"),
    Column("paid_vnd", BigInteger, nullable=False, doc="Amount paid so far, VND (0 … billed)"),
    Column("paid_on", Date, doc="Date of the (last) payment; NULL when nothing paid"),
    Column("one_way_block_on", Date, doc="Outgoing calls blocked for non-payment; NULL if never"),
    Column("two_way_block_on", Date, doc="All service blocked for non-payment; NULL if never"),
    Column("terminated_on", Date, doc="Contract terminated for non-payment; NULL if never"),
)

staff = Table(
    "staff",
    metadata,
    _pk("staff_id", "Care staff member id"),
    Column(
        "province_code",
        String(2),
        ForeignKey("provinces.province_code"),
        nullable=False,
        doc="Province the staff member works in",
    ),
    Column("channel", Text, nullable=False, doc="call_centre, store or account_manager"),
    Column("hired_on", Date, nullable=False, doc="Hire date"),
)

training = Table(
    "training",
    metadata,
    _pk("training_id", "Enrolment id"),
    Column("staff_id", BigInteger, ForeignKey("staff.staff_id"), nullable=False, doc="Staff member enrolled"),
    Column("course", Text, nullable=False, doc="communication, professional_manner or special_situations"),
    Column("enrolled_on", Date, nullable=False, doc="Enrolment date"),
    Column("completed_on", Date, doc="Completion date; NULL if not completed"),
    Column("score", SmallInteger, doc="Final score 0–100; NULL if not completed"),
)

complaints = Table(
    "complaints",
    metadata,
    _pk("complaint_id", "Complaint id"),
    Column(
        "customer_id",
        BigInteger,
        ForeignKey("customers.customer_id"),
        nullable=False,
        doc="Complaining customer (province, segment… come from the customer)",
    ),
    Column(
        "staff_id", BigInteger, ForeignKey("staff.staff_id"), nullable=False, doc="Staff member who owned the complaint"
    ),
    Column("channel", Text, nullable=False, doc="hotline, store, app, web, social, email or account_manager"),
    Column(
        "category",
        Text,
        nullable=False,
        doc="coverage, billing, value_added_services, porting, sim_subscriber_data, staff_attitude or spam_fraud",
    ),
    Column("opened_at", DateTime, nullable=False, doc="Received (Asia/Ho_Chi_Minh)"),
    Column("acknowledged_at", DateTime, doc="First response to the customer (Asia/Ho_Chi_Minh); NULL if not yet"),
    Column("resolved_at", DateTime, doc="Resolved (Asia/Ho_Chi_Minh); NULL while open"),
    Column("closed_at", DateTime, doc="Closed after confirmation (Asia/Ho_Chi_Minh); NULL while open"),
    Column(
        "sla_hours",
        Integer,
        nullable=False,
        doc="Resolution target for this complaint, hours (billing 15 d, others 30 d, key accounts 10 d)",
    ),
    Column("departments_involved", SmallInteger, nullable=False, doc="Number of departments that took part (≥ 1)"),
    Column("escalated", Boolean, nullable=False, doc="Escalated to a higher level"),
    Column("reopened", Boolean, nullable=False, doc="Reopened after resolution"),
    Column("resolved_first_contact", Boolean, nullable=False, doc="Resolved at the first contact"),
    Column("csat", SmallInteger, doc="Post-resolution satisfaction 1–5; NULL if not surveyed"),
)

churn_events = Table(
    "churn_events",
    metadata,
    Column(
        "customer_id",
        BigInteger,
        ForeignKey("customers.customer_id"),
        primary_key=True,
        autoincrement=False,
        doc="Customer who left (one event per customer)",
    ),
    Column("churned_on", Date, nullable=False, doc="Date of leaving (equals customers.churned_on)"),
    Column("churn_type", Text, nullable=False, doc="voluntary or involuntary (non-payment)"),
    Column(
        "reason",
        Text,
        nullable=False,
        doc="price, competitor_promotion, network_quality, service_attitude, relocation, non_payment or other",
    ),
    Column("reason_text", Text, doc="The operator's own wording of the reason, as extracted; NULL when none"),
    Column(
        "ported_to",
        Text,
        doc="Competitor the number was ported to (mobifone, vinaphone, vietnamobile, gmobile, mvno), unknown when the "
        "customer left for a competitor the extract does not name; NULL if not ported",
    ),
    Column("won_back_on", Date, doc="Date the customer was re-acquired (win-back); NULL if not"),
)

port_out_requests = Table(
    "port_out_requests",
    metadata,
    _pk("request_id", "Port-out request id"),
    Column(
        "customer_id",
        BigInteger,
        ForeignKey("customers.customer_id"),
        nullable=False,
        doc="Customer asking to port out",
    ),
    Column("requested_on", Date, nullable=False, doc="Request date"),
    Column("to_competitor", Text, nullable=False, doc="Competitor asked for (or unknown)"),
    Column("outcome", Text, nullable=False, doc="completed or refused_debt (refused for unpaid bills)"),
)

campaigns = Table(
    "campaigns",
    metadata,
    _pk("campaign_id", "Retention campaign id"),
    Column("name", Text, nullable=False, doc="Campaign name"),
    Column("offer", Text, nullable=False, doc="Offer made: data_bonus, discount, device, loyalty_points"),
    Column("target_segment", Text, nullable=False, doc="Segment targeted"),
    Column("started_on", Date, nullable=False, doc="First contact date"),
    Column("ended_on", Date, nullable=False, doc="Last contact date"),
)

campaign_targets = Table(
    "campaign_targets",
    metadata,
    Column(
        "campaign_id",
        BigInteger,
        ForeignKey("campaigns.campaign_id"),
        primary_key=True,
        autoincrement=False,
        doc="Campaign",
    ),
    Column(
        "customer_id",
        BigInteger,
        ForeignKey("customers.customer_id"),
        primary_key=True,
        autoincrement=False,
        doc="Customer at risk, targeted",
    ),
    Column("group_name", Text, nullable=False, doc="contacted or control (randomly held out)"),
    Column("targeted_on", Date, nullable=False, doc="Date selected (and contacted, for the contacted group)"),
    Column("accepted_offer", Boolean, nullable=False, doc="Accepted the offer (always false for control)"),
    Column(
        "churned_within_90d",
        Boolean,
        nullable=False,
        doc="Outcome: churned within 90 days of targeted_on (consistent with customers.churned_on)",
    ),
)

surveys = Table(
    "surveys",
    metadata,
    _pk("survey_id", "Survey response id"),
    Column("customer_id", BigInteger, ForeignKey("customers.customer_id"), nullable=False, doc="Respondent"),
    Column("surveyed_on", Date, nullable=False, doc="Response date"),
    Column("nps_score", SmallInteger, nullable=False, doc="Likelihood to recommend 0–10"),
    Column("csat_score", SmallInteger, nullable=False, doc="Overall satisfaction 1–5"),
    Column("network_quality_score", SmallInteger, nullable=False, doc="Aspect: network quality 1–5"),
    Column("procedure_speed_score", SmallInteger, nullable=False, doc="Aspect: speed and simplicity of procedures 1–5"),
    Column("staff_attitude_score", SmallInteger, nullable=False, doc="Aspect: staff attitude 1–5"),
    Column("price_score", SmallInteger, nullable=False, doc="Aspect: price 1–5"),
)

care_contacts_monthly = Table(
    "care_contacts_monthly",
    metadata,
    Column("contact_month", Date, primary_key=True, doc="Month (first day)"),
    Column("province_code", String(2), ForeignKey("provinces.province_code"), primary_key=True, doc="Province served"),
    Column("channel", Text, primary_key=True, doc="call_centre, store, app, web, social or email"),
    Column("contacts_offered", BigInteger, nullable=False, doc="Calls offered / visits / contacts received"),
    Column(
        "answered_within_60s", BigInteger, doc="Call centre only: calls answered within 60 s; NULL for other channels"
    ),
    Column(
        "handle_time_s_total", BigInteger, nullable=False, doc="Total handling time, seconds (mean = total ÷ handled)"
    ),
    Column(
        "contacts_handled", BigInteger, nullable=False, doc="Contacts actually handled (answered calls, served visits)"
    ),
)

kpi_targets = Table(
    "kpi_targets",
    metadata,
    Column("measure", Text, primary_key=True, doc="Measure name in the registry (queries/metrics.py)"),
    Column("target_month", Date, primary_key=True, doc="Month the target applies to (first day)"),
    Column("province_code", String(2), primary_key=True, doc="Province, or '00' for the whole country"),
    Column(
        "target_value", Float, nullable=False, doc="Target in the measure's unit (rates as fractions, money in VND)"
    ),
)

warehouse_meta = Table(
    "warehouse_meta",
    metadata,
    Column(
        "key",
        Text,
        primary_key=True,
        doc="data_through (last complete month, ISO date), loaded_at (ISO timestamp, Asia/Ho_Chi_Minh), source, seed, data_version",
    ),
    Column("value", Text, nullable=False, doc="Value as text"),
)

load_log = Table(
    "load_log",
    metadata,
    Column("load_id", Text, primary_key=True, doc="Id of the load (32 hex digits)"),
    Column(
        "kind",
        Text,
        nullable=False,
        doc="month (one month's extract), history (a whole extract replacing the warehouse) or generate (demo data)",
    ),
    Column("load_month", Date, doc="Month loaded (first day) for kind month; NULL otherwise"),
    Column("source", Text, nullable=False, doc="Directory loaded, or the generator's arguments"),
    Column("files", Text, nullable=False, doc="JSON list of the files read: name, table, rows, sha256"),
    Column("started_at", DateTime, nullable=False, doc="Start (Asia/Ho_Chi_Minh)"),
    Column("finished_at", DateTime, nullable=False, doc="End (Asia/Ho_Chi_Minh)"),
    Column(
        "outcome",
        Text,
        nullable=False,
        doc="loaded, refused (problems in the files; nothing written) or failed (error while writing; nothing written)",
    ),
    Column("message", Text, doc="Warnings of a load that went in, or why it was refused or failed"),
    Column("loaded_by", Text, nullable=False, doc="Operating-system user who ran it"),
)
LOAD_KINDS = ("month", "history", "generate")
LOAD_OUTCOMES = ("loaded", "refused", "failed")

COUNTRY_CODE = "00"  # kpi_targets.province_code for country-wide targets
