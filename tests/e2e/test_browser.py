"""The dashboard in a real browser: every page draws, nothing errors, nothing leaves the machine.

Run with `pytest -m e2e tests/e2e` (they also run in `make test`). Screenshots of every
page go to screenshots/ (git-ignored), named <lang>_<page>.png. Each test logs in as the
demo executive through the real login form (tests/e2e/conftest.open_as).
"""

import re

import pytest

from tests.e2e.conftest import open_as

pytestmark = pytest.mark.e2e

PAGES = ("overview", "customers", "complaints", "debt", "churn", "review")
TITLES = {
    "overview": ("Tổng quan", "Overview"),
    "customers": ("Khách hàng", "Customers"),
    "complaints": ("Khiếu nại", "Complaints"),
    "debt": ("Nợ cước", "Debt"),
    "churn": ("Rời mạng", "Churn"),
    "review": ("Đánh giá định kỳ", "Periodic review"),
}
LOAD_MS = 60_000


def page_url(app_url: str, name: str, query: str = "") -> str:
    path = "" if name == "overview" else name  # the default page lives at the root
    return f"{app_url}/{path}{('?' + query) if query else ''}"


def wait_until_drawn(page, name: str) -> None:
    """The frame is up (freshness stamp), the script has finished, and charts have drawn."""
    page.get_by_text(re.compile(r"^(Dữ liệu đến hết|Data through) \d\d/\d\d/\d{4}( · .+)?$")).wait_for(timeout=LOAD_MS)
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=LOAD_MS)
    if name == "overview":
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=\"stMetric\"]').length === 9", timeout=LOAD_MS
        )
        page.wait_for_selector(".js-plotly-plot .main-svg .scatterlayer .point", timeout=LOAD_MS)
    wait_until_idle(page)


def wait_until_idle(page) -> None:
    """Streamlit shows its status widget while a script run is going on."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.trim() === ''",
        timeout=LOAD_MS,
    )


def assert_no_error(page) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.first.inner_text()


def assert_only_local_requests(page) -> None:
    assert page.requests.urls, "no request recorded: the recorder is not working"
    assert page.requests.foreign() == []


def first_kpi_value(page) -> str:
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("name", PAGES)
def test_every_page_draws_without_errors_or_outside_requests(page, app_url, screenshots_dir, name, lang):
    open_as(page, page_url(app_url, name, f"lang={lang}"))
    wait_until_drawn(page, name)
    title = TITLES[name][0 if lang == "vi" else 1]
    assert title in page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text()
    assert_no_error(page)
    if name == "overview":
        assert page.locator(".js-plotly-plot .scatterlayer .point").count() >= 34  # a bubble per province
    page.screenshot(path=str(screenshots_dir / f"{lang}_{name}.png"), full_page=True)
    assert_only_local_requests(page)


def test_changing_a_filter_changes_the_kpis(page, app_url):
    open_as(page, page_url(app_url, "overview"))
    wait_until_drawn(page, "overview")
    before = first_kpi_value(page)
    segment = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Nhóm khách hàng")
    segment.locator("input").click()
    page.get_by_role("option", name="Doanh nghiệp").click()
    page.keyboard.press("Escape")
    page.wait_for_function(
        "(before) => document.querySelector('[data-testid=\"stMetricValue\"]').innerText !== before",
        arg=before,
        timeout=LOAD_MS,
    )
    wait_until_idle(page)
    assert "segment=enterprise" in page.url
    assert page.get_by_text(re.compile(r"^Toàn quốc · Doanh nghiệp · T\d+/\d{4} so với kỳ trước$")).count() >= 1
    assert_no_error(page)
    assert_only_local_requests(page)


def test_a_copied_link_reopens_the_view_on_another_page(page, app_url):
    open_as(page, page_url(app_url, "overview", "province=79&segment=individual&lang=en"))
    wait_until_drawn(page, "overview")
    page.locator('[data-testid="stSidebarNav"] a', has_text="Debt").click()
    wait_until_drawn(page, "debt")
    assert "/debt" in page.url
    assert "province=79" in page.url and "segment=individual" in page.url and "lang=en" in page.url
    # The caption is drawn with the page's charts, which may land after the first chart: wait for it.
    page.get_by_text(re.compile(r"^Ho Chi Minh · Individual · ")).first.wait_for(timeout=LOAD_MS)
    assert_no_error(page)
    assert_only_local_requests(page)


def test_clicking_a_province_on_the_map_filters_the_dashboard(page, app_url):
    open_as(page, page_url(app_url, "overview"))
    wait_until_drawn(page, "overview")
    before = first_kpi_value(page)
    page.locator(".js-plotly-plot .scatterlayer .trace").first.locator(".point").first.click(force=True)
    page.wait_for_function("() => window.location.search.includes('province=')", timeout=LOAD_MS)
    wait_until_idle(page)
    page.wait_for_function(
        "(before) => document.querySelector('[data-testid=\"stMetricValue\"]').innerText !== before",
        arg=before,
        timeout=LOAD_MS,
    )
    assert_no_error(page)
    assert_only_local_requests(page)


def test_junk_in_the_link_shows_a_notice_not_a_crash(page, app_url):
    open_as(page, page_url(app_url, "overview", "segment=martians&from=yesterday"))
    wait_until_drawn(page, "overview")
    assert page.get_by_text("Đã bỏ qua tham số không hợp lệ trong đường dẫn").count() == 1
    assert_no_error(page)
