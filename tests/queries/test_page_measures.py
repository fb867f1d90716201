"""queries/page_measures.py declares what each page shows, for the importer's warnings; it must
hold to the pages themselves (read from their source: importing a page would run it)."""

import ast
import importlib
from pathlib import Path

import pytest

from dashboard.text.strings import TEXT
from queries import tables
from queries.metrics import MEASURES
from queries.page_measures import PAGES, emptied_by, measures_reading

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
# Where each page's code lives: its folder, and for the review the dashboard package it composes.
PAGE_FILES = {page.path: sorted((ROOT / "pages" / page.path).glob("*.py")) for page in PAGES}
PAGE_FILES["review"] += sorted((ROOT / "dashboard" / "review").glob("*.py"))


def navigation() -> list[tuple[str, str, str]]:
    for node in ast.parse(APP.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", "") == "PAGES" for target in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("PAGES not found in dashboard/app.py")


def measures_named_in(path: Path) -> set[str]:
    """Registry measure names a module spells out, or takes from a tuple constant of queries."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and node.value in MEASURES:
            found.add(node.value)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("queries"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if isinstance(value, tuple | frozenset) and all(isinstance(item, str) for item in value):
                    found.update(name for name in value if name in MEASURES)
    return found


def test_pages_are_the_navigation_with_its_titles():
    assert [page.path for page in PAGES] == [path for _, _, path in navigation()]
    for page, (_, key, _) in zip(PAGES, navigation(), strict=True):
        assert (page.title_vi, page.title_en) == TEXT[key]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.path)
def test_every_measure_a_page_shows_is_declared_for_it(page):
    shown = set().union(*(measures_named_in(path) for path in PAGE_FILES[page.path]))
    assert shown, page.path  # the scan finds something, or it checks nothing
    assert shown <= set(page.measures), sorted(shown - set(page.measures))


def test_tables_the_pages_read_outside_the_registry_exist():
    for page in PAGES:
        assert set(page.other_tables) <= set(tables.metadata.tables), page.path


def test_emptied_by_follows_the_sources_of_the_registry():
    assert measures_reading("revenue_monthly") == {
        name for name, measure in MEASURES.items() if "revenue_monthly" in measure.sources
    }
    pages = dict((page.path, parts) for page, parts in emptied_by("bills"))
    assert pages["debt"] == ["the whole page"]  # every Debt figure reads bills
    assert pages["overview"] == [MEASURES["outstanding_debt"].label_en]
    assert "churn" not in pages
    # Without customers every page loses figures; only the call-centre ones (no customer) stay.
    emptied = {page.path: parts for page, parts in emptied_by("customers")}
    assert set(emptied) == {page.path for page in PAGES}
    assert emptied["overview"] == emptied["debt"] == emptied["churn"] == ["the whole page"]
    assert MEASURES["call_answer_rate"].label_en not in emptied["complaints"]
    assert MEASURES["complaint_count"].label_en in emptied["complaints"]
