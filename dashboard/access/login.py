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
and absolute timeouts, and every run re-reads the user's role and provinces, so a
removed or narrowed account takes effect at the next click, not at the next login.
"""

import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime
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
    session_is_valid,
    session_notice,
    settings_from,
    start_session,
    touch,
)
from dashboard.access.lockout import LoginThrottle
from dashboard.access.users import User, UserError, load_accounts
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
    if user is not None:
        if not session_is_valid(session, now, settings.session):
            audit.record("session_expired", user.username, now=now)
            end_session(session, notice="expired")
        else:
            try:
                account = load_accounts(users_path).get(user.username)
            except UserError:
                st.error(t("login_users_file_error", lang))
                return None
            if account is None:  # removed since login: out at once
                end_session(session, notice="expired")
            else:
                touch(session, now, account.user)  # role or provinces may have changed since login
                return account.user
    return _password_form(lang, users_path, throttle, clock, sleep)


def _password_form(
    lang: str,
    users_path: Path | None,
    throttle: LoginThrottle,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
) -> User | None:
    session = st.session_state
    st.subheader(t("login_title", lang))
    if session_notice(session) == "expired":
        st.info(t("login_expired", lang))
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
        start_session(session, result.user, clock())
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
    end_session(st.session_state)
    if sso_configured():
        st.logout()
    else:
        st.rerun()
