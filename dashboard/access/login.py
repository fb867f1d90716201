"""The login gate of the frame: a password form, or single sign-on when configured.

    user = require_login(lang)
    if user is None:
        st.stop()
    scope = scope_for(user)

Password mode (the default): users from var/users.toml, lockout from
dashboard/access/lockout.py. SSO mode: when .streamlit/secrets.toml has an [auth] section,
st.login() sends the person to the identity provider and st.user comes back; the
role and provinces come from ID-token claims or from the users file by e-mail
(dashboard.access.auth.identity_from_oidc). In both modes the session expires after the idle
and absolute timeouts, and every run re-reads the user's role and provinces, so a change
takes effect at the next click, not at the next login. In password mode a removed account,
a reset password or a narrowed scope ends the session there; a reload or a new tab is
logged in by the browser's session cookie (dashboard/access/browser_sessions.py).
"""

import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard.access import audit
from dashboard.access.auth import (
    LOCKED,
    OK,
    AuthSettings,
    authenticate,
    current_user,
    end_session,
    identity_from_oidc,
    session_entry,
    session_is_valid,
    session_notice,
    settings_from,
    start_session,
    touch,
)
from dashboard.access.browser_sessions import (
    CLAIM_SECONDS,
    COOKIE_NAME,
    BrowserSession,
    BrowserSessions,
    credential_stamp,
    scope_narrowed,
)
from dashboard.access.lockout import LoginThrottle
from dashboard.access.session_cookie import claim_script, clear_script
from dashboard.access.users import Account, User, UserError, load_accounts
from dashboard.text.strings import t


def _secrets_section(name: str) -> Mapping[str, Any] | None:
    try:
        section = st.secrets.get(name)
    except FileNotFoundError:  # no secrets.toml at all: the embedded default
        return None
    return section if isinstance(section, Mapping) else None


def sso_configured() -> bool:
    return _secrets_section("auth") is not None


def auth_settings() -> AuthSettings:
    return settings_from(_secrets_section("crm_auth"))


def require_login(
    lang: str = "vi",
    *,
    users_path: Path | None = None,
    throttle: LoginThrottle | None = None,
    clock: Callable[[], datetime] = audit.vietnam_now,
    sleep: Callable[[float], None] = time.sleep,
) -> User | None:
    """The logged-in user, or None after rendering the login form (the caller stops).

    The keyword arguments exist for tests (another users file, clock, no real sleep).
    """
    settings = auth_settings()
    if sso_configured():
        return _require_sso(lang, settings, users_path, clock)
    throttle = throttle or LoginThrottle(policy=settings.lockout)
    session = st.session_state
    now = clock()
    user = current_user(session)
    if user is None:
        user = _resumed_from_cookie(settings, users_path, now)
        if user is not None:
            return user
        return _password_form(lang, users_path, throttle, clock, sleep)
    try:
        account = load_accounts(users_path).get(user.username)
    except UserError:
        st.error(t("login_users_file_error", lang))
        return None
    browser = _browser_session(session)
    ended = _why_ended(session, browser, account, now, settings)
    if ended is not None:
        _end(session, user.username, ended, now)
        return _password_form(lang, users_path, throttle, clock, sleep)
    _keep_alive(session, browser, account.user, now)
    _hand_cookie_over(session, browser, now)
    return account.user


# --- why a login ends ------------------------------------------------------------------
# Notices the form shows (and the audit events written) for each way a session ends.
EXPIRED, LOGGED_OUT, CHANGED = "expired", "logged_out", "changed"
ENDED_EVENTS = {EXPIRED: "session_expired", LOGGED_OUT: "session_ended", CHANGED: "session_revoked"}
NOTICES = {EXPIRED: "login_expired", LOGGED_OUT: "login_logged_out", CHANGED: "login_changed"}


def login_details(account: Account) -> dict:
    """What the gate keeps about a password login besides the user: the credentials it was
    opened with, so a password reset or a narrowed scope ends it."""
    return {"stamp": credential_stamp(account), "opened_as": account.user}


def _credentials_changed(stamp: str | None, opened_as: User, account: Account | None) -> bool:
    """The account was removed, its password reset or its scope narrowed since the login."""
    return account is None or stamp != credential_stamp(account) or scope_narrowed(opened_as, account.user)


def _why_ended(
    session, browser: BrowserSession | None, account: Account | None, now: datetime, settings: AuthSettings
) -> str | None:
    """EXPIRED, LOGGED_OUT or CHANGED when the password session may not go on; None when it
    may. `browser`: the browser session this tab's login belongs to, as stored now."""
    entry = session_entry(session)
    if entry.get("browser_session") and browser is None:
        return LOGGED_OUT  # logged out in another tab of this browser (or the session was ended)
    if browser is not None:
        entry["last_seen_at"] = max(entry["last_seen_at"], browser.last_seen_at)  # any tab's activity counts
    if not session_is_valid(session, now, settings.session):
        return EXPIRED
    opened_as = entry.get("opened_as") or (account.user if account else None)
    return CHANGED if _credentials_changed(entry.get("stamp"), opened_as, account) else None


def _end(session, username: str, why: str, now: datetime) -> None:
    audit.record(ENDED_EVENTS[why], username, now=now)
    browser_session = session_entry(session).get("browser_session")
    if why == CHANGED:
        BrowserSessions().end_all_of(username)  # every browser of this user, at their next click
    elif why == EXPIRED and browser_session:
        BrowserSessions().end(browser_session)  # the cookie may not bring it back
    end_session(session, notice=why)


def _browser_session(session) -> BrowserSession | None:
    """The browser session this tab's login belongs to, as stored now (None: none, or ended)."""
    session_id = session_entry(session).get("browser_session")
    return BrowserSessions().get(session_id) if session_id else None


def _keep_alive(session, browser: BrowserSession | None, user: User, now: datetime) -> None:
    """Record the activity (in this tab and for the browser session) and a widened scope."""
    touch(session, now, user)
    if browser is not None:
        BrowserSessions().touch(browser, now, user)


# --- the browser's cookie (dashboard/access/browser_sessions.py) --------------------------


def _resumed_from_cookie(settings: AuthSettings, users_path: Path | None, now: datetime) -> User | None:
    """A new page load in a browser that is logged in: the session its cookie names, when it
    is within its limits and the account is as it was. A cookie that names nothing usable
    is cleared (and an expired one says so on the form)."""
    cookie = st.context.cookies.get(COOKIE_NAME)
    if not isinstance(cookie, str) or not cookie:  # (AppTest has no real cookies)
        return None
    store = BrowserSessions()
    session_id = store.session_id_from(cookie)
    browser = store.get(session_id) if session_id else None
    session = st.session_state
    if browser is None:
        _clear_cookie()
        return None
    try:
        account = load_accounts(users_path).get(browser.username)
    except UserError:
        return None
    policy = settings.session
    idle, absolute = timedelta(minutes=policy.idle_minutes), timedelta(hours=policy.absolute_hours)
    if not browser.within_limits(now, idle, absolute):
        why = EXPIRED
    elif _credentials_changed(browser.stamp, browser.opened_as(), account):
        why = CHANGED
    else:
        why = None
    if why is not None:
        store.end(browser.session_id)
        audit.record(ENDED_EVENTS[why], browser.username, now=now)
        end_session(session, notice=why)
        _clear_cookie()
        return None
    start_session(
        session,
        account.user,
        now,
        started_at=browser.started_at,
        browser_session=browser.session_id,
        stamp=browser.stamp,
        opened_as=browser.opened_as(),
    )
    store.touch(browser, now, account.user)
    audit.record("session_resumed", account.user.username, now=now)
    return account.user


def _clear_cookie() -> None:
    st.html(clear_script(), unsafe_allow_javascript=True)


def _hand_cookie_over(session, browser: BrowserSession | None, now: datetime) -> None:
    """Until the browser has claimed its cookie (or the claim ran out), the page carries the
    claim script. Then it is dropped: a claim code is worth nothing once used."""
    entry = session_entry(session)
    code = entry.get("claim")
    if not code:
        return
    if browser is None or browser.claimed or now - browser.started_at > timedelta(seconds=CLAIM_SECONDS):
        entry.pop("claim", None)
        return
    st.sidebar.html(claim_script(code), unsafe_allow_javascript=True)


def login_still_current(*, users_path: Path | None = None, clock: Callable[[], datetime] = audit.vietnam_now) -> bool:
    """For a section's rerun, which skips the frame's gate: whether the session is still
    within its limits and the account as it was (present, same role and provinces). Records
    the activity when it is; when it is not, the caller runs the whole app, whose gate ends
    the session or takes the account's change in, and says so."""
    session = st.session_state
    user = current_user(session)
    now = clock()
    settings = auth_settings()
    if user is None:
        return False
    if sso_configured():
        if not session_is_valid(session, now, settings.session):
            return False
        touch(session, now)
        return True
    try:
        account = load_accounts(users_path).get(user.username)
    except UserError:
        return False
    browser = _browser_session(session)
    if account is None or account.user != user or _why_ended(session, browser, account, now, settings) is not None:
        return False
    _keep_alive(session, browser, user, now)
    return True


def _password_form(
    lang: str,
    users_path: Path | None,
    throttle: LoginThrottle,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
) -> User | None:
    session = st.session_state
    st.subheader(t("login_title", lang))
    notice = NOTICES.get(session_notice(session) or "")
    if notice:
        st.info(t(notice, lang))
    # clear_on_submit: the browser empties the fields after each try, so a password is
    # never left sitting in the form.
    with st.form("login_form", clear_on_submit=True):
        username = st.text_input(t("login_username", lang), key="login_username")
        password = st.text_input(t("login_password", lang), type="password", key="login_password")
        submitted = st.form_submit_button(t("login_submit", lang))
    if not submitted:
        return None
    if not username.strip() or not password:
        st.warning(t("login_missing", lang))
        return None
    try:
        result = authenticate(username, password, users_path=users_path, throttle=throttle, clock=clock, sleep=sleep)
    except UserError:
        st.error(t("login_users_file_error", lang))
        return None
    if result.status == OK:
        now = clock()
        account = load_accounts(users_path).get(result.user.username) or Account(result.user)
        lasts = timedelta(hours=auth_settings().session.absolute_hours)
        browser_session, claim = BrowserSessions().open(account, now, lasts)
        start_session(session, result.user, now, browser_session=browser_session, claim=claim, **login_details(account))
        st.rerun()
    if result.status == LOCKED:
        minutes = max(1, math.ceil((result.locked_until - clock()).total_seconds() / 60))
        st.error(t("login_locked", lang, minutes=minutes))
    else:
        st.error(t("login_invalid", lang))
    return None


def _require_sso(
    lang: str, settings: AuthSettings, users_path: Path | None, clock: Callable[[], datetime]
) -> User | None:
    session = st.session_state
    now = clock()
    if not st.user.is_logged_in:
        st.subheader(t("login_title", lang))
        if session_notice(session) == "expired":
            st.info(t("login_expired", lang))
        if st.button(t("login_sso", lang), key="login_sso"):
            if settings.sso_provider:
                st.login(settings.sso_provider)
            else:
                st.login()
        return None
    info = st.user.to_dict()
    previous = current_user(session)
    if previous is not None and not session_is_valid(session, now, settings.session):
        audit.record("session_expired", previous.username, now=now)
        end_session(session, notice="expired")
        st.logout()  # clears the identity cookie, else the next run would log straight back in
        return None
    try:
        user = identity_from_oidc(
            info, users_path=users_path, role_claim=settings.role_claim, provinces_claim=settings.provinces_claim
        )
    except UserError:
        st.error(t("login_users_file_error", lang))
        return None
    if user is None:
        email = str(info.get("email") or info.get("sub") or "?")
        if previous is not None or session_notice(session) != "refused":
            audit.record("sso_refused", email, now=now)
            end_session(session, notice="refused")
        st.error(t("login_sso_refused", lang, email=email))
        if st.button(t("logout", lang), key="logout_refused"):
            st.logout()
        return None
    if previous is None:
        start_session(session, user, now, method="sso")
        audit.record("login", user.username, detail={"method": "sso"}, now=now)
    else:
        touch(session, now, user)
    return user


def logout_button(lang: str = "vi") -> None:
    """A log-out button (place it, e.g. in the sidebar). Ends the session and, with SSO,
    the identity cookie too."""
    if not st.button(t("logout", lang), key="logout_button"):
        return
    user = current_user(st.session_state)
    if user is not None:
        audit.record("logout", user.username)
    browser_session = session_entry(st.session_state).get("browser_session")
    if browser_session:
        BrowserSessions().end(browser_session)  # every tab of this browser, at its next click
    end_session(st.session_state)
    if sso_configured():
        st.logout()
    else:
        st.rerun()
