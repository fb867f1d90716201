"""Synthetic holder names and phone numbers (personal data the dashboard must mask).

Names are drawn from short lists with realistic frequencies; they are plausible, not real
people. Phone numbers use Viettel mobile prefixes and are unique per customer id.
"""

import numpy as np
import polars as pl

# Family names with their approximate share of the population.
FAMILY_NAMES = {
    "Nguyễn": 0.38,
    "Trần": 0.11,
    "Lê": 0.095,
    "Phạm": 0.07,
    "Hoàng": 0.03,
    "Huỳnh": 0.021,
    "Phan": 0.045,
    "Vũ": 0.025,
    "Võ": 0.014,
    "Đặng": 0.021,
    "Bùi": 0.02,
    "Đỗ": 0.014,
    "Hồ": 0.013,
    "Ngô": 0.013,
    "Dương": 0.01,
    "Lý": 0.005,
    "Trương": 0.01,
    "Đinh": 0.01,
    "Mai": 0.007,
    "Cao": 0.006,
}
MIDDLE_NAMES = {
    "male": ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Xuân", "Ngọc", "Gia"),
    "female": ("Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Phương", "Bảo", "Hoài", "Mai"),
}
GIVEN_NAMES = {
    "male": (
        "Anh", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy",
        "Khang", "Khoa", "Long", "Nam", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng",
        "Thành", "Trung", "Tuấn", "Việt", "Vinh",
    ),
    "female": (
        "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan",
        "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh",
        "Tâm", "Thảo", "Trang", "Uyên", "Yến",
    ),
}  # fmt: skip
ORGANISATION_FORMS = {
    "enterprise": ("Công ty TNHH", "Công ty CP", "Doanh nghiệp tư nhân", "Công ty TNHH MTV"),
    "government": ("UBND xã", "UBND phường", "Sở", "Trường THPT", "Bệnh viện", "Chi cục"),
}
ORGANISATION_WORDS = (
    "An Phát", "Bình Minh", "Đại Việt", "Hòa Bình", "Hưng Thịnh", "Minh Long", "Nam Việt",
    "Phú Gia", "Sao Mai", "Tân Tiến", "Thành Công", "Thiên Long", "Trường Sơn", "Việt Hưng", "Xuân Hòa",
)  # fmt: skip
FOREIGN_NAMES = (
    "Kim Min-jun", "Park Ji-hoon", "Lee Seo-yeon", "Tanaka Hiroshi", "Sato Yuki", "Wang Wei",
    "Li Na", "Chen Jie", "John Smith", "Emma Johnson", "David Miller", "Somchai Prasert",
    "Anna Schmidt", "Pierre Martin", "Rajesh Kumar",
)  # fmt: skip

# Viettel mobile prefixes (10-digit numbers).
PHONE_PREFIXES = ("086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039")
# An affine map modulo 10^7 with a multiplier coprime to 10: distinct ids → distinct numbers.
_PHONE_SPACE = 10_000_000
_PHONE_MULTIPLIER = 7_654_321


def _pick(values: tuple[str, ...] | list[str], indexes: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(indexes)


def full_names(rng: np.random.Generator, segment: np.ndarray, male: np.ndarray) -> pl.Series:
    """One name per customer: a person (family + middle + given), an organisation or a foreigner.

    ``segment`` holds indexes into queries.tables.SEGMENTS; ``male`` is boolean.
    """
    size = segment.size
    families = list(FAMILY_NAMES)
    weights = np.asarray(list(FAMILY_NAMES.values()))
    family = _pick(families, rng.choice(len(families), size=size, p=weights / weights.sum()))
    middle_index = rng.integers(0, 10, size)
    given_index = rng.integers(0, 25, size)
    middle = pl.select(
        pl.when(pl.lit(pl.Series(male)))
        .then(_pick(MIDDLE_NAMES["male"], middle_index))
        .otherwise(_pick(MIDDLE_NAMES["female"], middle_index))
    ).to_series()
    given = pl.select(
        pl.when(pl.lit(pl.Series(male)))
        .then(_pick(GIVEN_NAMES["male"], given_index))
        .otherwise(_pick(GIVEN_NAMES["female"], given_index))
    ).to_series()
    person = pl.select(pl.concat_str([family, middle, given], separator=" ")).to_series()

    form_index = rng.integers(0, 4, size)
    word = _pick(ORGANISATION_WORDS, rng.integers(0, len(ORGANISATION_WORDS), size))
    enterprise = pl.select(
        pl.concat_str([_pick(ORGANISATION_FORMS["enterprise"], form_index), word], separator=" ")
    ).to_series()
    government = pl.select(
        pl.concat_str([_pick(ORGANISATION_FORMS["government"], rng.integers(0, 6, size)), word], separator=" ")
    ).to_series()
    foreign = _pick(FOREIGN_NAMES, rng.integers(0, len(FOREIGN_NAMES), size))
    segment_series = pl.Series(segment)
    return pl.select(
        pl.when(pl.lit(segment_series) == 2)
        .then(enterprise)
        .when(pl.lit(segment_series) == 3)
        .then(government)
        .when(pl.lit(segment_series) == 4)
        .then(foreign)
        .otherwise(person)
    ).to_series()


def phone_numbers(rng: np.random.Generator, customer_id: np.ndarray) -> pl.Series:
    """10-digit Viettel numbers; the 7-digit part is a bijection of the id (unique up to 10 M)."""
    prefix = _pick(PHONE_PREFIXES, rng.integers(0, len(PHONE_PREFIXES), customer_id.size))
    local = (customer_id.astype(np.int64) * _PHONE_MULTIPLIER + 1_234_567) % _PHONE_SPACE
    digits = pl.Series(local).cast(pl.String).str.zfill(7)
    return pl.select(pl.concat_str([prefix, digits])).to_series()
