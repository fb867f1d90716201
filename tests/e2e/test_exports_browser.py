"""Data leaves the dashboard only through our audited download buttons (issue 13).

A table's own toolbar offered "Download as CSV" (names and phones, unmasked for an
executive or a manager) and wrote no audit line; it is turned off in
.streamlit/config.toml (client.disableDataExport). The toolbar itself stays: search and
full screen are still offered, which proves the toolbar was really looked at.
"""

import pytest

from tests.e2e.conftest import open_as
from tests.e2e.test_complaints_debt_browser import wait_for_count, wait_for_page

pytestmark = pytest.mark.e2e


def test_a_table_offers_no_unaudited_download(page, app_url):
    open_as(page, f"{app_url}/debt?lang=en", "manager")
    wait_for_page(page, "debt")
    wait_for_count(page, '[data-testid="stDataFrame"]', 2)  # the two debtor lists, names and phones unmasked
    table = page.locator('[data-testid="stDataFrame"]').first
    table.scroll_into_view_if_needed()
    table.hover()
    toolbar = page.locator('[data-testid="stElementToolbar"]').filter(has=page.get_by_role("button", name="Search"))
    toolbar.first.wait_for(state="visible", timeout=10_000)
    labels = [button.get_attribute("aria-label") for button in toolbar.first.get_by_role("button").all()]
    assert "Search" in labels
    assert "Download as CSV" not in labels
    assert page.get_by_role("button", name="Download as CSV").count() == 0
