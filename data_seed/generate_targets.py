"""KPI targets for the review meetings, set the way a planning department would: from actuals.

Chunks add their (province × month) totals to one ``Totals``; once every customer is
generated, each target is last level ± an improvement, blended between the province's own
level and the country's (so weak provinces get a stretch and some miss, some beat), and it
tightens each calendar year. Units follow queries/metrics.py: rates are fractions, NPS is
points (−100…100), complaint rate a fraction of customers per quarter (0.0025 = the QCVN
0.25 per 100 customers per quarter), money VND.
"""

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from data_seed.generate_world import World
from queries.tables import COUNTRY_CODE

MEASURES = (
    "churn_rate",
    "arpu",
    "complaint_rate",
    "sla_share",
    "nps",
    "collection_rate",
    "call_answer_rate",
    "active_customers",
    "outstanding_debt",
)
QCVN_COMPLAINT_RATE = 0.0025  # complaints per customer per quarter (0.25 per 100)
SLA_SHARE_TARGET = 0.90
CALL_ANSWER_TARGET = 0.80  # answered within 60 s ÷ offered


@dataclass
class Totals:
    """(province, month) sums over every chunk. ``debt_change_vnd`` (province, month + 1) holds
    changes of past-due unpaid amounts; its running sum is the outstanding debt at each month end."""

    provinces: int
    months: int
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    NAMES = (
        "customer_months",
        "start_active",
        "end_active",
        "churned",
        "revenue_vnd",
        "complaints",
        "resolved",
        "within_sla",
        "promoters",
        "detractors",
        "responses",
        "billed_due_vnd",
        "paid_on_time_vnd",
    )

    def __post_init__(self) -> None:
        for name in self.NAMES:
            self.arrays[name] = np.zeros((self.provinces, self.months), dtype=np.float64)
        self.debt_change_vnd = np.zeros((self.provinces, self.months + 1))

    def add(self, name: str, province: np.ndarray, month: np.ndarray, weights: np.ndarray | None = None) -> None:
        cell = np.asarray(province, dtype=np.int64) * self.months + np.asarray(month, dtype=np.int64)
        counts = np.bincount(cell, weights=weights, minlength=self.provinces * self.months)
        self.arrays[name] += counts.reshape(self.provinces, self.months)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros_like(numerator, dtype=np.float64), where=denominator > 0)


def _levels(totals: Totals, numerator: str, denominator: str, scale: float = 1.0) -> tuple[np.ndarray, float]:
    """Window-wide level per province and for the country."""
    top, bottom = totals[numerator].sum(axis=1), totals[denominator].sum(axis=1)
    return _ratio(top, bottom) * scale, float(top.sum() / max(bottom.sum(), 1)) * scale


def kpi_targets_frame(world: World, totals: Totals, rng: np.random.Generator) -> pl.DataFrame:
    window = world.window
    months = window.months
    provinces = world.province_count
    years = np.asarray([window.month(index).year - window.start_month.year for index in range(months)])
    wobble = np.exp(rng.normal(0.0, 0.03, provinces))  # local negotiation of each plan

    def blended(province_level: np.ndarray, country_level: float, yearly: float) -> np.ndarray:
        """(province + country, per month) rows: half local level, half national, stepping each year."""
        local = (0.5 * province_level + 0.5 * country_level) * wobble
        rows = np.concatenate([[country_level], local])[:, None]
        return rows * (yearly ** years[None, :])

    churn, churn_country = _levels(totals, "churned", "start_active")
    arpu, arpu_country = _levels(totals, "revenue_vnd", "customer_months")
    complaints, complaints_country = _levels(totals, "complaints", "customer_months", scale=3.0)
    nps_top = totals["promoters"] - totals["detractors"]
    nps = _ratio(nps_top.sum(axis=1), totals["responses"].sum(axis=1)) * 100
    nps_country = float(nps_top.sum() / max(totals["responses"].sum(), 1)) * 100
    collection, collection_country = _levels(totals, "paid_on_time_vnd", "billed_due_vnd")

    targets = {
        "churn_rate": blended(churn * 0.95, churn_country * 0.95, 0.96),
        "arpu": blended(arpu * 1.02, arpu_country * 1.02, 1.03),
        "complaint_rate": np.minimum(blended(complaints * 0.92, complaints_country * 0.92, 0.97), QCVN_COMPLAINT_RATE),
        "sla_share": np.full((provinces + 1, months), SLA_SHARE_TARGET),
        "nps": blended(nps + 3.0, nps_country + 3.0, 1.0) + 2.0 * years[None, :],
        "collection_rate": np.minimum(blended(collection + 0.01, collection_country + 0.01, 1.0), 0.985),
        "call_answer_rate": np.full((provinces + 1, months), CALL_ANSWER_TARGET),
        "active_customers": _active_targets(totals),
        "outstanding_debt": _debt_targets(totals, rng),
    }
    codes = [COUNTRY_CODE, *world.province_codes]
    frames = []
    for measure, values in targets.items():
        values = np.broadcast_to(values, (provinces + 1, months))
        frames.append(
            pl.DataFrame(
                {
                    "measure": pl.Series([measure] * values.size, dtype=pl.String),
                    "target_month": pl.Series(np.tile(window.month_starts[:-1].astype(np.int32), provinces + 1)).cast(
                        pl.Date
                    ),
                    "province_code": pl.Series(codes).gather(np.repeat(np.arange(provinces + 1), months)),
                    "target_value": np.round(values.ravel().astype(np.float64), 6),
                }
            )
        )
    return pl.concat(frames)


def _active_targets(totals: Totals) -> np.ndarray:
    """Grow 3 % on the same month last year; in the first year, 0.25 % a month on the first month."""
    end = totals["end_active"]
    with_country = np.vstack([end.sum(axis=0, keepdims=True), end])
    months = end.shape[1]
    targets = np.empty_like(with_country)
    for month in range(months):
        if month >= 12:
            targets[:, month] = with_country[:, month - 12] * 1.03
        else:
            targets[:, month] = with_country[:, 0] * (1.0 + 0.0025 * month)
    return np.round(targets)


def _debt_targets(totals: Totals, rng: np.random.Generator) -> np.ndarray:
    """Outstanding debt a little below each month's actual, tighter in some provinces than others."""
    outstanding = np.cumsum(totals.debt_change_vnd, axis=1)[:, :-1]
    with_country = np.vstack([outstanding.sum(axis=0, keepdims=True), outstanding])
    factor = np.concatenate([[0.95], 0.95 * np.exp(rng.normal(0.0, 0.15, outstanding.shape[0]))])
    return np.round(with_country * factor[:, None])
