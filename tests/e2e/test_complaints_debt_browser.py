"""The Complaints and Debt pages in a real browser: every chart draws (Plotly SVG with
marks in it), the lists show, no error element, no request leaves the machine.
Full-page screenshots go to screenshots/<lang>_<page>.png."""

import re

import pytest

from tests.e2e.conftest import open_as

pytestmark = pytest.mark.e2e

LOAD_MS = 90_000
TITLES = {"complaints": ("Khiếu nại", "Complaints"), "debt": ("Nợ cước", "Debt")}
# Charts the page draws for a view with data: of a row of tabs, only the open one is drawn
# (complaints: one of four breakdowns; debt: one of three ageing breakdowns).
MIN_CHARTS = {"complaints": 13, "debt": 8}
DRAWN_CHARTS = (
    "[...document.querySelectorAll('.js-plotly-plot')].filter(plot => plot.querySelector('.main-svg')).length"
)
QCVN = {"vi": "Ngưỡng QCVN 0,25%", "en": "QCVN threshold 0.25%"}


def wait_for_page(page, name: str) -> None:
    page.get_by_text(re.compile(r"^(Dữ liệu đến hết|Data through) \d\d/\d\d/\d{4}( · .+)?$")).wait_for(timeout=LOAD_MS)
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=LOAD_MS)
    page.wait_for_function(f"(count) => {DRAWN_CHARTS} >= count", arg=MIN_CHARTS[name], timeout=LOAD_MS)
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.trim() === ''",
        timeout=LOAD_MS,
    )


def wait_for_count(page, selector: str, count: int) -> None:
    """At least `count` elements (Streamlit draws tables and cards as the script reaches them)."""
    page.wait_for_function(
        "([selector, count]) => document.querySelectorAll(selector).length >= count",
        arg=[selector, count],
        timeout=LOAD_MS,
    )


def assert_clean(page) -> None:
    for selector in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        found = page.locator(selector)
        assert found.count() == 0, found.first.inner_text()
    assert page.requests.urls, "no request recorded"
    assert page.requests.foreign() == []


def drawn_marks(page) -> int:
    """Bars, points and funnel segments inside the drawn charts."""
    return page.locator(
        ".js-plotly-plot .main-svg .bars path, .js-plotly-plot .main-svg .scatterlayer .point,"
        " .js-plotly-plot .main-svg .funnellayer path"
    ).count()


@pytest.mark.parametrize("lang", ["vi"])  # English: tests/e2e/test_browser.py draws every page in both
def test_complaints_page_draws_every_chart(page, app_url, screenshots_dir, lang):
    open_as(page, f"{app_url}/complaints?lang={lang}&from=2025-11&to=2026-10")
    wait_for_page(page, "complaints")
    assert TITLES["complaints"][lang == "en"] in page.locator('[data-testid="stMainBlockContainer"] h1').inner_text()
    wait_for_count(page, '[data-testid="stMetric"]', 11)
    assert drawn_marks(page) > 100
    assert page.get_by_text(QCVN[lang]).count() >= 1  # the threshold line's label
    page.get_by_role("tab", name="Theo tỉnh/thành" if lang == "vi" else "By province").click()
    province_bars = page.locator(".js-plotly-plot").filter(has_text="QCVN").locator(".bars path")
    province_bars.first.wait_for(timeout=LOAD_MS)  # the province tab's rates, drawn against the threshold
    wait_for_count(page, '[data-testid="stDataFrame"]', 5)  # breaches, departments, care, channels, areas
    page.screenshot(path=str(screenshots_dir / f"{lang}_complaints.png"), full_page=True)
    assert_clean(page)


@pytest.mark.parametrize("lang", ["en"])
def test_debt_page_draws_every_chart_and_both_lists(page, app_url, screenshots_dir, lang):
    open_as(page, f"{app_url}/debt?lang={lang}")
    wait_for_page(page, "debt")
    assert TITLES["debt"][lang == "en"] in page.locator('[data-testid="stMainBlockContainer"] h1').inner_text()
    wait_for_count(page, '[data-testid="stMetric"]', 9)
    assert drawn_marks(page) > 100
    assert page.locator(".js-plotly-plot .funnellayer path").count() >= 3  # the block pipeline
    wait_for_count(page, '[data-testid="stDataFrame"]', 2)  # frequent and largest debtors
    page.screenshot(path=str(screenshots_dir / f"{lang}_debt.png"), full_page=True)
    assert_clean(page)


def test_empty_selection_shows_a_note_not_empty_axes(page, app_url):
    open_as(page, f"{app_url}/debt?lang=en&plan=prepaid")
    page.get_by_text(re.compile(r"^No data for the chosen filters")).wait_for(timeout=LOAD_MS)
    assert page.locator(".js-plotly-plot").count() == 0
    assert_clean(page)
