"""What the filters may be set to: months with data, provinces in the user's scope.

Built from the warehouse once per data version (dashboard/frame/warehouse.py caches it) and
read by the sidebar, the URL parser and the filter description, so all three agree on
what is valid.
"""

from dataclasses import dataclass
from datetime import date

from dashboard.frame.warehouse import WarehouseEmpty, run
from queries import dimensions
from queries.filters import Filters, add_months, month_end


@dataclass(frozen=True)
class ProvinceOption:
    code: str
    name_vi: str
    name_en: str
    region: str  # macro region: Bắc, Trung or Nam
    lat: float
    lon: float

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_vi


@dataclass(frozen=True)
class FilterOptions:
    months: tuple[date, ...]  # months with data, ascending, first-of-month
    provinces: tuple[ProvinceOption, ...]  # provinces the user may see, by code
    data_through: date  # last day of the last complete month

    @property
    def last_month(self) -> date:
        return self.months[-1]

    def province(self, code: str) -> ProvinceOption | None:
        return next((option for option in self.provinces if option.code == code), None)

    def province_codes(self) -> tuple[str, ...]:
        return tuple(option.code for option in self.provinces)

    def provinces_in(self, regions: tuple[str, ...]) -> tuple[ProvinceOption, ...]:
        """The region → province cascade: every province when no region is chosen."""
        if not regions:
            return self.provinces
        return tuple(option for option in self.provinces if option.region in regions)

    def regions(self) -> tuple[str, ...]:
        """Macro regions that hold at least one visible province, north to south."""
        present = {option.region for option in self.provinces}
        return tuple(region for region in ("Bắc", "Trung", "Nam") if region in present)


def month_range(first: date, last: date) -> tuple[date, ...]:
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return tuple(months)


def default_filters(options: FilterOptions) -> Filters:
    """The last complete month of the data against the month before."""
    return Filters(start_month=options.last_month, end_month=options.last_month, comparison="previous")


def load_filter_options(scope) -> FilterOptions:
    """Months with data and the provinces the scope allows, from the warehouse (cached).

    The months are those of revenue when there is revenue (dimensions.month_range_select),
    else those of the other facts up to data_through; only a warehouse that records no data
    month at all is empty."""

    freshness = run(dimensions.freshness_select(), scope)
    months = run(dimensions.month_range_select(), scope)
    provinces = run(dimensions.province_options_select(scope), scope)
    first = months["first_month"][0] if months.height else None
    last_revenue = months["last_month"][0] if months.height else None
    through = freshness["data_through"][0] if freshness.height else None
    if through is None:
        raise WarehouseEmpty("no months with data in the warehouse")
    # Without revenue the months run from the first dated fact (or data_through alone, with
    # customers only) to data_through: the pages that have data show it, the others say so.
    last = min(through, last_revenue) if last_revenue is not None else through
    first = min(first, last) if first is not None else last
    return FilterOptions(
        months=month_range(first, last),
        provinces=tuple(
            ProvinceOption(
                row["province_code"], row["name_vi"], row["name_en"], row["macro_region"], row["lat"], row["lon"]
            )
            for row in provinces.iter_rows(named=True)
        ),
        data_through=month_end(through),  # data_through names the last complete month
    )
