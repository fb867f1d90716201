"""The Customers and Churn pages in a real browser: every chart draws (bars, lines, the cohort
heat map, the Sankey flow), no error element, nothing fetched from outside the machine, and
the drill-down opens the paged list. Screenshots: screenshots/<lang>_<page>_full.png.

Run with `pytest -m e2e tests/e2e/test_customers_churn_browser.py`.
"""

import pytest

from tests.e2e.conftest import open_as
from tests.e2e.test_browser import assert_no_error, assert_only_local_requests, page_url, wait_until_idle

pytestmark = pytest.mark.e2e

LOAD_MS = 90_000
# Plotly charts each page draws with the default filters.
CHARTS = {"customers": 5, "churn": 14}
TITLES = {"customers": ("Khách hàng", "Customers"), "churn": ("Rời mạng", "Churn")}


def wait_for_charts(page, name: str) -> None:
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=LOAD_MS)
    page.wait_for_function(
        "(count) => [...document.querySelectorAll('.js-plotly-plot')]"
        ".filter((plot) => plot.querySelector('.main-svg')).length >= count",
        arg=CHARTS[name],
        timeout=LOAD_MS,
    )
    wait_until_idle(page)


# One language per page here (tests/e2e/test_browser.py opens every page in both): CPU is scarce.
@pytest.mark.parametrize(("name", "lang"), [("customers", "vi"), ("churn", "en")])
def test_the_page_draws_every_chart(page, app_url, screenshots_dir, name, lang):
    open_as(page, page_url(app_url, name, f"lang={lang}"))
    wait_for_charts(page, name)
    title = TITLES[name][0 if lang == "vi" else 1]
    assert title in page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text()
    assert page.locator('[data-testid="stMetric"]').count() >= 9
    plots = page.locator(".js-plotly-plot")
    assert plots.count() == CHARTS[name]
    if name == "churn":
        assert page.locator(".js-plotly-plot .sankey").count() == 1, "the flow chart draws"
        assert page.locator(".js-plotly-plot .heatmaplayer image, .js-plotly-plot .hm").count() >= 1, "heat map"
    assert_no_error(page)
    # The main block scrolls inside the window: a tall viewport puts the whole page in the shot.
    page.set_viewport_size({"width": 1440, "height": 6500 if name == "churn" else 4200})
    wait_until_idle(page)
    page.screenshot(path=str(screenshots_dir / f"{lang}_{name}_full.png"), full_page=True)
    assert_only_local_requests(page)


def test_the_drill_down_opens_a_paged_list(page, app_url):
    open_as(page, page_url(app_url, "customers", "lang=en"), "analyst")
    wait_for_charts(page, "customers")
    tables_before = page.locator('[data-testid="stDataFrame"]').count()
    chooser = page.locator('[data-testid="stSelectbox"]').filter(has_text="Choose")
    chooser.scroll_into_view_if_needed()
    chooser.locator("input").click()
    page.keyboard.type("Ho Chi")  # the option list is virtualised: filter it to bring the province in
    page.get_by_role("option", name="Ho Chi Minh").click()
    page.get_by_text("Names and phone numbers are masked", exact=False).wait_for(timeout=LOAD_MS)
    wait_until_idle(page)
    assert page.locator('[data-testid="stDataFrame"]').count() == tables_before + 1
    assert page.get_by_text("Rows 1–50 of", exact=False).count() == 1
    assert page.get_by_role("button", name="Download CSV").count() >= 1
    assert_no_error(page)
    assert_only_local_requests(page)
