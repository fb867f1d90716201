"""The synthetic warehouse, table by table: ``generate_tables()`` yields (table name, frame) pairs.

Order: reference data, staff and campaigns first; then, chunk by chunk of customers,
every customer-level table; last the tables that need the whole population (care channel
volumes, KPI targets). Each chunk is generated from its own random stream and forgotten
once yielded, so memory stays flat (about 1 GB per 250,000 customers at peak).
"""

from collections.abc import Callable, Iterator
from datetime import date

import numpy as np
import polars as pl

from data_seed import generate_params as p
from data_seed.generate_accounts import (
    campaign_targets_frame,
    churn_events_frame,
    customers_frame,
    port_out_requests_frame,
)
from data_seed.generate_calendar import SECONDS_PER_DAY, Window, last_complete_month
from data_seed.generate_care import care_contacts_frame
from data_seed.generate_complaints import complaints_frame
from data_seed.generate_customers import Customers, generate_customers
from data_seed.generate_lifecycle import Lifecycle, plan_campaigns, simulate
from data_seed.generate_revenue import CustomerMonths, bills_frame, customer_months, revenue_amounts, revenue_frame
from data_seed.generate_staff import generate_staff
from data_seed.generate_surveys import surveys_frame
from data_seed.generate_targets import Totals, kpi_targets_frame
from data_seed.generate_world import CARE_STREAM, CHUNK_STREAM, STAFF_STREAM, TARGET_STREAM, World, stream
from queries.reference import legacy_provinces_frame, provinces_frame
from queries.tables import SEGMENTS

Progress = Callable[[str], None]


def campaigns_frame(world: World) -> pl.DataFrame:
    campaigns = plan_campaigns(world)
    starts = [world.window.month(campaign.month) for campaign in campaigns]
    return pl.DataFrame(
        {
            "campaign_id": [campaign.campaign_id for campaign in campaigns],
            "name": [campaign.name for campaign in campaigns],
            "offer": [campaign.offer for campaign in campaigns],
            "target_segment": [SEGMENTS[campaign.segment] for campaign in campaigns],
            "started_on": starts,
            "ended_on": [start.replace(day=p.CAMPAIGN_CONTACT_DAYS) for start in starts],
        },
        schema_overrides={"campaign_id": pl.Int64},
    )


def generate_tables(
    customers: int,
    months: int = 36,
    seed: int = 7,
    end_month: date | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Every warehouse table (except warehouse_meta), possibly in several chunks per table."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    window = Window(end_month or last_complete_month(), months)
    world = World.build(customers, window, seed)
    report = progress or (lambda message: None)

    yield "provinces", provinces_frame()
    yield "legacy_provinces", legacy_provinces_frame()
    staff, training, directory = generate_staff(world, stream(seed, STAFF_STREAM))
    yield "staff", staff
    yield "training", training
    yield "campaigns", campaigns_frame(world)

    totals = Totals(world.province_count, window.months)
    next_id = {"bills": 1, "complaints": 1, "port_out_requests": 1, "surveys": 1}  # dense across chunks
    chunks = range(0, customers, p.CHUNK_CUSTOMERS)
    for number, first in enumerate(chunks):
        rng = stream(seed, CHUNK_STREAM, number)
        size = min(p.CHUNK_CUSTOMERS, customers - first)
        chunk = generate_customers(world, rng, first + 1, size)
        life = simulate(world, chunk, rng)
        rows = customer_months(world, chunk, life)
        amounts = revenue_amounts(world, chunk, rows, rng)
        frames = {
            "customers": customers_frame(world, chunk, life, rng),
            "revenue_monthly": revenue_frame(chunk, rows, amounts, world),
            "bills": bills_frame(world, chunk, life, rows, amounts, rng, next_id["bills"]),
            "complaints": complaints_frame(world, chunk, rows, directory, rng, next_id["complaints"]),
            "churn_events": churn_events_frame(chunk, life),
            "port_out_requests": port_out_requests_frame(world, chunk, life, rng, next_id["port_out_requests"]),
            "campaign_targets": campaign_targets_frame(chunk, life),
            "surveys": surveys_frame(world, chunk, life, rows, rng, next_id["surveys"]),
        }
        for table in next_id:
            next_id[table] += frames[table].height
        add_totals(totals, world, chunk, life, rows, amounts, frames)
        report(f"chunk {number + 1}/{len(chunks)}: {first + size:,} customers generated")
        yield from frames.items()
        del frames, chunk, life, rows, amounts

    yield "care_contacts_monthly", care_contacts_frame(world, totals["customer_months"], stream(seed, CARE_STREAM))
    yield "kpi_targets", kpi_targets_frame(world, totals, stream(seed, TARGET_STREAM))


def add_totals(
    totals: Totals,
    world: World,
    chunk: Customers,
    life: Lifecycle,
    rows: CustomerMonths,
    amounts: np.ndarray,
    frames: dict[str, pl.DataFrame],
) -> None:
    """Add this chunk's (province × month) figures, from which the KPI targets are set."""
    window = world.window
    first_id = int(chunk.customer_id[0])
    province_of = chunk.province

    def province(customer_id: pl.Series) -> np.ndarray:
        return province_of[customer_id.to_numpy() - first_id]

    def month_of_days(days: pl.Series) -> np.ndarray:
        return window.month_index(days.cast(pl.Int32).to_numpy().astype(np.int64))

    totals.add("customer_months", province_of[rows.position], rows.month)
    totals.add("revenue_vnd", province_of[rows.position], rows.month, amounts.astype(np.float64))
    totals.arrays["start_active"] += life.start_active
    totals.arrays["churned"] += life.churned
    # Active at the end of a month = active at its start + activated in it − left in it.
    new = chunk.activation_month >= 0
    totals.arrays["end_active"] += life.start_active - life.churned
    totals.add("end_active", province_of[new], chunk.activation_month[new])

    complaints = frames["complaints"]
    opened_day = complaints["opened_at"].dt.epoch("s") // SECONDS_PER_DAY
    month = month_of_days(opened_day)
    where = province(complaints["customer_id"])
    totals.add("complaints", where, month)
    resolved = complaints["resolved_at"].is_not_null().to_numpy()
    hours = ((complaints["resolved_at"] - complaints["opened_at"]).dt.total_seconds() / 3600).fill_null(np.inf)
    within = resolved & (hours.to_numpy() <= complaints["sla_hours"].to_numpy())
    totals.add("resolved", where, month, resolved.astype(np.float64))
    totals.add("within_sla", where, month, within.astype(np.float64))

    surveys = frames["surveys"]
    where, month = province(surveys["customer_id"]), month_of_days(surveys["surveyed_on"])
    score = surveys["nps_score"].to_numpy()
    totals.add("responses", where, month)
    totals.add("promoters", where, month, (score >= 9).astype(np.float64))
    totals.add("detractors", where, month, (score <= 6).astype(np.float64))

    bills = frames["bills"]
    due_day = bills["due_on"].cast(pl.Int32).to_numpy().astype(np.int64)
    past_due = due_day < window.cutoff_day
    paid_day = bills["paid_on"].cast(pl.Int32).fill_null(np.iinfo(np.int32).max).to_numpy()
    billed = bills["billed_vnd"].to_numpy().astype(np.float64)
    paid = bills["paid_vnd"].to_numpy().astype(np.float64)
    where = province(bills["customer_id"])[past_due]
    month = window.month_index(due_day[past_due])
    totals.add("billed_due_vnd", where, month, billed[past_due])
    totals.add("paid_on_time_vnd", where, month, np.where(paid_day <= due_day, paid, 0.0)[past_due])

    # Past-due debt: the unpaid part is outstanding from the due month on; a payment made
    # in a later month clears the paid part from that month on.
    where = province(bills["customer_id"])
    due_month = window.month_index(due_day)
    paid_month = np.where(paid_day < window.cutoff_day, window.month_index(paid_day), window.months)
    late_paid = np.where(paid_month > due_month, paid, 0.0)
    change = totals.debt_change_vnd
    np.add.at(change, (where, np.minimum(due_month, window.months)), (billed - paid) + late_paid)
    np.add.at(change, (where, np.minimum(paid_month, window.months)), -late_paid)
