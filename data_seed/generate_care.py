"""Care channel volumes per month × province × channel (care_contacts_monthly).

Contacts follow the active customers of the province, Tết and the planted events (the
outage floods the province's call centre, the billing incident every call centre). The
call centre answers about 84 % of calls within 60 s in a normal month and falls below the
80 % target when volume jumps.
"""

import numpy as np
import polars as pl

from data_seed import generate_events as ev
from data_seed.generate_world import World

# channel: (contacts per customer-month, handled share, mean handling seconds)
CHANNEL_PROFILE = {
    "call_centre": (0.045, None, 290),
    "store": (0.020, 0.985, 540),
    "app": (0.060, 0.995, 95),
    "web": (0.010, 0.99, 140),
    "social": (0.015, 0.96, 230),
    "email": (0.002, 0.97, 420),
}
ANSWERED_WITHIN_60S = 0.84  # normal month
ANSWER_DROP_PER_EXTRA_LOAD = 0.22  # answer rate lost per 100 % extra calls
CARE_TET = (1.05, 1.15, 1.10)


def care_contacts_frame(world: World, customer_months: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """``customer_months``: (province, month) active customers during the month."""
    window, events = world.window, world.events
    provinces, months = customer_months.shape
    season = window.tet_factor(*CARE_TET)[None, :]
    call_load = np.ones((provinces, months))
    call_load[world.outage_province, events.outage_month] *= ev.OUTAGE_CALLS
    call_load[:, events.billing_incident_month] *= ev.BILLING_INCIDENT_CALLS
    frames = []
    for channel, (rate, handled_share, handle_seconds) in CHANNEL_PROFILE.items():
        expected = customer_months * rate * season * np.exp(rng.normal(0.0, 0.06, (provinces, months)))
        answered = None
        if channel == "call_centre":
            expected = expected * call_load
            offered = rng.poisson(expected)
            extra_load = call_load * season - 1.0
            answer_rate = ANSWERED_WITHIN_60S - ANSWER_DROP_PER_EXTRA_LOAD * extra_load
            answer_rate = np.clip(answer_rate + rng.normal(0.0, 0.025, (provinces, months)), 0.3, 0.97)
            answered = rng.binomial(offered, answer_rate)
            # Calls answered after 60 s are handled too; the rest were abandoned.
            handled = answered + rng.binomial(offered - answered, 0.6)
        else:
            offered = rng.poisson(expected)
            handled = rng.binomial(offered, handled_share)
        handle_total = np.round(handled * handle_seconds * np.exp(rng.normal(0.0, 0.05, (provinces, months))))
        frames.append(
            pl.DataFrame(
                {
                    "contact_month": pl.Series(np.tile(window.month_starts[:-1].astype(np.int32), provinces)).cast(
                        pl.Date
                    ),
                    "province_code": pl.Series(world.province_codes).gather(np.repeat(np.arange(provinces), months)),
                    "channel": pl.Series([channel] * (provinces * months), dtype=pl.String),
                    "contacts_offered": offered.ravel().astype(np.int64),
                    "answered_within_60s": None if answered is None else answered.ravel().astype(np.int64),
                    "handle_time_s_total": handle_total.ravel().astype(np.int64),
                    "contacts_handled": handled.ravel().astype(np.int64),
                },
                schema_overrides={"answered_within_60s": pl.Int64},
            )
        )
    return pl.concat(frames).sort("contact_month", "province_code", "channel")
