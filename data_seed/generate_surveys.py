"""Satisfaction surveys: NPS (0–10), overall CSAT and four aspects (1–5), a few per thousand customer-months.

Each response comes from one latent satisfaction: enterprises a little happier, remote
customers less happy with the network, customers in the outage province-month much less,
and customers about to leave (within 90 days) clearly less (so NPS warns of churn).
"""

import numpy as np
import polars as pl

from data_seed import generate_params as p
from data_seed.generate_calendar import NOT_SET, dates
from data_seed.generate_customers import ENTERPRISE, GOVERNMENT, REMOTE, Customers
from data_seed.generate_lifecycle import Lifecycle
from data_seed.generate_revenue import CustomerMonths
from data_seed.generate_world import World

# NPS = round(NPS_CENTRE + NPS_SPREAD × latent): ~45 % promoters and ~22 % detractors (NPS ≈ +23).
NPS_CENTRE, NPS_SPREAD = 8.22, 2.23


def _score(values: np.ndarray, low: int, high: int) -> np.ndarray:
    return np.clip(np.round(values), low, high).astype(np.int16)


def surveys_frame(
    world: World, customers: Customers, life: Lifecycle, rows: CustomerMonths, rng: np.random.Generator, first_id: int
) -> pl.DataFrame:
    window = world.window
    chance = p.SURVEY_RATE * rows.active_fraction(window.days_in_month)
    hit = np.flatnonzero(rng.random(rows.size) < chance)
    size = hit.size
    position, month = rows.position[hit], rows.month[hit]
    span = np.maximum(rows.end_day[hit] - rows.first_day[hit], 1)
    day = rows.first_day[hit] + (rng.random(size) * span).astype(np.int64)

    churn = life.churn_day[position]
    leaving_soon = (churn != NOT_SET) & (churn >= day) & (churn <= day + 90)
    organisation = np.isin(customers.segment[position], (ENTERPRISE, GOVERNMENT))
    remote = customers.area[position] == REMOTE
    outage = (customers.province[position] == world.outage_province) & (month == world.events.outage_month)
    latent = rng.normal(0.0, 1.0, size) + 0.15 * organisation - 0.15 * remote - 0.6 * leaving_soon - 0.5 * outage

    def aspect(centre: float, weight: float, noise: float) -> np.ndarray:
        return centre + weight * latent + noise * rng.normal(0.0, 1.0, size)

    network = aspect(3.9, 0.7, 0.6) - 0.6 * remote - 0.8 * outage
    procedure = aspect(3.8, 0.6, 0.6)
    staff = aspect(4.0, 0.6, 0.6)
    price = aspect(3.5, 0.6, 0.7)
    overall = (network + procedure + staff + price) / 4 + 0.3 * rng.normal(0.0, 1.0, size)
    return pl.DataFrame(
        {
            "survey_id": np.arange(first_id, first_id + size, dtype=np.int64),
            "customer_id": customers.customer_id[position],
            "surveyed_on": dates(day),
            "nps_score": _score(NPS_CENTRE + NPS_SPREAD * latent, 0, 10),
            "csat_score": _score(overall, 1, 5),
            "network_quality_score": _score(network, 1, 5),
            "procedure_speed_score": _score(procedure, 1, 5),
            "staff_attitude_score": _score(staff, 1, 5),
            "price_score": _score(price, 1, 5),
        }
    )
