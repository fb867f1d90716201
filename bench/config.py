"""What the benchmark measures: warehouse sizes, filter variants, repeats, where things go."""

import ast
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from queries.filters import add_months

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP = PROJECT_ROOT / "dashboard" / "app.py"
WAREHOUSE_DIR = PROJECT_ROOT / "var" / "bench"  # git-ignored (/var/)
RESULTS_DIR = PROJECT_ROOT / "bench_results"  # git-ignored
PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"

# Every benchmark warehouse is generated from the same arguments, so a cached one can be
# recognised by warehouse_meta.source and reused.
MONTHS = 36
SEED = 7
END_MONTH = date(2026, 10, 1)
DEFAULT_SIZES = {"duckdb": (1_000_000, 10_000_000), "postgresql": (1_000_000,)}
DEMO_SIZE = 200_000
REPEATS = 5
RENDER_TIMEOUT_S = 900  # AppTest's per-run timeout: raw queries at 10 M can take minutes


@dataclass(frozen=True)
class Variant:
    """A filter state, as the URL parameters a user's link would carry."""

    name: str
    params: dict[str, str]


def variants(end_month: date = END_MONTH) -> tuple[Variant, ...]:
    """Default filters, one province, one segment, a two-year range (ending at the data's end)."""
    start = add_months(end_month, -23)
    return (
        Variant("default", {}),
        Variant("province", {"province": "01"}),
        Variant("segment", {"segment": "enterprise"}),
        Variant("two_years", {"from": f"{start:%Y-%m}", "to": f"{end_month:%Y-%m}"}),
    )


def pages() -> tuple[tuple[str, str], ...]:
    """(url path, page file relative to the app) in navigation order, read from the frame's
    PAGES constant (importing dashboard/app.py would run the app)."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PAGES" for t in node.targets):
            return tuple((path, f"../pages/{file}") for file, _, path in ast.literal_eval(node.value))
    raise RuntimeError("dashboard/app.py has no PAGES constant")


def source_tag(customers: int) -> str:
    """warehouse_meta.source written by data_seed for these arguments."""
    return f"generate customers={customers} months={MONTHS} seed={SEED} end_month={END_MONTH:%Y-%m}"
