"""Access control in a real browser: the regional manager of Hà Nội + Hải Phòng logs in
through the form and finds no other province's name anywhere on any page — page text,
the map's SVG text and its hover data, the options of the province pickers when opened —
on every page in Vietnamese, and on the Overview in English. A tampered link is dropped
with a notice; a download is audited.
"""

import csv
import json
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import log_in
from tests.e2e.test_browser import LOAD_MS, TITLES, assert_no_error, page_url, wait_until_drawn, wait_until_idle

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OWN = ("01", "31")


def foreign_patterns() -> list[tuple[str, re.Pattern]]:
    with (PROJECT_ROOT / "queries" / "reference_data" / "provinces_2025.csv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["code"] not in OWN]
    return [
        (f"{row['code']} {name}", re.compile(rf"(?<!\w){re.escape(name)}(?!\w)"))
        for row in rows
        for name in (row["name_vi"], row["name_en"])
    ]


FOREIGN = foreign_patterns()


def leaks(texts: list[str]) -> dict[str, str]:
    found = {}
    for text in texts:
        for label, pattern in FOREIGN:
            match = pattern.search(text)
            if match and label not in found:
                found[label] = text[max(0, match.start() - 60) : match.end() + 60]
    return found


def everything_on_the_page(page) -> list[str]:
    """The page's text, every SVG text (map labels, axes, legends) and every chart's data
    (hover texts are not in the DOM until hovered)."""
    texts = [page.locator("body").inner_text()]
    texts += page.locator("svg text").all_text_contents()
    texts.append(
        page.evaluate(
            "() => JSON.stringify([...document.querySelectorAll('.js-plotly-plot')]"
            ".map(plot => (plot.data || []).map(trace => [trace.text, trace.hovertext, trace.customdata])))"
        )
    )
    return texts


def open_options(page, widget) -> list[str]:
    """Open a select/multiselect and read every option it offers, then close it."""
    wait_until_idle(page)  # a rerun in progress would redraw the widget and close its list
    widget.locator("input").first.click()
    option = page.locator('[role="listbox"] [role="option"]')
    option.first.wait_for(timeout=LOAD_MS)
    options = option.all_inner_texts()
    page.keyboard.press("Escape")
    return [option for option in options if option != "Select all"]  # Streamlit's own multiselect entry


def province_picker(page):
    return page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
        has_text=re.compile("^(Tỉnh/thành|Provinces)")
    )


def go_to(page, name: str, lang: str) -> None:
    title = TITLES[name][0 if lang == "vi" else 1]
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    wait_until_drawn(page, name)
    page.locator('[data-testid="stMainBlockContainer"] h1', has_text=title).first.wait_for(timeout=LOAD_MS)


def test_the_regional_manager_sees_no_other_province_anywhere(page, app_url, screenshots_dir):
    page.goto(page_url(app_url, "overview", "lang=vi"), wait_until="domcontentloaded")
    log_in(page, "manager")
    wait_until_drawn(page, "overview")
    for lang in ("vi", "en"):
        if lang == "en":
            page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
            page.wait_for_function("() => window.location.search.includes('lang=en')", timeout=LOAD_MS)
            wait_until_idle(page)
        own = {"vi": ["Hà Nội", "Hải Phòng"], "en": ["Hanoi", "Haiphong"]}[lang]
        # Every page in Vietnamese; in English the Overview, where the map and "what changed"
        # name provinces (the other pages name them through the same options and captions).
        for name in TITLES if lang == "vi" else ("overview",):
            go_to(page, name, lang)
            assert_no_error(page)
            texts = everything_on_the_page(page)
            offered = open_options(page, province_picker(page))
            assert offered == own, (name, offered)
            texts += offered
            if name == "overview":
                picker = page.locator('[data-testid="stSelectbox"]').filter(
                    has_text=re.compile("^(Chọn tỉnh/thành để lọc|Choose a province to filter)")
                )
                picked = open_options(page, picker)
                assert picked[1:] == own, picked
                texts += picked
                bubbles = page.evaluate(
                    "() => [...document.querySelectorAll('.js-plotly-plot')]"
                    ".flatMap(plot => (plot.data || []).flatMap(trace => (trace.customdata || []).map(d => d[0])))"
                )
                assert sorted(bubbles) == list(OWN)
            assert leaks(texts) == {}, (lang, name)
            page.screenshot(path=str(screenshots_dir / f"manager_{lang}_{name}.png"), full_page=True)


def test_a_tampered_link_is_dropped_with_a_notice(page, app_url):
    page.goto(page_url(app_url, "debt", "province=79,01&region=nam&lang=en"), wait_until="domcontentloaded")
    log_in(page, "manager")
    wait_until_drawn(page, "debt")
    notice = page.get_by_text(re.compile("^The link names provinces outside what you may see"))
    notice.wait_for(timeout=LOAD_MS)
    assert "province=79" in notice.inner_text() and "region=nam" in notice.inner_text()
    assert "/debt" in page.url and "province=01" in page.url and "79" not in page.url
    assert leaks(everything_on_the_page(page)) == {}
    assert_no_error(page)


def test_a_download_writes_an_audit_line(page, app_url, e2e_var_dir):
    page.goto(page_url(app_url, "overview", "lang=en&segment=enterprise"), wait_until="domcontentloaded")
    log_in(page, "manager")
    wait_until_drawn(page, "overview")
    page.get_by_text("KPI table", exact=True).click()
    with page.expect_download(timeout=LOAD_MS) as download_info:
        page.get_by_role("button", name="Download CSV").first.click()
    content = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert content.startswith("measure,label,unit,value")
    events = [json.loads(line) for line in (e2e_var_dir / "audit.log").read_text(encoding="utf-8").splitlines()]
    exports = [event for event in events if event["event"] == "export" and event["user"] == "manager"]
    assert exports and exports[-1]["filters"]["segments"] == ["enterprise"]
    assert exports[-1]["description"].startswith("Hanoi, Haiphong · Enterprise")
