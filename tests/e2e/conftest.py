"""Real-browser fixtures: the app on a free port, Debian Chromium driven by playwright.

Never `playwright install` (it downloads a browser). Chromium comes from Debian
(`apt-get install -y chromium`; .ci/run installs it). Locally the suite skips with
the reason when Chromium is missing; on CI (CI=true) it fails instead.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import ON_CI

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_ROOT / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
STARTUP_SECONDS = 60


def require_chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path:
        return path
    reason = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    if ON_CI:
        pytest.fail(f"{reason}; CI=true: the browser tests must run")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit not healthy after {STARTUP_SECONDS} s:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return require_chromium()


@pytest.fixture(scope="session")
def e2e_var_dir(tmp_path_factory) -> Path:
    """The server's var/ directory (CRM_VAR_DIR): the five demo users, a fresh login state
    and audit log. Tests log in through the real form with DEMO_PASSWORDS."""
    from dashboard.access.users import seed_demo

    var_dir = tmp_path_factory.mktemp("var")
    seed_demo(var_dir / "users.toml", rounds=4)
    return var_dir


def start_server(warehouse_url: str, var_dir: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    """`python -m streamlit run dashboard/server.py` on a free local port against `warehouse_url`, with
    its users and state in `var_dir`; returns once it answers its health check (the e2e
    tests and the benchmark's browser run both start the dashboard this way)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WAREHOUSE_URL": warehouse_url, "CRM_VAR_DIR": var_dir}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "dashboard" / "server.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(base_url, process, log_path)
    except BaseException:
        stop_server(process)
        raise
    return process, base_url


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def app_url(chromium_path, duck_url, tmp_path_factory, e2e_var_dir) -> str:
    """`python -m streamlit run dashboard/server.py` on a free port against a copy of the small seeded warehouse.

    A copy, because the server process keeps its DuckDB file locked for as long as it runs:
    on the shared file, every later test in this process that opens it would fail."""
    server_dir = tmp_path_factory.mktemp("streamlit")
    warehouse_copy = server_dir / "warehouse.duckdb"
    shutil.copyfile(duck_url.removeprefix("duckdb:///"), warehouse_copy)
    process, base_url = start_server(f"duckdb:///{warehouse_copy}", str(e2e_var_dir), server_dir / "streamlit.log")
    try:
        yield base_url
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, chromium_sandbox=False, headless=True
        )
        yield launched
        launched.close()


class RequestLog:
    """Every request and websocket the page opens, to prove nothing leaves the machine."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def record(self, url: str) -> None:
        self.urls.append(url)

    def foreign(self) -> list[str]:
        outside = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                outside.append(url)
        return outside


@pytest.fixture()
def page(browser):
    """A fresh browser context per test (no shared cookies or session), with its requests logged."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 2000}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    tab = context.new_page()
    requests = RequestLog()
    tab.on("request", lambda request: requests.record(request.url))
    tab.on("websocket", lambda socket_: requests.record(socket_.url))
    tab.requests = requests
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


# --- logging in through the real form (issue 4) ------------------------------------------
# Every page load is a new Streamlit session, and a new session starts at the login form.

DEMO_PASSWORDS = {"executive": "executive-demo", "analyst": "analyst-demo", "manager": "manager-demo",
                  "viewer": "viewer-demo", "admin": "admin-demo"}  # fmt: skip
LOGIN_MS = 60_000


def log_in(page, username: str = "executive", password: str | None = None) -> None:
    """Fill in and submit the login form of the page that is open (it must show the form),
    then wait until the frame is drawn (the freshness stamp appears in the sidebar)."""
    import re

    form = page.locator('[data-testid="stForm"]')
    form.wait_for(timeout=LOGIN_MS)
    form.locator('input[type="text"]').fill(username)
    form.locator('input[type="password"]').fill(password or DEMO_PASSWORDS[username])
    form.locator('[data-testid="stFormSubmitButton"] button').click()
    page.get_by_text(re.compile(r"^(Dữ liệu đến hết|Data through) \d\d/\d\d/\d{4}( · .+)?$")).wait_for(timeout=LOGIN_MS)


def open_as(page, url: str, username: str = "executive") -> None:
    """Open `url` in the tab and log in as `username` (a demo user)."""
    page.goto(url, wait_until="domcontentloaded")
    log_in(page, username)
