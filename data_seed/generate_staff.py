"""Care staff per province and channel, and their training (courses, completion, scores).

Staff numbers follow the customers they serve (population share × customers ÷ load per
agent), at least one per province and channel. Everyone was hired before the window;
enrolments spread over the window, so a staff member's complaints before completion count
as "untrained" and after it as "trained" (the CSAT lift is applied from completion on).
"""

import numpy as np
import polars as pl

from data_seed import generate_params as p
from data_seed.generate_calendar import NOT_SET, dates
from data_seed.generate_complaints import StaffDirectory
from data_seed.generate_world import World
from queries.tables import COURSES, STAFF_CHANNELS

NEVER_TRAINED = np.iinfo(np.int64).max
KEY_ACCOUNT_SHARE_OF_CUSTOMERS = 0.011  # enterprise 5 % × 15 % + government 1.5 % × 25 %


def staff_counts(world: World) -> np.ndarray:
    """(province, staff channel) number of staff."""
    customers = world.population_weights * world.customers
    per_channel = (
        customers / p.CUSTOMERS_PER_CALL_CENTRE_AGENT,
        customers / p.CUSTOMERS_PER_STORE_AGENT,
        customers * KEY_ACCOUNT_SHARE_OF_CUSTOMERS / p.KEY_ACCOUNTS_PER_MANAGER,
    )
    return np.maximum(np.round(np.column_stack(per_channel)), 1).astype(np.int64)


def generate_staff(world: World, rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame, StaffDirectory]:
    window = world.window
    counts = staff_counts(world)
    flat = counts.ravel()
    total = int(flat.sum())
    offsets = (np.cumsum(flat) - flat + 1).reshape(counts.shape)  # staff ids start at 1
    cell = np.repeat(np.arange(flat.size), flat)
    province, channel = np.divmod(cell, len(STAFF_CHANNELS))
    staff_id = np.arange(1, total + 1, dtype=np.int64)
    hired = window.start_day - rng.integers(30, 8 * 365, total)
    staff = pl.DataFrame(
        {
            "staff_id": staff_id,
            "province_code": pl.Series(world.province_codes).gather(province),
            "channel": pl.Series(STAFF_CHANNELS).gather(channel),
            "hired_on": dates(hired),
        }
    )

    enrolled_staff = np.repeat(staff_id, len(COURSES))
    course = np.tile(np.arange(len(COURSES)), total)
    keep = rng.random(enrolled_staff.size) < p.ENROLMENT_SHARE
    enrolled_staff, course = enrolled_staff[keep], course[keep]
    size = enrolled_staff.size
    enrolled = window.start_day + (rng.random(size) * (window.cutoff_day - 10 - window.start_day)).astype(np.int64)
    completed = enrolled + rng.integers(7, 46, size)
    completes = (rng.random(size) < p.COMPLETION_SHARE) & (completed < window.cutoff_day)
    score = np.clip(np.round(rng.normal(p.SCORE_MEAN, p.SCORE_SD, size)), 40, 100)
    training = pl.DataFrame(
        {
            "training_id": np.arange(1, size + 1, dtype=np.int64),
            "staff_id": enrolled_staff,
            "course": pl.Series(COURSES).gather(course),
            "enrolled_on": dates(enrolled),
            "completed_on": dates(np.where(completes, completed, NOT_SET)),
            "score": pl.Series(np.where(completes, score, np.nan)).fill_nan(None).cast(pl.Int16),
        }
    )

    trained_since = np.full(total + 1, NEVER_TRAINED, dtype=np.int64)
    np.minimum.at(trained_since, enrolled_staff[completes], completed[completes])
    return staff, training, StaffDirectory(offsets=offsets, counts=counts, trained_since=trained_since)
