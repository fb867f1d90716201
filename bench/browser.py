"""In the real browser: how long a filter change takes until every chart has redrawn.

`streamlit run dashboard/app.py` against the benchmark warehouse (Debian Chromium driven
by playwright, the flags of tests/e2e/conftest.py; never `playwright install`). For each page: open
it, log in through the form as the demo executive, wait until it is drawn, then pick a
segment in the sidebar and time until the run is over: the link carries the new filter,
Streamlit's status widget is gone, no element is left stale from the previous run and
every Plotly chart has its SVG. Then the server's peak resident memory (VmHWM).

The timing includes the dashboard's own result cache at work, as a user meets it: the
first change to a segment is a cache miss (new selects), so it is the real cost.
"""

import time
from pathlib import Path

from bench.config import pages

LOAD_MS = 600_000  # raw queries at 10 M customers can take minutes
SEGMENT_LABEL = "Nhóm khách hàng"
SEGMENT_OPTION = "Doanh nghiệp"
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
# least `runs` runs were seen (WATCH_RUNS), the page's title is `title`, the link holds `search`.
DRAWN = """({runs, title, search}) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') === 'running') return false;
  if (runs && (window.__finishedRuns || 0) < runs) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  const titles = [...document.querySelectorAll('h1')].map((heading) => heading.innerText.trim());
  if (title && !titles.includes(title)) return false;
  if (search && !location.search.includes(search)) return false;
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (!chart.querySelector('.main-svg')) return false;
  }
  return true;
}"""


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _wait_drawn(tab, runs: int = 0) -> None:
    """Until no script run is going on (and at least `runs` have finished since the
    watcher was installed), nothing is stale, and every Plotly chart has drawn its SVG."""
    tab.wait_for_function(DRAWN, arg={"runs": runs}, timeout=LOAD_MS, polling="raf")


def time_filter_changes(url: str, var_dir: str, log=print) -> dict:
    """{"pages": {path: {"open_s", "filter_change_s"}}, "server_peak_rss_mb"}."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, log_in, start_server, stop_server

    log_path = Path(var_dir) / "streamlit.log"
    process, base_url = start_server(url, var_dir, log_path)
    results: dict = {"pages": {}}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, chromium_sandbox=False, headless=True
            )
            try:
                for path, _ in pages():
                    context = browser.new_context(viewport={"width": 1440, "height": 2000}, locale="vi-VN")
                    tab = context.new_page()
                    started = time.perf_counter()
                    tab.goto(f"{base_url}/{'' if path == 'overview' else path}?lang=vi", wait_until="domcontentloaded")
                    log_in(tab, "executive")
                    _wait_drawn(tab)
                    opened = time.perf_counter() - started
                    segment = tab.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
                        has_text=SEGMENT_LABEL
                    )
                    segment.locator("input").click()
                    option = tab.get_by_role("option", name=SEGMENT_OPTION)
                    option.wait_for(timeout=LOAD_MS)
                    tab.evaluate(WATCH_RUNS)
                    started = time.perf_counter()
                    option.click()
                    _wait_drawn(tab, runs=1)
                    changed = time.perf_counter() - started
                    if "segment=enterprise" not in tab.url:
                        raise RuntimeError(f"{path}: the segment filter did not reach the link ({tab.url})")
                    charts = tab.locator('[data-testid="stPlotlyChart"]').count()
                    results["pages"][path] = {"open_s": opened, "filter_change_s": changed, "charts": charts}
                    log(f"  browser {path:<11} open {opened:6.2f} s  segment change {changed:6.2f} s ({charts} charts)")
                    context.close()
            finally:
                browser.close()
        results["server_peak_rss_mb"] = peak_rss_mb(process.pid)
    finally:
        stop_server(process)
    return results
