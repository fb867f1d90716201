"""What every chunk of customers shares: the window, the provinces, the events, random streams.

Random streams are derived from the seed with numpy's SeedSequence spawn keys, one per
purpose (and one per chunk), so adding a table or changing one step does not reshuffle
the others, and the result depends only on (customers, months, seed, end month).
"""

from dataclasses import dataclass, field

import numpy as np

from data_seed import generate_events as ev
from data_seed import generate_params as p
from data_seed.generate_calendar import Window
from data_seed.generate_events import Events
from queries.reference import provinces_frame

AREA_TYPES = ("urban", "rural", "remote")

# Spawn keys of the random streams (chunks use (CHUNK_STREAM, chunk index)).
PROVINCE_STREAM = 1
STAFF_STREAM = 2
CHUNK_STREAM = 3
CARE_STREAM = 4
TARGET_STREAM = 5


def stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


@dataclass(frozen=True)
class World:
    seed: int
    customers: int
    window: Window
    events: Events
    province_codes: tuple[str, ...]
    population_weights: np.ndarray = field(repr=False)  # sums to 1
    area_shares: np.ndarray = field(repr=False)  # (province, area type) shares, rows sum to 1
    province_churn: np.ndarray = field(repr=False)  # per-province churn multiplier
    province_complaints: np.ndarray = field(repr=False)  # per-province complaint multiplier
    promotion_provinces: np.ndarray = field(repr=False)  # bool per province
    outage_province: int = 0

    @property
    def province_count(self) -> int:
        return len(self.province_codes)

    @classmethod
    def build(cls, customers: int, window: Window, seed: int) -> "World":
        provinces = provinces_frame()
        codes = tuple(provinces.get_column("province_code").to_list())
        population = provinces.get_column("population").to_numpy().astype(np.float64)
        sub_regions = provinces.get_column("sub_region").to_list()
        areas = np.zeros((len(codes), 3))
        for index, (code, sub_region) in enumerate(zip(codes, sub_regions, strict=True)):
            urban, remote = p.AREA_BY_CITY.get(code, p.AREA_BY_SUB_REGION[sub_region])
            areas[index] = (urban, 1.0 - urban - remote, remote)
        rng = stream(seed, PROVINCE_STREAM)
        return cls(
            seed=seed,
            customers=customers,
            window=window,
            events=Events.place(window),
            province_codes=codes,
            population_weights=population / population.sum(),
            area_shares=areas,
            province_churn=np.exp(rng.normal(0.0, p.PROVINCE_CHURN_SIGMA, len(codes))),
            province_complaints=np.exp(rng.normal(0.0, p.PROVINCE_COMPLAINT_SIGMA, len(codes))),
            promotion_provinces=np.asarray([region == ev.PROMOTION_SUB_REGION for region in sub_regions]),
            outage_province=codes.index(ev.OUTAGE_PROVINCE),
        )
