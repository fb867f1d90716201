"""In the real browser: what the user waits for, page by page.

`streamlit run dashboard/server.py` against the benchmark warehouse (Debian Chromium driven by
playwright, the flags of tests/e2e/conftest.py; never `playwright install`), in a 1440 × 900
window (a laptop screen). The demo executive logs in once on Overview; then, for each page:

- **open**: the page's link in the sidebar is clicked; timed until its first screen is drawn
  (the title, and every chart within the window drawn, the content reaching the fold or the
  run over) and until the whole page is drawn (the run over, nothing stale, every chart drawn);
- **filter changes**: segments are added and removed in the sidebar, six times (five new
  filter combinations, then back to none: a cached answer, as a user going back meets it),
  each timed until the link carries the new filter and the whole page is redrawn;
  reported as p50 and p95 over the six;
- **section control**: one control that changes a single section (a breakdown radio, the
  map's measure, a list's next page), timed the same way, three times back and forth;
- **bytes**: what the server sent over the websocket for each of these (Streamlit's
  protobuf messages), so a lighter page shows as fewer bytes.

The server's peak resident memory (VmHWM) closes the run. Filter changes are cache misses
on the dashboard's own result cache except the last, so they are the real cost.
"""

import time
from dataclasses import dataclass
from pathlib import Path

from bench.config import pages
from bench.timing import percentile

LOAD_MS = 600_000  # raw queries at 10 M customers can take minutes
WINDOW = {"width": 1440, "height": 900}
SEGMENT_LABEL = "Nhóm khách hàng"
# (add or remove, segment): five new combinations, then back to every segment.
FILTER_CHANGES = (
    ("add", "Doanh nghiệp"),
    ("add", "Hộ gia đình"),
    ("remove", "Doanh nghiệp"),
    ("add", "Cơ quan nhà nước"),
    ("remove", "Hộ gia đình"),
    ("remove", "Cơ quan nhà nước"),
)
# Per page: the key of one section-local control and how it is worked.
SECTION_CONTROLS = {
    "overview": ("overview_map_measure", "select"),
    "customers": ("customers_mix_by", "radio"),
    "complaints": ("cx_breaches_page", "step"),
    "debt": ("debt_frequent_list_page", "step"),
    "churn": ("churn_flow_from", "radio"),
    "review": ("review_kind", "radio"),
}
SECTION_REPEATS = 3
# The app root carries the script's run state (data-test-script-state: running,
# notRunning, …). A watcher counts finished runs, so a run too quick to be seen polling
# still counts.
WATCH_RUNS = """() => {
  window.__finishedRuns = 0;
  // Each record's old value: a short run whose start and end arrive in one batch still counts.
  // The whole document is watched: an app root drawn anew is still seen.
  if (window.__runObserver) window.__runObserver.disconnect();
  window.__runObserver = new MutationObserver((records) => {
    records.forEach((record, index) => {
      const later = records.slice(index + 1).find((other) => other.target === record.target);
      const next = later ? later.oldValue : record.target.getAttribute('data-test-script-state');
      if (record.oldValue === 'running' && next !== 'running') window.__finishedRuns += 1;
    });
  });
  window.__runObserver.observe(document.body, {
    subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state'],
  });
}"""
# Drawn: the run is over, nothing is stale and every chart is drawn; and, when asked, at
# least `runs` runs were seen (WATCH_RUNS) and the page's title is `title`.
DRAWN = """({runs, title}) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') === 'running') return false;
  if (runs && (window.__finishedRuns || 0) < runs) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  const titles = [...document.querySelectorAll('h1')].map((heading) => heading.innerText.trim());
  if (title && !titles.includes(title)) return false;
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!chart.querySelector('.main-svg')) return false;
  }
  return true;
}"""
# The first screen: the page's title is there, what is within the window is current (not
# stale) and its charts are drawn, and the content reaches the fold (or the run is over).
FIRST_SCREEN = """({title}) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const titles = [...document.querySelectorAll('h1')].map((heading) => heading.innerText.trim());
  if (!titles.includes(title)) return false;
  const fold = window.innerHeight;
  const visible = (element) => element.getBoundingClientRect().top < fold;
  const main = document.querySelector('[data-testid="stMain"]') || app;
  const blocks = [...main.querySelectorAll('[data-testid="stElementContainer"]')];
  if ([...main.querySelectorAll('[data-stale="true"]')].some(visible)) return false;
  for (const chart of main.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (visible(chart) && !chart.querySelector('.main-svg')) return false;
  }
  const over = app.getAttribute('data-test-script-state') !== 'running';
  return over || blocks.some((block) => block.getBoundingClientRect().bottom >= fold);
}"""


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class WebsocketBytes:
    """Bytes the server sent over the tab's websockets since the last `take()`."""

    def __init__(self, tab) -> None:
        self.count = 0
        tab.on("websocket", lambda socket: socket.on("framereceived", self._add))

    def _add(self, payload) -> None:
        self.count += len(payload.encode() if isinstance(payload, str) else payload)

    def take(self) -> int:
        taken, self.count = self.count, 0
        return taken


@dataclass
class Action:
    seconds: float
    sent_bytes: int
    first_screen_s: float | None = None  # for opening a page


def _wait_drawn(tab, runs: int = 0, title: str | None = None) -> None:
    tab.wait_for_function(DRAWN, arg={"runs": runs, "title": title}, timeout=LOAD_MS, polling="raf")


def _timed(tab, sent: WebsocketBytes, prepare, title: str | None = None) -> Action:
    """`prepare()` the control (open its list: not timed) and get the click that changes
    something; time from that click until the page is drawn again after at least one run
    (and, for a page being opened, whose title is `title`, until its first screen is)."""
    click = prepare()
    tab.evaluate(WATCH_RUNS)
    sent.take()
    started = time.perf_counter()
    click()
    first_screen = None
    if title is not None:
        tab.wait_for_function(FIRST_SCREEN, arg={"title": title}, timeout=LOAD_MS, polling="raf")
        first_screen = time.perf_counter() - started
    _wait_drawn(tab, runs=1, title=title)
    seconds = time.perf_counter() - started
    tab.wait_for_timeout(200)  # frames still on their way belong to this action
    return Action(seconds, sent.take(), first_screen)


def _segment_box(tab):
    return tab.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text=SEGMENT_LABEL)


def _opened(tab, opener, option):
    """Open a drop-down list until `option` shows in it; the click on it, to be timed."""
    for _ in range(5):  # a click while the sidebar or page scrolls into view can leave the list shut
        opener.click()
        try:
            option.wait_for(timeout=2_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: click again
            tab.keyboard.press("Escape")
    return option.click


def _segment_change(tab, how: str, segment: str):
    """The click that adds or removes `segment` in the sidebar's segment filter."""
    tab.keyboard.press("Escape")  # the list a previous choice left open
    box = _segment_box(tab)
    if how == "add":
        return _opened(tab, box.locator("input"), tab.get_by_role("option", name=segment))
    return box.locator(f'button[aria-label="Remove {segment}"]').first.click


def _section_change(tab, key: str, kind: str, turn: int):
    """The click on a section's own control: the other of two options, or a page on and back."""
    control = tab.locator(f".st-key-{key}")
    if kind == "radio":
        return control.locator('[role="radiogroup"] label').nth((turn + 1) % 2).click
    if kind == "select":
        return _opened(tab, control.get_by_role("combobox"), tab.get_by_role("option").nth((turn + 1) % 2))
    button = "stNumberInputStepUp" if turn % 2 == 0 else "stNumberInputStepDown"
    return control.locator(f'[data-testid="{button}"]').click


def _workable(tab, key: str, kind: str) -> bool:
    """The control is on the page (and a list has a second page to turn to)."""
    control = tab.locator(f".st-key-{key}")
    if not control.count():
        return False
    return kind != "step" or control.locator('[data-testid="stNumberInputStepUp"]').is_enabled()


def _summary(actions: list[Action]) -> dict:
    seconds = [action.seconds for action in actions]
    return {
        "p50_s": percentile(seconds, 0.5),
        "p95_s": percentile(seconds, 0.95),
        "runs_s": seconds,
        "mean_bytes": sum(action.sent_bytes for action in actions) / len(actions),
    }


def _time_page(tab, sent: WebsocketBytes, path: str, log) -> dict:
    link = tab.locator(f'[data-testid="stSidebarNav"] a[href$="/{"" if path == "overview" else path}"]').first
    opened = _timed(tab, sent, lambda: link.click, title=link.inner_text().strip())
    first_screen = opened.first_screen_s

    changes = []
    for how, segment in FILTER_CHANGES:
        changes.append(_timed(tab, sent, lambda how=how, segment=segment: _segment_change(tab, how, segment)))
    if "segment=" in tab.url:
        raise RuntimeError(f"{path}: the segment filter did not come back to every segment ({tab.url})")

    sections = []
    key, kind = SECTION_CONTROLS[path]
    if _workable(tab, key, kind):
        for turn in range(SECTION_REPEATS):
            sections.append(_timed(tab, sent, lambda turn=turn: _section_change(tab, key, kind, turn)))
    charts = tab.locator('[data-testid="stPlotlyChart"]').count()
    result = {
        "first_screen_s": first_screen,
        "open_s": opened.seconds,
        "open_bytes": opened.sent_bytes,
        "filter_change": _summary(changes),
        "section": _summary(sections) if sections else None,
        "charts": charts,
    }
    log(
        f"  browser {path:<11} first screen {first_screen:5.2f} s, whole page {opened.seconds:5.2f} s "
        f"({opened.sent_bytes / 1024:,.0f} KB) · filter change p50 {result['filter_change']['p50_s']:5.2f} "
        f"p95 {result['filter_change']['p95_s']:5.2f} s ({result['filter_change']['mean_bytes'] / 1024:,.0f} KB)"
        + (
            f" · section p50 {result['section']['p50_s']:5.2f} p95 {result['section']['p95_s']:5.2f} s "
            f"({result['section']['mean_bytes'] / 1024:,.0f} KB)"
            if sections
            else ""
        )
        + f" · {charts} charts"
    )
    return result


def time_pages(url: str, var_dir: str, log=print) -> dict:
    """{"pages": {path: {first_screen_s, open_s, open_bytes, filter_change, section, charts}},
    "server_peak_rss_mb"}."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, log_in, start_server, stop_server

    log_path = Path(var_dir) / "streamlit.log"
    process, base_url = start_server(url, var_dir, log_path)
    results: dict = {"pages": {}, "window": WINDOW}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, chromium_sandbox=False, headless=True
            )
            try:
                context = browser.new_context(viewport=WINDOW, locale="vi-VN")
                tab = context.new_page()
                sent = WebsocketBytes(tab)
                tab.goto(f"{base_url}/?lang=vi", wait_until="domcontentloaded")
                log_in(tab, "executive")
                _wait_drawn(tab)
                # Overview last: opened from Review, like every other page from the one before.
                order = [path for path, _ in pages() if path != "overview"] + ["overview"]
                for path in order:
                    results["pages"][path] = _time_page(tab, sent, path, log)
                context.close()
            finally:
                browser.close()
        results["server_peak_rss_mb"] = peak_rss_mb(process.pid)
    finally:
        stop_server(process)
    return results
