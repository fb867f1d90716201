"""Many people on the dashboard at once, in real browser sessions: does the server keep answering?

    python -m bench.load --sessions 20 [--rounds 2] [--max-minutes 15]
    python -m bench.load --url http://127.0.0.1:8501 --sessions 20     # a server you started

Without ``--url`` it starts ``streamlit run`` itself against ``--warehouse`` (default: the
demo warehouse of ``make run``) with the five demo users in a temporary folder. With
``--url`` the server's own users must include the demo users (``make run`` adds them).
Only servers on this machine are accepted (127.0.0.0/8, localhost, ::1).

Each session is a separate browser context in one headless Chromium (Debian's, never a
downloaded one) that logs in through the form as one of the demo users, in turn an
analyst (masked lists, the table and list downloads), an executive and a regional
manager, and then, for each round, opens every page through the sidebar, waits until
the page is drawn, picks a segment once, and downloads the page's first CSV. Meanwhile
a watchdog asks the server's health check every second.

``--during "python -m data_seed refresh --full"`` (any command) runs that command once
the sessions are browsing, e.g. a reload or a refresh of the same warehouse; the report
then shows whether the pages kept answering and which freshness stamps they showed.

It stops by itself: after ``--rounds`` rounds or ``--max-minutes``, whichever is first.
Errors counted: a step that does not finish within ``--step-seconds``, an exception or
error box on a page, a download that fails, a health check that does not answer within
``HEALTH_TIMEOUT_S``. A freeze is the health check failing for ``FREEZE_S`` in a row.
Prints a summary and writes JSON to bench_results/load-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import re
import shlex
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.browser import DRAWN, peak_rss_mb
from dashboard.access.users import seed_demo

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "bench_results"
# In the order a round walks them: a session starts on the overview, and a click on the page
# already shown starts no run, so the overview comes last.
PAGES = ("customers", "complaints", "debt", "churn", "review", "overview")
ROLES = ("analyst", "executive", "manager")  # in turn: session 1 analyst, 2 executive, …
PASSWORDS = {"analyst": "analyst-demo", "executive": "executive-demo", "manager": "manager-demo"}
FRESHNESS = re.compile(r"^(Dữ liệu đến hết|Data through) (\d\d/\d\d/\d{4})( · .+)?$")
SEGMENT_LABEL = "Nhóm khách hàng"
SEGMENT_OPTION = "Doanh nghiệp"
SEGMENT_IN_LINK = "segment=enterprise"
FIRST_PAGE_TITLE = "Tổng quan"  # the overview, where a login lands (sessions browse in Vietnamese)
HEALTH_TIMEOUT_S = 5
FREEZE_S = 20
ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'


@dataclass
class Report:
    sessions: int
    rounds_done: int = 0
    page_times_s: list[float] = field(default_factory=list)
    filter_times_s: list[float] = field(default_factory=list)
    downloads: int = 0
    errors: list[str] = field(default_factory=list)
    health_checks: int = 0
    health_failures: int = 0
    slowest_health_s: float = 0.0
    froze: bool = False
    freshness_seen: list[str] = field(default_factory=list)  # every page's "data through" stamp
    freshness_after_during: list[str] = field(default_factory=list)  # those of rounds begun after --during ended
    server_peak_rss_mb: float | None = None
    during: dict | None = None
    wall_s: float = 0.0

    def summary(self) -> dict:
        def percentile(values: list[float], share: float) -> float | None:
            if not values:
                return None
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)

        return {
            "sessions": self.sessions,
            "page_loads": len(self.page_times_s),
            "page_p50_s": percentile(self.page_times_s, 0.5),
            "page_p95_s": percentile(self.page_times_s, 0.95),
            "filter_change_p95_s": percentile(self.filter_times_s, 0.95),
            "page_mean_s": round(statistics.fmean(self.page_times_s), 2) if self.page_times_s else None,
            "downloads": self.downloads,
            "errors": len(self.errors),
            "health_failures": self.health_failures,
            "slowest_health_s": round(self.slowest_health_s, 2),
            "froze": self.froze,
            "freshness_seen": sorted(set(self.freshness_seen)),
            "freshness_after_during": sorted(set(self.freshness_after_during)) if self.during else None,
            "server_peak_rss_mb": round(self.server_peak_rss_mb) if self.server_peak_rss_mb else None,
            "wall_s": round(self.wall_s, 1),
        }


def require_local(url: str) -> None:
    """Load is only ever sent to a server on this machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refused: {url} is not on this machine (only 127.0.0.0/8, localhost, ::1)")


def health_answers(base_url: str) -> float | None:
    """Seconds the health check took, None when it did not answer in time."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=HEALTH_TIMEOUT_S) as answer:
            return time.perf_counter() - started if answer.status == 200 else None
    except OSError:
        return None


async def watchdog(base_url: str, report: Report, stop: asyncio.Event) -> None:
    failing_since = None
    while not stop.is_set():
        took = await asyncio.to_thread(health_answers, base_url)
        report.health_checks += 1
        if took is None:
            report.health_failures += 1
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since >= FREEZE_S:
                report.froze = True
                report.errors.append(f"server froze: no health answer for {FREEZE_S} s")
                stop.set()
        else:
            failing_since = None
            report.slowest_health_s = max(report.slowest_health_s, took)
        try:
            await asyncio.wait_for(stop.wait(), timeout=1)
        except TimeoutError:
            pass


async def check_page(tab, where: str, report: Report, after_during: bool) -> None:
    errors = tab.locator(ERROR_SELECTOR)
    if await errors.count():
        report.errors.append(f"{where}: {(await errors.first.inner_text())[:2000]}")
    stamp = tab.get_by_text(FRESHNESS)
    if await stamp.count():
        match = FRESHNESS.match((await stamp.first.inner_text()).strip())
        if match:
            report.freshness_seen.append(match.group(2))
            if after_during:
                report.freshness_after_during.append(match.group(2))


# A step waits for the page asked for (its title; for a filter, the link carrying the choice),
# not for a count of runs: under load one was seen to go uncounted, the page drawn all the same.
async def wait_drawn(tab, step_ms: int, *, title: str | None = None, search: str | None = None) -> None:
    await tab.wait_for_function(DRAWN, arg={"title": title, "search": search}, timeout=step_ms, polling=200)


async def open_page(tab, page: str, step_ms: int) -> float:
    link = tab.locator(f'[data-testid="stSidebarNav"] a[href$="/{"" if page == "overview" else page}"]').first
    title = (await link.inner_text(timeout=step_ms)).strip()
    started = time.perf_counter()
    await link.click(timeout=step_ms)
    await wait_drawn(tab, step_ms, title=title)
    return time.perf_counter() - started


async def pick_segment(tab, step_ms: int) -> float:
    segment = tab.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text=SEGMENT_LABEL)
    await segment.locator("input").click(timeout=step_ms)
    option = tab.get_by_role("option", name=SEGMENT_OPTION)
    await option.wait_for(timeout=step_ms)
    started = time.perf_counter()
    await option.click(timeout=step_ms)
    await wait_drawn(tab, step_ms, search=SEGMENT_IN_LINK)
    await tab.keyboard.press("Escape")
    return time.perf_counter() - started


async def download_first_csv(tab, step_ms: int) -> bool:
    buttons = tab.get_by_role("button", name=re.compile(r"^(Tải CSV|Download CSV)$"))
    if not await buttons.count():
        return False
    async with tab.expect_download(timeout=step_ms) as info:
        await buttons.first.click(timeout=step_ms)
    download = await info.value
    path = await download.path()
    return path is not None and Path(path).stat().st_size > 0


async def log_in(tab, base_url: str, role: str, step_ms: int) -> None:
    await tab.goto(f"{base_url}/?lang=vi", wait_until="domcontentloaded", timeout=step_ms)
    form = tab.locator('[data-testid="stForm"]')
    await form.wait_for(timeout=step_ms)
    await form.locator('input[type="text"]').fill(role)
    await form.locator('input[type="password"]').fill(PASSWORDS[role])
    await form.locator('[data-testid="stFormSubmitButton"] button').click()
    await wait_drawn(tab, step_ms, title=FIRST_PAGE_TITLE)


PAGE_STATE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  return `script ${app && app.getAttribute('data-test-script-state')}, `
    + `stale elements ${document.querySelectorAll('[data-stale="true"]').length}, `
    + `charts ${charts.length} (undrawn ${charts.filter((chart) => !chart.querySelector('.main-svg')).length}), `
    + `at ${location.pathname}${location.search}`;
}"""


async def page_state(tab) -> str:
    """Where a step that failed left the page: what the waits were waiting for."""
    try:
        return await tab.evaluate(PAGE_STATE)
    except Exception as error:
        return f"page state unknown: {type(error).__name__}"


async def walk_every_page(
    tab, name: str, round_number: int, pick_on: int | None, after_during: bool, report: Report, step_ms: int
) -> None:
    """One round: every page through the sidebar; a segment picked on page `pick_on`; a CSV per page
    for the roles that may download lists. A failed step is counted and the round goes on."""
    for index, page in enumerate(PAGES):
        where = f"{name} round {round_number + 1} {page}"
        try:
            report.page_times_s.append(await open_page(tab, page, step_ms))
            if index == pick_on:
                report.filter_times_s.append(await pick_segment(tab, step_ms))
            await check_page(tab, where, report, after_during)
            if not name.endswith("(executive)") and await download_first_csv(tab, step_ms):
                report.downloads += 1
        except Exception as error:  # a timeout or a broken page
            state = await page_state(tab)
            report.errors.append(f"{where}: {type(error).__name__}: {str(error).splitlines()[0][:200]} ({state})")


async def one_session(browser, base_url: str, number: int, args, report: Report, stop: asyncio.Event, during_done):
    """Log in, then walk every page for --rounds rounds; with a --during command, go on until
    one whole round started after the command had finished (so its effect is seen)."""
    role = ROLES[number % len(ROLES)]
    name = f"session {number} ({role})"
    step_ms = int(args.step_seconds * 1000)
    context = await browser.new_context(viewport={"width": 1440, "height": 1600}, locale="vi-VN")
    tab = await context.new_page()
    try:
        await log_in(tab, base_url, role, step_ms)
        round_number, saw_after_during = 0, during_done is None
        while not stop.is_set():
            after_during = during_done is not None and during_done.is_set()
            pick_on = number % len(PAGES) if round_number == 0 else None
            await walk_every_page(tab, name, round_number, pick_on, after_during, report, step_ms)
            round_number += 1
            report.rounds_done += 1
            saw_after_during = saw_after_during or after_during
            if round_number >= args.rounds and saw_after_during:
                break
    except Exception as error:
        report.errors.append(f"{name} could not log in: {type(error).__name__}: {error}"[:300])
    finally:
        await context.close()


async def run_during(command: str, delay_s: float, report: Report, done: asyncio.Event) -> None:
    """Run `command` once the sessions browse; what the pages showed before it is kept."""
    await asyncio.sleep(delay_s)
    started = time.perf_counter()
    try:
        process = await asyncio.create_subprocess_exec(
            *shlex.split(command), cwd=PROJECT_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await process.communicate()
    finally:
        done.set()
    report.during = {
        "command": command,
        "exit_code": process.returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "last_lines": output.decode(errors="replace").splitlines()[-3:],
        "freshness_before": sorted(set(report.freshness_seen)),
    }
    if process.returncode != 0:
        report.errors.append(f"--during command failed ({process.returncode})")


async def drive(base_url: str, args, report: Report) -> None:
    from playwright.async_api import async_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    stop = asyncio.Event()
    started = time.perf_counter()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, chromium_sandbox=False, headless=True
        )
        guard = asyncio.create_task(watchdog(base_url, report, stop))
        during_done = asyncio.Event() if args.during else None
        during = (
            asyncio.create_task(run_during(args.during, args.during_after, report, during_done))
            if args.during
            else None
        )
        sessions = [
            asyncio.create_task(one_session(browser, base_url, number, args, report, stop, during_done))
            for number in range(args.sessions)
        ]
        _, pending = await asyncio.wait(sessions, timeout=args.max_minutes * 60)
        if pending:
            report.errors.append(f"{len(pending)} session(s) still running after {args.max_minutes} min: stopped")
            stop.set()
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if during:
            await during
        stop.set()
        await guard
        await browser.close()
    report.wall_s = time.perf_counter() - started


def demo_var_dir() -> str:
    folder = tempfile.mkdtemp(prefix="crm-load-")
    seed_demo(Path(folder) / "users.toml", rounds=4)
    return folder


def run_load(args) -> Report:
    """Start a server when no --url is given, drive the sessions, stop what was started."""
    report = Report(sessions=args.sessions)
    process = None
    base_url = args.url
    if base_url is None:
        from tests.e2e.conftest import start_server

        var_dir = demo_var_dir()
        process, base_url = start_server(args.warehouse, var_dir, Path(var_dir) / "streamlit.log")
    require_local(base_url)
    try:
        # Its own thread, so its own event loop: a caller may be inside one already (pytest with
        # Playwright's sync API, whose loop stays running for the whole test session).
        with ThreadPoolExecutor(max_workers=1) as runner:
            runner.submit(asyncio.run, drive(base_url.rstrip("/"), args, report)).result()
        pid = process.pid if process else args.server_pid
        report.server_peak_rss_mb = peak_rss_mb(pid) if pid else None
    finally:
        if process:
            from tests.e2e.conftest import stop_server

            stop_server(process)
    return report


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    root.add_argument("--url", help="a running dashboard on this machine (default: start one)")
    root.add_argument("--server-pid", type=int, help="with --url: the server's pid, to report its peak memory")
    root.add_argument("--warehouse", default=f"duckdb:///{PROJECT_ROOT / 'var' / 'warehouse.duckdb'}")
    root.add_argument("--sessions", type=int, default=20)
    root.add_argument("--rounds", type=int, default=2, help="times each session walks every page")
    root.add_argument("--max-minutes", type=float, default=15, help="stop then, whatever is left")
    root.add_argument("--step-seconds", type=float, default=120, help="a step slower than this is an error")
    root.add_argument("--during", help="a command to run once the sessions browse (e.g. a reload)")
    root.add_argument("--during-after", type=float, default=30, help="seconds before --during starts")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.url:
        require_local(args.url)
    if not 1 <= args.sessions <= 100 or args.rounds < 1 or args.max_minutes > 60:
        raise SystemExit("bounded on purpose: 1-100 sessions, at least one round, at most 60 minutes")
    report = run_load(args)
    summary = report.summary()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"summary": summary, "during": report.during, **asdict(report)}, indent=1))
    for key, value in summary.items():
        print(f"{key:>20}: {value}")
    if report.during:
        print(f"{'during':>20}: {report.during}")
    for error in report.errors[:20]:
        print(f"  error: {error}")
    print(f"JSON: {out}")
    return 1 if report.errors or report.froze else 0


if __name__ == "__main__":
    sys.exit(main())
