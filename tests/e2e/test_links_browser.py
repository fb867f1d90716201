"""Links in a real browser (issue 13): the default page opened by its own name, a legacy
province code, and hostile text in a parameter, each through the real login form.
"""

import re

import pytest

from tests.e2e.conftest import open_as
from tests.e2e.test_browser import LOAD_MS, assert_no_error, wait_until_drawn

pytestmark = pytest.mark.e2e


def main_title(page) -> str:
    return page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text()


def test_the_default_page_opens_by_its_own_name(page, app_url):
    """/overview?… is the Overview with the link's filters, not a "Page not found" dialog over
    the login form."""
    open_as(page, f"{app_url}/overview?province=01&lang=en")
    wait_until_drawn(page, "overview")
    assert page.locator('[role="dialog"]').count() == 0
    assert page.get_by_text("Page not found").count() == 0
    assert main_title(page) == "Overview"
    page.get_by_text(re.compile(r"^Hanoi · ")).first.wait_for(timeout=LOAD_MS)
    assert "/overview?" in page.url and "province=01" in page.url
    # The name is not a second entry in the navigation, which still leads away and back.
    nav = page.locator('[data-testid="stSidebarNav"] a')
    assert nav.filter(has_text="Overview").count() == 1
    nav.filter(has_text="Debt").first.click()
    wait_until_drawn(page, "debt")
    assert main_title(page) == "Debt" and "province=01" in page.url
    nav.filter(has_text="Overview").first.click()
    wait_until_drawn(page, "overview")
    assert main_title(page) == "Overview"
    assert_no_error(page)


def test_an_old_link_with_a_legacy_code_and_hostile_text(page, app_url):
    """The Hà Nội + Hải Phòng manager: Hải Dương (30) opens Hải Phòng (31), Bình Dương (74, now
    Hồ Chí Minh) is dropped by its code, and a right-to-left override is shown escaped."""
    open_as(page, f"{app_url}/debt?province=30,74,%E2%80%AE97&lang=en", "manager")
    wait_until_drawn(page, "debt")
    page.get_by_text(re.compile(r"^Haiphong · ")).first.wait_for(timeout=LOAD_MS)
    notices = page.locator('[data-testid="stAlert"]').all_inner_texts()
    text = "\n".join(notices)
    assert "province=30 → 31 Haiphong" in text, notices
    assert "they were dropped: province=74" in text, notices
    assert "province=\\u202e97" in text, notices
    assert "\u202e" not in page.locator("body").inner_text()
    assert "Ho Chi Minh" not in text
    assert "province=31" in page.url and "74" not in page.url
    assert_no_error(page)


def test_an_admin_bookmark_of_the_data_loads_page_survives_login(page, app_url):
    """/loads before login is the login form (no "Page not found" dialog over it); after it,
    the admin is on the load log."""
    open_as(page, f"{app_url}/loads?lang=en", "admin")
    page.get_by_text("Every load into the warehouse, latest first", exact=False).wait_for(timeout=LOAD_MS)
    assert page.get_by_text("Page not found").count() == 0
    assert main_title(page) == "Data loads"
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=LOAD_MS)
    assert_no_error(page)


def test_the_data_loads_address_is_no_page_for_a_manager(page, app_url):
    open_as(page, f"{app_url}/loads?lang=en", "manager")
    page.wait_for_timeout(2000)
    assert main_title(page) != "Data loads"
    assert page.get_by_text("Every load into the warehouse, latest first", exact=False).count() == 0
    assert page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Data loads").count() == 0
