"""Customer-months, the revenue earned in each, and the postpaid bills for them.

A customer is active in a month when activated_on < first day of the next month and
(churned_on is NULL or churned_on ≥ first day of the month): exactly the rule of
queries/measures_customers.py. Every such month within the window has one revenue row
(ARPU = revenue ÷ customer-months holds exactly), and postpaid customers one bill.
Payments, blocks and terminations dated on or after the cut-off (the first day after the
end month) are not known yet and stay NULL.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from data_seed import generate_params as p
from data_seed.generate_calendar import NOT_SET, dates
from data_seed.generate_customers import Customers
from data_seed.generate_lifecycle import VOLUNTARY, Lifecycle
from data_seed.generate_world import World


@dataclass
class CustomerMonths:
    """One entry per customer and active month (sorted by customer, then month)."""

    position: np.ndarray  # customer index in the chunk
    month: np.ndarray  # window month index
    first_day: np.ndarray  # first active day in the month
    end_day: np.ndarray  # first day no longer active in the month (churn day or next month)

    @property
    def size(self) -> int:
        return self.position.size

    def active_fraction(self, days_in_month: np.ndarray) -> np.ndarray:
        return np.maximum(self.end_day - self.first_day, 1) / days_in_month[self.month]


def customer_months(world: World, customers: Customers, life: Lifecycle) -> CustomerMonths:
    window = world.window
    first = np.maximum(customers.activation_month, 0)
    last = np.where(life.churn_day == NOT_SET, window.months - 1, window.month_index(life.churn_day))
    counts = np.maximum(last - first + 1, 0)
    position = np.repeat(np.arange(customers.size), counts)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    month = first[position] + (np.arange(position.size) - offsets)
    starts, stops = window.month_starts[month], window.month_starts[month + 1]
    first_day = np.maximum(starts, customers.activated[position])
    churn = life.churn_day[position]
    end_day = np.where((churn != NOT_SET) & (churn < stops), churn, stops)
    return CustomerMonths(position, month, first_day, np.maximum(end_day, first_day))


def revenue_amounts(world: World, customers: Customers, rows: CustomerMonths, rng: np.random.Generator) -> np.ndarray:
    window = world.window
    season = window.tet_factor(*p.REVENUE_TET)
    postpaid = customers.postpaid[rows.position]
    sigma = np.where(postpaid, p.MONTH_REVENUE_SIGMA["postpaid"], p.MONTH_REVENUE_SIGMA["prepaid"])
    noise = np.exp(rng.normal(0.0, 1.0, rows.size) * sigma - sigma * sigma / 2)
    amount = customers.revenue_mean[rows.position] * season[rows.month] * rows.active_fraction(window.days_in_month)
    step = p.REVENUE_ROUND_VND
    return (np.round(amount * noise / step) * step).astype(np.int64)


def revenue_frame(customers: Customers, rows: CustomerMonths, amounts: np.ndarray, world: World) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": customers.customer_id[rows.position],
            "revenue_month": pl.Series(world.window.month_starts[rows.month].astype(np.int32)).cast(pl.Date),
            "revenue_vnd": amounts,
        }
    )


def bills_frame(
    world: World,
    customers: Customers,
    life: Lifecycle,
    rows: CustomerMonths,
    amounts: np.ndarray,
    rng: np.random.Generator,
    first_bill_id: int,
) -> pl.DataFrame:
    """One bill per postpaid customer-month, with payments and the block chain of non-payment."""
    window = world.window
    postpaid = customers.postpaid[rows.position]
    position, month, billed = rows.position[postpaid], rows.month[postpaid], amounts[postpaid]
    size = position.size
    due = window.month_starts[month + 1] + customers.due_day[position] - 1

    defaulted_month = life.default_month[position]
    is_default = defaulted_month == month
    after_default = (defaulted_month != NOT_SET) & (month > defaulted_month)
    final_of_leaver = (life.churn_type[position] == VOLUNTARY) & (
        rows.end_day[postpaid] < window.month_starts[month + 1]
    )
    late_share = np.asarray([row[2] for row in p.PAYER_TYPES.values()])  # indexed by payer type
    late = ~is_default & ~after_default & ~final_of_leaver & (rng.random(size) < late_share[customers.payer[position]])
    partial = late & (rng.random(size) < p.PARTIAL_SHARE_OF_LATE)

    issued = window.month_starts[month + 1]
    early = rng.integers(p.PAID_EARLY_DAYS[0], p.PAID_EARLY_DAYS[1] + 1, size)
    late_days = np.clip(np.ceil(p.LATE_DAYS_MEDIAN * np.exp(rng.normal(0, 0.8, size))), 1, 75).astype(np.int64)
    paid_on = np.where(late, due + late_days, np.maximum(due - early, issued))
    unpaid = is_default | after_default
    fraction = np.where(partial, rng.uniform(0.3, 0.9, size), 1.0)
    paid = np.where(unpaid, 0, np.round(billed * fraction)).astype(np.int64)
    paid = np.where(partial & (paid >= billed), billed - 1, paid)
    paid = np.maximum(paid, 0)

    # Block chain: a late payer is blocked one way if still unpaid a few days after due, and both
    # ways 15–30 days later; the bill never paid carries the chain up to termination.
    first_gap = rng.integers(p.ONE_WAY_BLOCK_AFTER_DUE[0], p.ONE_WAY_BLOCK_AFTER_DUE[1] + 1, size)
    second_gap = rng.integers(p.TWO_WAY_BLOCK_AFTER_ONE_WAY[0], p.TWO_WAY_BLOCK_AFTER_ONE_WAY[1] + 1, size)
    one_way = np.where(late & ((late_days > first_gap) | partial), due + first_gap, NOT_SET)
    two_way = np.where(late & (late_days > first_gap + second_gap), due + first_gap + second_gap, NOT_SET)
    termination_day = life.termination_day[position]
    one_way = np.where(is_default, life.one_way_day[position], one_way)
    two_way = np.where(is_default, life.two_way_day[position], two_way)
    # Bills after the unpaid one: unpaid too, blocked one way if still running by then.
    later_block = due + first_gap
    one_way = np.where(after_default & (later_block < termination_day), later_block, one_way)
    terminated = np.where(is_default, termination_day, NOT_SET)

    cutoff = window.cutoff_day
    paid_known = (paid > 0) & (paid_on < cutoff)
    paid = np.where(paid_known, paid, 0)

    def known(days: np.ndarray) -> pl.Series:
        return dates(np.where((days != NOT_SET) & (days < cutoff), days, NOT_SET))

    return pl.DataFrame(
        {
            "bill_id": np.arange(first_bill_id, first_bill_id + size, dtype=np.int64),
            "customer_id": customers.customer_id[position],
            "bill_month": dates(window.month_starts[month]),
            "billed_vnd": billed,
            "due_on": dates(due),
            "paid_vnd": paid,
            "paid_on": dates(np.where(paid_known, paid_on, NOT_SET)),
            "one_way_block_on": known(one_way),
            "two_way_block_on": known(two_way),
            "terminated_on": known(terminated),
        }
    )
