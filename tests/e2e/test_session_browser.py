"""Staying logged in, and sections that rerun alone, in a real browser.

The session cookie: a reload and a new tab keep the login; the cookie is HttpOnly and
SameSite=Strict; another browser is not logged in by it; a tampered, expired or revoked
cookie shows the login form; logging out ends the session in every tab; a password reset
ends the user's open sessions at their next click, a click inside a section included.

Sections: a section's own control reruns that section only — what the server sends for it
holds the section and nothing of the rest of the page (the KPI cards), and the sidebar's
filters and the link stay as they were.
"""

import json
import re
from datetime import timedelta

import pytest

from dashboard.access.audit import vietnam_now
from dashboard.access.browser_sessions import COOKIE_NAME
from dashboard.access.users import User, add_user, reset_password
from tests.e2e.conftest import LOGIN_MS, log_in, open_as
from tests.e2e.test_browser import wait_until_drawn

pytestmark = pytest.mark.e2e

FRESHNESS = re.compile(r"^(Dữ liệu đến hết|Data through) \d\d/\d\d/\d{4}( · .+)?$")
CARD_LABEL = "Khách hàng đang hoạt động"  # the first KPI card of Customers


def logged_in(page) -> bool:
    """The frame is drawn (freshness stamp) and no login form is shown."""
    page.get_by_text(FRESHNESS).or_(page.locator('[data-testid="stForm"]')).first.wait_for(timeout=LOGIN_MS)
    return page.locator('[data-testid="stForm"]').count() == 0


def session_cookie(context) -> dict:
    (cookie,) = [cookie for cookie in context.cookies() if cookie["name"] == COOKIE_NAME]
    return cookie


def wait_for_cookie(context, page) -> dict:
    for _ in range(50):
        if any(cookie["name"] == COOKIE_NAME for cookie in context.cookies()):
            return session_cookie(context)
        page.wait_for_timeout(100)
    raise AssertionError("the login left no session cookie")


def sessions_file(e2e_var_dir) -> dict:
    return json.loads((e2e_var_dir / "browser_sessions.json").read_text(encoding="utf-8"))


def test_a_reload_and_a_new_tab_keep_the_login(page, app_url):
    open_as(page, f"{app_url}/customers?lang=vi")
    cookie = wait_for_cookie(page.context, page)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert page.evaluate("() => document.cookie").find(COOKIE_NAME) == -1  # no script reads it
    page.reload(wait_until="domcontentloaded")
    assert logged_in(page)
    wait_until_drawn(page, "customers")
    assert page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text() == "Khách hàng"
    shared = page.context.new_page()  # a link opened in the same browser
    shared.goto(f"{app_url}/debt?lang=vi&segment=enterprise", wait_until="domcontentloaded")
    assert logged_in(shared)
    assert "segment=enterprise" in shared.url


def test_another_browser_is_not_logged_in_by_it(page, app_url, browser):
    open_as(page, f"{app_url}/?lang=vi")
    wait_for_cookie(page.context, page)
    other = browser.new_context()
    try:
        tab = other.new_page()
        tab.goto(f"{app_url}/?lang=vi", wait_until="domcontentloaded")
        assert not logged_in(tab)
    finally:
        other.close()


def test_a_tampered_cookie_shows_the_login_form_and_is_cleared(page, app_url):
    open_as(page, f"{app_url}/?lang=vi")
    cookie = wait_for_cookie(page.context, page)
    session_id, _, signature = cookie["value"].partition(".")
    forged = {**cookie, "value": f"{session_id}.{signature[::-1]}"}
    page.context.clear_cookies()
    page.context.add_cookies([forged])
    page.reload(wait_until="domcontentloaded")
    assert not logged_in(page)
    for _ in range(50):  # the form's page asks the server to drop the cookie
        if not any(c["name"] == COOKIE_NAME for c in page.context.cookies()):
            break
        page.wait_for_timeout(100)
    assert not any(c["name"] == COOKIE_NAME for c in page.context.cookies())
    log_in(page)  # and the form works


def test_an_idle_session_expires_for_a_reload_too(page, app_url, e2e_var_dir):
    open_as(page, f"{app_url}/?lang=vi")
    cookie = wait_for_cookie(page.context, page)
    session_id = cookie["value"].partition(".")[0]
    state = sessions_file(e2e_var_dir)
    long_ago = (vietnam_now() - timedelta(minutes=31)).isoformat()
    state["sessions"][session_id]["last_seen_at"] = long_ago
    (e2e_var_dir / "browser_sessions.json").write_text(json.dumps(state), encoding="utf-8")
    page.reload(wait_until="domcontentloaded")
    assert not logged_in(page)
    page.get_by_text("Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.").wait_for(timeout=LOGIN_MS)
    assert session_id not in sessions_file(e2e_var_dir)["sessions"]


def test_logging_out_ends_the_session_in_every_tab(page, app_url):
    open_as(page, f"{app_url}/customers?lang=vi")
    wait_for_cookie(page.context, page)
    other = page.context.new_page()
    other.goto(f"{app_url}/customers?lang=vi", wait_until="domcontentloaded")
    assert logged_in(other)
    wait_until_drawn(other, "customers")
    page.get_by_role("button", name="Đăng xuất").click()
    page.locator('[data-testid="stForm"]').wait_for(timeout=LOGIN_MS)
    other.locator(".st-key-customers_mix_by [role='radiogroup'] label").nth(1).click()  # a click inside a section
    other.get_by_text("Phiên làm việc đã kết thúc vì bạn đã đăng xuất.", exact=False).wait_for(timeout=LOGIN_MS)
    assert other.locator('[data-testid="stForm"]').count() == 1
    page.reload(wait_until="domcontentloaded")
    assert not logged_in(page)


def test_a_password_reset_ends_open_sessions_at_the_next_click(page, app_url, e2e_var_dir, browser):
    users_file = e2e_var_dir / "users.toml"
    add_user(User("cookie_test", "Cookie Test", "cookie@demo.crm.vn", "executive"), "first-pass-123", users_file, 4)
    open_as_user = {"username": "cookie_test", "password": "first-pass-123"}
    page.goto(f"{app_url}/customers?lang=vi", wait_until="domcontentloaded")
    log_in(page, **open_as_user)
    wait_for_cookie(page.context, page)
    wait_until_drawn(page, "customers")
    elsewhere = browser.new_context()  # the same user in another browser
    try:
        tab = elsewhere.new_page()
        tab.goto(f"{app_url}/?lang=vi", wait_until="domcontentloaded")
        log_in(tab, **open_as_user)
        reset_password("cookie_test", "second-pass-456", users_file, 4)
        page.locator(".st-key-customers_mix_by [role='radiogroup'] label").nth(1).click()  # a section's rerun
        page.get_by_text("Mật khẩu hoặc quyền truy cập của bạn vừa thay đổi.", exact=False).wait_for(timeout=LOGIN_MS)
        tab.reload(wait_until="domcontentloaded")  # the other browser's cookie is dead too
        assert not logged_in(tab)
        log_in(tab, "cookie_test", "second-pass-456")
    finally:
        elsewhere.close()


class SentText:
    """The text the server sends over the page's websocket (protobuf: its strings are UTF-8)."""

    def __init__(self, page) -> None:
        self.frames: list[bytes] = []
        page.on("websocket", lambda socket: socket.on("framereceived", self._add))

    def _add(self, payload) -> None:
        self.frames.append(payload if isinstance(payload, bytes) else payload.encode())

    def take(self) -> str:
        taken, self.frames = b"".join(self.frames), []
        return taken.decode("utf-8", errors="replace")


def test_a_sections_control_reruns_that_section_only(page, app_url):
    sent = SentText(page)
    open_as(page, f"{app_url}/customers?lang=vi&segment=enterprise")
    wait_until_drawn(page, "customers")
    url, chart_titles = page.url, page.locator(".st-key-customers_mix_chart .gtitle").all_text_contents()
    sent.take()
    page.locator(".st-key-customers_mix_by label").filter(has_text="Miền").click()
    page.locator(".st-key-customers_mix_chart .gtitle").filter(has_text="miền").wait_for(timeout=LOGIN_MS)
    wait_until_drawn(page, "customers")
    page.wait_for_timeout(300)
    text = sent.take()
    assert "miền" in text or json.dumps("miền")[1:-1] in text  # the section was sent again (figure JSON escapes)
    assert CARD_LABEL not in text  # the cards above it were not
    assert page.url == url  # nor the sidebar's filters touched
    assert page.locator(".st-key-customers_mix_chart .gtitle").all_text_contents() != chart_titles
    # A filter change still redraws everything, the section included, for the new filter.
    sent.take()
    page.locator('[data-testid="stSidebar"] button[aria-label="Remove Doanh nghiệp"]').click()
    page.wait_for_url(lambda current: "segment=" not in current, timeout=LOGIN_MS)
    wait_until_drawn(page, "customers")
    page.wait_for_timeout(300)
    assert CARD_LABEL in sent.take()


def test_a_lazy_tab_is_drawn_when_opened(page, app_url):
    open_as(page, f"{app_url}/complaints?lang=vi")
    wait_until_drawn(page, "complaints")
    assert page.locator(".st-key-cx_by_channel").count() == 0  # not drawn while hidden
    page.get_by_role("tab", name=re.compile("kênh", re.IGNORECASE)).click()
    page.locator(".st-key-cx_by_channel .main-svg").first.wait_for(timeout=LOGIN_MS)
    assert page.locator(".st-key-cx_by_category").count() == 0
