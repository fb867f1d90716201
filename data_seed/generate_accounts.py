"""Account-level tables of a chunk: customers, churn events, port-out requests, campaign targets.

Everything here is read off the simulated life of each customer, so the tables agree by
construction: customers.churned_on = churn_events.churned_on, a completed port-out
request exists exactly for churn events with ported_to (and names the same competitor),
churned_within_90d is computed from the churn date.
"""

import numpy as np
import polars as pl

from data_seed import generate_params as p
from data_seed.generate_calendar import NOT_SET, dates
from data_seed.generate_customers import COMPETITOR_WEIGHTS, Customers, choose
from data_seed.generate_lifecycle import Lifecycle
from data_seed.generate_names import full_names, phone_numbers
from data_seed.generate_world import AREA_TYPES, World
from queries.tables import CHURN_REASONS, CHURN_TYPES, COMPETITORS, GENDERS, PLANS, SEGMENTS

WITHIN_DAYS = 90  # campaign outcome window


def labels(values: tuple[str, ...], codes: np.ndarray) -> pl.Series:
    """Text labels from integer codes; NOT_SET becomes NULL."""
    codes = np.asarray(codes, dtype=np.int64)
    series = pl.Series(values, dtype=pl.String).gather(np.maximum(codes, 0))
    return pl.select(pl.when(pl.lit(pl.Series(codes)) != NOT_SET).then(series).otherwise(None)).to_series()


def customers_frame(world: World, customers: Customers, life: Lifecycle, rng: np.random.Generator) -> pl.DataFrame:
    churned = life.churn_day != NOT_SET
    return pl.DataFrame(
        {
            "customer_id": customers.customer_id,
            # The operator's key of a generated account is its id written out (data_seed/export.py).
            "customer_key": pl.Series(customers.customer_id).cast(pl.String),
            "segment": labels(SEGMENTS, customers.segment),
            "province_code": pl.Series(world.province_codes).gather(customers.province),
            "area_type": labels(AREA_TYPES, customers.area),
            "birth_year": customers.birth_year,
            "gender": labels(GENDERS, np.where(customers.male, 0, 1)),
            "plan": labels(PLANS, customers.postpaid.astype(np.int64)),
            "has_mobile": customers.has_mobile,
            "has_home_internet": customers.has_home_internet,
            "has_tv": customers.has_tv,
            "has_enterprise_solutions": customers.has_enterprise_solutions,
            "is_key_account": customers.key_account,
            "activated_on": dates(customers.activated),
            "status": pl.Series(np.where(churned, "churned", "active")),
            "churned_on": dates(life.churn_day),
            "ported_in_from": labels(COMPETITORS, customers.ported_in),
            "full_name": full_names(rng, customers.segment, customers.male),
            "phone": phone_numbers(rng, customers.customer_id),
        }
    )


def churn_events_frame(customers: Customers, life: Lifecycle) -> pl.DataFrame:
    left = np.flatnonzero(life.churn_day != NOT_SET)
    return pl.DataFrame(
        {
            "customer_id": customers.customer_id[left],
            "churned_on": dates(life.churn_day[left]),
            "churn_type": labels(CHURN_TYPES, life.churn_type[left]),
            "reason": labels(CHURN_REASONS, life.reason[left]),
            "ported_to": labels(COMPETITORS, life.ported_to[left]),
            "reason_text": pl.Series([None] * left.size, dtype=pl.String),
            "won_back_on": dates(life.won_back_day[left]),
        }
    )


def port_out_requests_frame(
    world: World, customers: Customers, life: Lifecycle, rng: np.random.Generator, first_id: int
) -> pl.DataFrame:
    """Completed requests of the ported leavers; refused ones from customers with unpaid bills."""
    ported = np.flatnonzero(life.ported_to != NOT_SET)
    completed_day = np.maximum(life.churn_day[ported] - rng.integers(1, 4, ported.size), customers.activated[ported])
    completed_day = np.maximum(completed_day, world.window.start_day)  # the extract starts with the window

    # A customer blocked for non-payment who tries to leave for a competitor is refused.
    asking = rng.random(customers.size) < p.REFUSED_PORT_SHARE
    request_day = life.one_way_day + rng.integers(1, 11, customers.size)
    end = np.where(life.termination_day == NOT_SET, world.window.cutoff_day, life.termination_day)
    refused = np.flatnonzero(
        (life.one_way_day != NOT_SET) & asking & (request_day < end) & (request_day < world.window.cutoff_day)
    )
    competitor = choose(rng, COMPETITOR_WEIGHTS, size=refused.size)

    frame = pl.DataFrame(
        {
            "customer_id": np.concatenate([customers.customer_id[ported], customers.customer_id[refused]]),
            "requested_on": dates(np.concatenate([completed_day, request_day[refused]])),
            "to_competitor": labels(COMPETITORS, np.concatenate([life.ported_to[ported], competitor])),
            "outcome": pl.Series(["completed"] * ported.size + ["refused_debt"] * refused.size, dtype=pl.String),
        }
    ).sort("requested_on", "customer_id")
    ids = pl.Series("request_id", np.arange(first_id, first_id + frame.height, dtype=np.int64))
    return frame.insert_column(0, ids)


def campaign_targets_frame(customers: Customers, life: Lifecycle) -> pl.DataFrame:
    targets = life.targets
    position = targets["position"]
    churn = life.churn_day[position]
    targeted = targets["targeted_day"]
    within = (churn != NOT_SET) & (churn > targeted) & (churn <= targeted + WITHIN_DAYS)
    return pl.DataFrame(
        {
            "campaign_id": targets["campaign_id"],
            "customer_id": customers.customer_id[position],
            "group_name": pl.Series(np.where(targets["control"], "control", "contacted")),
            "targeted_on": dates(targeted),
            "accepted_offer": targets["accepted"],
            "churned_within_90d": within,
        }
    )
