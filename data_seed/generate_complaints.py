"""Complaints, drawn per customer-month, and their handling from opening to satisfaction score.

A customer-month complains with a small probability (≈ 0.25 per 100 customers per quarter)
that rises for organisations and remote areas and in the planted events; the category mix
shifts with the area (coverage), the plan (billing) and the events. Handling times follow
lognormal laws that lengthen with every department involved.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from data_seed import generate_events as ev
from data_seed import generate_params as p
from data_seed.generate_calendar import NOT_SET, SECONDS_PER_DAY, nullable, timestamps
from data_seed.generate_customers import Customers, choose
from data_seed.generate_revenue import CustomerMonths
from data_seed.generate_world import World
from queries.tables import COMPLAINT_CATEGORIES, COMPLAINT_CHANNELS

CATEGORY = {name: index for index, name in enumerate(COMPLAINT_CATEGORIES)}
CHANNEL = {name: index for index, name in enumerate(COMPLAINT_CHANNELS)}
# Which staff channel (queries.tables.STAFF_CHANNELS index) owns a complaint from each channel.
STAFF_CHANNEL_OF = np.asarray([0, 1, 0, 0, 0, 0, 2])  # hotline, store, app, web, social, email, account_manager
HOUR = 3600


@dataclass(frozen=True)
class StaffDirectory:
    """Where to find the staff of a province and channel, and since when each is trained."""

    offsets: np.ndarray  # (province, staff channel) first staff_id
    counts: np.ndarray  # (province, staff channel) number of staff
    trained_since: np.ndarray  # per staff_id (index = staff_id): first completion day, or a huge day


def complaint_rates(world: World, customers: Customers, rows: CustomerMonths) -> tuple[np.ndarray, np.ndarray]:
    """Per customer-month: the probability of a complaint, and the category weights' multipliers."""
    window, events = world.window, world.events
    position, month = rows.position, rows.month
    area = customers.area[position]
    province = customers.province[position]
    base = (
        p.COMPLAINT_RATE
        * np.asarray(p.SEGMENT_COMPLAINTS)[customers.segment[position]]
        * np.asarray([p.AREA_COMPLAINTS[name] for name in ("urban", "rural", "remote")])[area]
        * world.province_complaints[province]
        * window.tet_factor(*p.COMPLAINT_TET)[month]
        * rows.active_fraction(window.days_in_month)
    )
    coverage = np.asarray([p.COVERAGE_BY_AREA[name] for name in ("urban", "rural", "remote")])[area]
    outage = (province == world.outage_province) & (month == events.outage_month)
    coverage = coverage * np.where(outage, ev.OUTAGE_COVERAGE_COMPLAINTS, 1.0)
    billing = np.where(customers.postpaid[position], p.POSTPAID_BILLING, 1.0)
    billing = billing * np.where(month == events.billing_incident_month, ev.BILLING_INCIDENT_COMPLAINTS, 1.0)
    promotion = world.promotion_provinces[province] & np.isin(month, events.promotion_months)
    porting = np.where(promotion, ev.PROMOTION_PORTING_COMPLAINTS, 1.0)
    weights = np.asarray(p.CATEGORY_WEIGHTS)
    multipliers = np.ones((rows.size, len(COMPLAINT_CATEGORIES)), dtype=np.float32)
    multipliers[:, CATEGORY["coverage"]] = coverage
    multipliers[:, CATEGORY["billing"]] = billing
    multipliers[:, CATEGORY["porting"]] = porting
    shift = (multipliers @ weights.astype(np.float32)) / weights.sum()
    return np.minimum(base * shift, 0.9), multipliers


def complaints_frame(
    world: World,
    customers: Customers,
    rows: CustomerMonths,
    staff: StaffDirectory,
    rng: np.random.Generator,
    first_id: int,
) -> pl.DataFrame:
    window = world.window
    probability, multipliers = complaint_rates(world, customers, rows)
    hit = np.flatnonzero(rng.random(rows.size) < probability)
    size = hit.size
    position, month = rows.position[hit], rows.month[hit]
    key = customers.key_account[position]
    category = choose(rng, multipliers[hit] * np.asarray(p.CATEGORY_WEIGHTS, dtype=np.float32), rows=np.arange(size))

    span = np.maximum(rows.end_day[hit] - rows.first_day[hit], 1)
    day = rows.first_day[hit] + (rng.random(size) * span).astype(np.int64)
    opened = day * SECONDS_PER_DAY + (7 * HOUR + rng.random(size) * 15 * HOUR).astype(np.int64)

    ordinary = np.asarray(p.COMPLAINT_CHANNEL_WEIGHTS)
    managed = ordinary * (1 - p.KEY_ACCOUNT_MANAGER_SHARE) / ordinary.sum()
    managed[CHANNEL["account_manager"]] = p.KEY_ACCOUNT_MANAGER_SHARE
    channel = choose(rng, np.vstack([ordinary, managed]), rows=key.astype(np.int64))
    staff_channel = STAFF_CHANNEL_OF[channel]
    province = customers.province[position]
    staff_id = staff.offsets[province, staff_channel] + (
        rng.random(size) * staff.counts[province, staff_channel]
    ).astype(np.int64)

    departments = choose(rng, np.asarray(p.DEPARTMENT_WEIGHTS), rows=category) + 1
    stuck = rng.random(size) < p.STUCK_SHARE
    first_contact = (
        (departments == 1)
        & ~stuck
        & np.isin(channel, [CHANNEL["hotline"], CHANNEL["store"], CHANNEL["account_manager"]])
        & (rng.random(size) < p.FIRST_CONTACT_SHARE)
    )
    median = np.asarray(p.RESOLUTION_MEDIAN_HOURS, dtype=np.float64)[category]
    median = (
        median * p.RESOLUTION_PER_EXTRA_DEPARTMENT ** (departments - 1) * np.where(key, p.KEY_ACCOUNT_RESOLUTION, 1.0)
    )
    incident = (month == world.events.billing_incident_month) & (category == CATEGORY["billing"])
    median = median * np.where(incident, 1.6, 1.0)
    hours = median * np.exp(rng.normal(0.0, p.RESOLUTION_SIGMA, size)) * np.where(stuck, p.STUCK_FACTOR, 1.0)
    resolve_seconds = np.where(first_contact, rng.integers(5 * 60, 45 * 60, size), (hours * HOUR).astype(np.int64))
    ack_seconds = (p.ACK_MEDIAN_HOURS * HOUR * np.exp(rng.normal(0.0, p.ACK_SIGMA, size))).astype(np.int64)
    ack_seconds = np.minimum(np.maximum(ack_seconds, 60), resolve_seconds)
    close_seconds = np.minimum(p.CLOSE_MEDIAN_HOURS * HOUR * np.exp(rng.normal(0.0, 0.7, size)), 240 * HOUR)

    sla_hours = np.where(
        key, p.SLA_HOURS_KEY_ACCOUNT, np.where(category == CATEGORY["billing"], p.SLA_HOURS_BILLING, p.SLA_HOURS_OTHER)
    )
    late = resolve_seconds > sla_hours * HOUR
    escalated = rng.random(size) < np.clip(0.02 + 0.07 * (departments - 1) + 0.2 * late, 0, 1)
    acknowledged = opened + ack_seconds
    resolved = opened + resolve_seconds
    closed = resolved + close_seconds.astype(np.int64)

    cutoff = window.cutoff_day * SECONDS_PER_DAY
    resolved_known = resolved < cutoff
    reopened = resolved_known & (rng.random(size) < p.REOPENED_SHARE + 0.06 * late)
    trained = day >= staff.trained_since[staff_id]
    score = (
        p.CSAT_BASE
        + p.CSAT_TRAINED_LIFT * trained
        + 0.3 * first_contact
        - 0.7 * late
        - 0.8 * reopened
        + rng.normal(0.0, 0.85, size)
    )
    surveyed = resolved_known & (rng.random(size) < p.CSAT_SURVEYED_SHARE)
    csat = np.where(surveyed, np.clip(np.round(score), 1, 5), NOT_SET)

    return pl.DataFrame(
        {
            "complaint_id": np.arange(first_id, first_id + size, dtype=np.int64),
            "customer_id": customers.customer_id[position],
            "staff_id": staff_id,
            "channel": pl.Series(COMPLAINT_CHANNELS).gather(channel),
            "category": pl.Series(COMPLAINT_CATEGORIES).gather(category),
            "opened_at": timestamps(opened, cutoff),
            "acknowledged_at": timestamps(acknowledged, cutoff),
            "resolved_at": timestamps(resolved, cutoff),
            "closed_at": timestamps(closed, cutoff),
            "sla_hours": sla_hours.astype(np.int32),
            "departments_involved": departments.astype(np.int16),
            "escalated": escalated,
            "reopened": reopened,
            "resolved_first_contact": first_contact & resolved_known,
            "csat": nullable(csat, pl.Int16),
        }
    )
