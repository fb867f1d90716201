"""Who the customers are: one chunk of customer attributes as numpy vectors.

Categorical attributes are small integer codes (indexes into the tuples of
queries.tables); the frame for the ``customers`` table is assembled at the end, once churn
is known (generate_lifecycle.py).
"""

from dataclasses import dataclass
from datetime import date

import numpy as np

from data_seed import generate_params as p
from data_seed.generate_calendar import NOT_SET, day_number
from data_seed.generate_world import World
from data_seed.market_facts import COMPETITOR_MARKET_SHARES, MNP_START
from queries.tables import SEGMENTS

INDIVIDUAL, HOUSEHOLD, ENTERPRISE, GOVERNMENT, FOREIGN = range(len(SEGMENTS))
URBAN, RURAL, REMOTE = range(3)
GOOD, OCCASIONAL, CHRONIC = range(3)  # payer types, in the order of generate_params.PAYER_TYPES
DAYS_PER_MONTH = 365.25 / 12
MNP_ALL_NUMBERS = date(2019, 1, 1)
COMPETITOR_WEIGHTS = np.asarray(list(COMPETITOR_MARKET_SHARES.values())) / sum(COMPETITOR_MARKET_SHARES.values())


def choose(rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray | None = None, size: int = 0) -> np.ndarray:
    """Draw one index per row from a row of ``weights`` (rows=None: one weight vector for all)."""
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    if rows is None:
        rows = np.zeros(size, dtype=np.int64)
    draws = rng.random(rows.size)
    chosen = (draws[:, None] >= cumulative[rows]).sum(axis=1)
    return np.minimum(chosen, weights.shape[1] - 1)


def first_of_year_day(years: np.ndarray) -> np.ndarray:
    """Day number of 1 January of each year."""
    return (np.asarray(years, dtype=np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def segment_values(table: tuple, segment: np.ndarray) -> np.ndarray:
    """Per-customer value of a per-segment parameter tuple."""
    return np.asarray(table, dtype=np.float64)[segment]


@dataclass
class Customers:
    """Attributes of one chunk of customers (vectors of equal length)."""

    customer_id: np.ndarray
    province: np.ndarray
    segment: np.ndarray
    postpaid: np.ndarray
    area: np.ndarray
    birth_year: np.ndarray
    age_band: np.ndarray
    male: np.ndarray
    has_mobile: np.ndarray
    has_home_internet: np.ndarray
    has_tv: np.ndarray
    has_enterprise_solutions: np.ndarray
    key_account: np.ndarray
    activated: np.ndarray  # day number
    activation_month: np.ndarray  # window month index; −1 for accounts older than the window
    ported_in: np.ndarray  # competitor index or NOT_SET
    payer: np.ndarray  # payer type (postpaid only; GOOD for prepaid)
    hazard: np.ndarray  # monthly voluntary churn hazard
    expiry_hazard: np.ndarray  # monthly involuntary (prepaid expiry) hazard
    revenue_mean: np.ndarray  # VND per month
    due_day: np.ndarray  # day of the month (20–25) the customer's bills fall due

    @property
    def size(self) -> int:
        return self.customer_id.size


def new_share(months: int) -> float:
    """Share of customers activated inside the window, so gross adds ≈ GROSS_ADD_RATE × base."""
    added = months * p.GROSS_ADD_RATE
    return added / (1.0 + added)


def generate_customers(world: World, rng: np.random.Generator, first_id: int, size: int) -> Customers:
    window = world.window
    customer_id = np.arange(first_id, first_id + size, dtype=np.int64)
    province = choose(rng, world.population_weights, size=size)
    is_new = rng.random(size) < new_share(window.months)

    big_city = np.isin(np.asarray(world.province_codes)[province], p.BIG_CITIES)
    segment_tables = []
    for shares in (p.SEGMENT_SHARES_BASE, p.SEGMENT_SHARES_NEW):
        for city in (False, True):
            weights = np.asarray(shares, dtype=np.float64)
            if city:
                weights[ENTERPRISE] *= p.BIG_CITY_ENTERPRISE_BOOST
            segment_tables.append(weights)
    segment = choose(rng, np.asarray(segment_tables), rows=is_new * 2 + big_city)

    postpaid = rng.random(size) < segment_values(p.POSTPAID_SHARE, segment)
    area = choose(rng, world.area_shares, rows=province)
    person = np.isin(segment, (INDIVIDUAL, HOUSEHOLD, FOREIGN))

    bands = np.asarray([share for _, _, share in p.AGE_BANDS])
    age_band = choose(rng, bands, size=size)
    low = np.asarray([band[0] for band in p.AGE_BANDS])[age_band]
    high = np.asarray([band[1] for band in p.AGE_BANDS])[age_band]
    age = rng.integers(low, high + 1)
    contact_low, contact_high = p.ORGANISATION_CONTACT_AGES
    age = np.where(person, age, rng.integers(contact_low, contact_high + 1, size))
    age_band = np.searchsorted(np.asarray([band[0] for band in p.AGE_BANDS]), age, side="right") - 1
    birth_year = window.end_month.year - age

    male = rng.random(size) < p.MALE_SHARE
    has_mobile = rng.random(size) < segment_values(p.HAS_MOBILE, segment)
    has_home_internet = rng.random(size) < segment_values(p.HAS_HOME_INTERNET, segment)
    has_tv = rng.random(size) < segment_values(p.HAS_TV, segment)
    has_enterprise_solutions = rng.random(size) < segment_values(p.HAS_ENTERPRISE_SOLUTIONS, segment)
    has_mobile |= ~(has_home_internet | has_tv | has_enterprise_solutions)
    key_account = rng.random(size) < segment_values(p.KEY_ACCOUNT_SHARE, segment)

    plan_hazard = np.where(postpaid, p.VOLUNTARY_HAZARD["postpaid"], p.VOLUNTARY_HAZARD["prepaid"])
    age_churn = np.where(person, np.asarray(p.AGE_CHURN)[age_band], 1.0)
    area_churn = np.asarray([p.AREA_CHURN[name] for name in ("urban", "rural", "remote")])[area]
    hazard = (
        plan_hazard * segment_values(p.SEGMENT_CHURN, segment) * age_churn * area_churn * world.province_churn[province]
    )
    expiry_hazard = np.where(postpaid, 0.0, hazard * p.PREPAID_EXPIRY_SHARE)

    payer = _payer_types(rng, postpaid, person, age_band)
    default_hazard = np.asarray([row[3] for row in p.PAYER_TYPES.values()])[payer] * postpaid

    activated = _activation_days(rng, world, is_new, hazard + expiry_hazard + default_hazard, birth_year)
    activation_month = np.maximum(window.month_index(activated), -1)

    ported_in = _ported_in(rng, activated, activation_month, postpaid)
    revenue_mean = _revenue_means(
        rng, segment, postpaid, area, has_mobile, has_home_internet, has_tv, has_enterprise_solutions
    )
    return Customers(
        customer_id=customer_id,
        province=province,
        segment=segment,
        postpaid=postpaid,
        area=area,
        birth_year=birth_year.astype(np.int16),
        age_band=age_band,
        male=male,
        has_mobile=has_mobile,
        has_home_internet=has_home_internet,
        has_tv=has_tv,
        has_enterprise_solutions=has_enterprise_solutions,
        key_account=key_account,
        activated=activated,
        activation_month=activation_month,
        ported_in=ported_in,
        payer=payer,
        hazard=hazard,
        expiry_hazard=expiry_hazard,
        revenue_mean=revenue_mean,
        due_day=p.BILL_DUE_DAYS[0] + customer_id % (p.BILL_DUE_DAYS[1] - p.BILL_DUE_DAYS[0] + 1),
    )


def _payer_types(rng: np.random.Generator, postpaid, person, age_band) -> np.ndarray:
    person_weights = np.asarray([row[0] for row in p.PAYER_TYPES.values()])
    organisation_weights = np.asarray([row[1] for row in p.PAYER_TYPES.values()])
    young_weights = person_weights.copy()
    young_weights[CHRONIC] *= p.YOUNG_CHRONIC_BOOST
    rows = np.where(person, np.where(age_band <= 1, 2, 0), 1)
    payer = choose(rng, np.vstack([person_weights, organisation_weights, young_weights]), rows=rows)
    return np.where(postpaid, payer, GOOD)


def _activation_days(rng: np.random.Generator, world: World, is_new, total_hazard, birth_year) -> np.ndarray:
    window = world.window
    size = is_new.size
    # New lines: a month weighted by Tết seasonality and slow growth, then a day in it.
    weights = window.tet_factor(*p.ACTIVATION_TET) * (1.0 + 0.004 * np.arange(window.months))
    month = choose(rng, weights, size=size)
    new_day = window.month_starts[month] + (rng.random(size) * window.days_in_month[month]).astype(np.int64)
    # The base: survivors of a steady state have an exponential age with the customer's own
    # hazard (loyal segments are old), truncated at the oldest account age.
    limit = 1.0 - np.exp(-total_hazard * p.OLDEST_ACCOUNT_MONTHS)
    age_months = -np.log1p(-rng.random(size) * limit) / total_hazard
    base_day = window.start_day - 1 - (age_months * DAYS_PER_MONTH).astype(np.int64)
    activated = np.where(is_new, new_day, base_day)
    # Nobody holds a line before 16: move too-early activations to after that birthday.
    earliest = first_of_year_day(birth_year + p.YOUNGEST_SUBSCRIBER_AGE)
    too_early = activated < earliest
    span = np.maximum(window.cutoff_day - earliest, 1)
    return np.where(too_early, earliest + (rng.random(size) * span).astype(np.int64), activated)


def _ported_in(rng: np.random.Generator, activated, activation_month, postpaid) -> np.ndarray:
    share = np.where(activation_month >= 0, p.PORTED_IN_SHARE_NEW, p.PORTED_IN_SHARE_BASE)
    mnp_open = np.where(postpaid, day_number(MNP_START), day_number(MNP_ALL_NUMBERS))
    ported = (rng.random(activated.size) < share) & (activated >= mnp_open)
    competitor = choose(rng, COMPETITOR_WEIGHTS, size=activated.size)
    return np.where(ported, competitor, NOT_SET)


def _revenue_means(rng, segment, postpaid, area, has_mobile, has_internet, has_tv, has_solutions) -> np.ndarray:
    mobile = np.where(
        postpaid,
        segment_values(p.MOBILE_ARPU["postpaid"], segment),
        segment_values(p.MOBILE_ARPU["prepaid"], segment),
    )
    mean = (
        mobile * has_mobile
        + segment_values(p.HOME_INTERNET_VND, segment) * has_internet
        + segment_values(p.TV_VND, segment) * has_tv
        + segment_values(p.ENTERPRISE_SOLUTIONS_VND, segment) * has_solutions
    )
    sigma = p.CUSTOMER_REVENUE_SIGMA
    spread = np.exp(rng.normal(-sigma * sigma / 2, sigma, segment.size))
    return mean * spread * np.where(area == REMOTE, p.REMOTE_REVENUE, 1.0)
