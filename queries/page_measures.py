"""What each page of the dashboard shows, by measure name (the registry, queries/metrics.py),
plus the raw tables it reads outside the registry.

With each measure's ``sources`` this says which pages a missing or empty table leaves blank:
the importer warns with it (data_seed may not import the pages, so the list lives here).
The page modules keep their own constants for layout; tests/queries/test_page_measures.py
holds this declaration to them (every registry measure a page module names is listed for
its page, and the titles are the navigation's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from queries.customers import AREA_MEASURES
from queries.measures_debt import DEBT_MEASURES
from queries.metrics import MEASURES
from queries.overview import OVERVIEW_KPIS


@dataclass(frozen=True)
class PageContents:
    path: str  # the page's url path (dashboard/app.py PAGES)
    title_vi: str  # as in the navigation (dashboard/text/strings.py page_<path>)
    title_en: str
    measures: tuple[str, ...]  # registry measures the page shows
    # Raw tables read by the page's topic selects, not through a measure: table -> what they feed.
    other_tables: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.title_vi}/{self.title_en}"

    def __post_init__(self) -> None:
        unknown = [name for name in self.measures if name not in MEASURES]
        if unknown:
            raise ValueError(f"page {self.path}: unknown measures {unknown}")


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


PAGES: tuple[PageContents, ...] = (
    PageContents(
        "overview",
        "Tổng quan",
        "Overview",
        OVERVIEW_KPIS,
        {"kpi_targets": "targets (red/amber/green marks)"},
    ),
    PageContents(
        "customers",
        "Khách hàng",
        "Customers",
        _unique(
            (
                "active_customers",
                "new_customers",
                "churned_customers",
                "net_adds",
                "revenue",
                "arpu",
                "customer_share",
                "revenue_share",
                "frequent_debtors",
                "port_outs",
                *AREA_MEASURES,
            )
        ),
        {"revenue_monthly": "big customers by revenue"},
    ),
    PageContents(
        "complaints",
        "Khiếu nại",
        "Complaints",
        (
            "complaint_count",
            "complaint_rate",
            "ack_within_48h_share",
            "ack_time_median_h",
            "ack_time_p90_h",
            "resolve_time_median_h",
            "resolve_time_p90_h",
            "sla_share",
            "open_complaints",
            "first_contact_resolution",
            "reopened_rate",
            "csat",
            "call_answer_rate",
        ),
        {"care_contacts_monthly": "contacts per channel"},
    ),
    PageContents("debt", "Nợ cước", "Debt", tuple(measure.name for measure in DEBT_MEASURES)),
    PageContents(
        "churn",
        "Rời mạng",
        "Churn",
        (
            "churned_customers",
            "churn_rate",
            "churn_rate_voluntary",
            "churn_rate_involuntary",
            "annualised_churn",
            "winback_rate",
            "port_outs",
            "port_ins",
            "net_port",
        ),
        {
            "churn_events": "churn reasons and destinations",
            "port_out_requests": "refused port-out requests",
            "kpi_targets": "the churn-rate target line",
        },
    ),
    PageContents(
        "review",
        "Đánh giá định kỳ",
        "Periodic review",
        # The review compares every measure that has targets, which may be any of them.
        tuple(MEASURES),
        {
            "kpi_targets": "targets and findings",
            "staff": "the training effect on CSAT",
            "training": "the training effect on CSAT",
            "campaigns": "retention campaign uplift",
        },
    ),
)


def measures_reading(table: str) -> set[str]:
    """Names of the registry measures that read ``table``."""
    return {name for name, measure in MEASURES.items() if table in measure.sources}


def emptied_by(table: str) -> list[tuple[PageContents, list[str]]]:
    """(page, what of it goes blank) for every page that needs ``table``: the English labels
    of its measures reading it, then what its topic selects feed from it; ["the whole page"]
    when every measure of the page reads it."""
    reading = measures_reading(table)
    found = []
    for page in PAGES:
        hit = [name for name in page.measures if name in reading]
        if hit and len(hit) == len(page.measures):
            found.append((page, ["the whole page"]))
            continue
        parts = [MEASURES[name].label_en for name in hit]
        if table in page.other_tables:
            parts.append(page.other_tables[table])
        if parts:
            found.append((page, parts))
    return found
