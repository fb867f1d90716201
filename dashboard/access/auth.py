"""Who is logged in: password verification with lockout, single sign-on identities, and
session expiry. No Streamlit here (the form is in dashboard/access/login.py), so all of it is
unit-testable with an injected clock and sleep.

Sessions are plain mappings (st.session_state is one): everything about the login
sits under the single key ``SESSION_KEY``.
"""

import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import bcrypt

from dashboard.access import audit
from dashboard.access.lockout import LockoutPolicy, LoginThrottle
from dashboard.access.users import (
    BCRYPT_ROUNDS,
    User,
    UserError,
    find_by_email,
    hash_rounds,
    load_accounts,
    normalise_username,
    parse_provinces,
    password_matches,
    validate_access,
)

SESSION_KEY = "auth"
OK, INVALID, LOCKED = "ok", "invalid", "locked"
ROLE_CLAIM = "crm_role"
PROVINCES_CLAIM = "crm_provinces"


@dataclass(frozen=True)
class SessionPolicy:
    idle_minutes: int = 30  # no interaction for this long ends the session
    absolute_hours: int = 8  # a session never lasts longer than this (a working day)


@dataclass(frozen=True)
class AuthSettings:
    lockout: LockoutPolicy = LockoutPolicy()
    session: SessionPolicy = SessionPolicy()
    role_claim: str = ROLE_CLAIM
    provinces_claim: str = PROVINCES_CLAIM
    sso_provider: str | None = None  # a named [auth.NAME] provider; None: the [auth] section itself


def settings_from(section: Mapping[str, Any] | None) -> AuthSettings:
    """Settings from the optional [crm_auth] section of .streamlit/secrets.toml."""
    section = section or {}
    defaults_lockout, defaults_session = LockoutPolicy(), SessionPolicy()
    return AuthSettings(
        lockout=LockoutPolicy(
            delay_after=int(section.get("delay_after_failures", defaults_lockout.delay_after)),
            lock_after=int(section.get("lock_after_failures", defaults_lockout.lock_after)),
            lock_minutes=int(section.get("lock_minutes", defaults_lockout.lock_minutes)),
        ),
        session=SessionPolicy(
            idle_minutes=int(section.get("idle_minutes", defaults_session.idle_minutes)),
            absolute_hours=int(section.get("absolute_hours", defaults_session.absolute_hours)),
        ),
        role_claim=str(section.get("role_claim", ROLE_CLAIM)),
        provinces_claim=str(section.get("provinces_claim", PROVINCES_CLAIM)),
        sso_provider=section.get("sso_provider") or None,
    )


# --- password login ------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    status: str  # OK, INVALID (wrong or unknown: never said which) or LOCKED
    user: User | None = None
    locked_until: datetime | None = None


# Checked for unknown usernames so they cost what a real check costs. The cost-12 hash is
# precomputed: hashing it on first use would make the first unknown name slower (a tell).
_DUMMY_HASH_12 = "$2b$12$opCbSGiuKTf8pfQ/931U6OQ3DwEOtv/YM9UOvBU/0ZSNP7WLQ1LgO"


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    if rounds == 12:
        return _DUMMY_HASH_12
    return bcrypt.hashpw(b"no such user, same work", bcrypt.gensalt(rounds)).decode("ascii")


def authenticate(
    username: str,
    password: str,
    *,
    users_path: Path | None = None,
    throttle: LoginThrottle | None = None,
    clock: Callable[[], datetime] = audit.vietnam_now,
    sleep: Callable[[float], None] = time.sleep,
) -> LoginResult:
    """Check a username and password, honouring and updating the lockout state.

    Unknown usernames take the same path and the same time as wrong passwords (a
    bcrypt check against a dummy hash of the same cost), and are throttled alike.
    Raises UserError if the users file is malformed.
    """
    throttle = throttle or LoginThrottle()
    key = normalise_username(username)
    attempt = throttle.begin_attempt(key, clock())
    if attempt.locked_until is not None:
        audit.record("login_failed", key, detail={"reason": "locked"}, now=clock())
        return LoginResult(LOCKED, locked_until=attempt.locked_until)
    if attempt.delay_s > 0:
        sleep(attempt.delay_s)
    accounts = load_accounts(users_path)
    account = accounts.get(key)
    if account is not None and account.password_hash:
        ok = password_matches(password, account.password_hash)
    else:
        some_hash = next((a.password_hash for a in accounts.values() if a.password_hash), "")
        password_matches(password, _dummy_hash(hash_rounds(some_hash) if some_hash else BCRYPT_ROUNDS))
        ok = False
    if ok:
        throttle.record_success(key)
        audit.record("login", key, detail={"method": "password"}, now=clock())
        return LoginResult(OK, user=account.user)
    audit.record("login_failed", key, detail={"reason": "invalid", "failures": attempt.failures}, now=clock())
    if attempt.lock_if_failed is not None:
        audit.record("lockout", key, detail={"until": attempt.lock_if_failed.isoformat()}, now=clock())
        return LoginResult(LOCKED, locked_until=attempt.lock_if_failed)
    return LoginResult(INVALID)


# --- single sign-on --------------------------------------------------------------------


def _single_role(value: Any) -> str | None:
    if isinstance(value, (list, tuple)):
        # A list is fine if it names exactly one role; two roles are ambiguous: refuse.
        return _single_role(value[0]) if len(value) == 1 else None
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def identity_from_oidc(
    user_info: Mapping[str, Any],
    *,
    users_path: Path | None = None,
    role_claim: str = ROLE_CLAIM,
    provinces_claim: str = PROVINCES_CLAIM,
) -> User | None:
    """The dashboard user for an OIDC identity (st.user), or None to refuse access.

    1. A role claim in the ID token wins (roles managed in the identity provider);
       provinces come from the provinces claim (a list or "01,31"). A claim that names
       an unknown role or province refuses access rather than guessing.
    2. Else the e-mail is looked up in the users file (only if the provider did not
       mark it unverified).
    3. Else None.
    """
    email = str(user_info.get("email") or "").strip().lower()
    name = str(user_info.get("name") or email)
    if role_claim in user_info:
        role = _single_role(user_info.get(role_claim))
        provinces = parse_provinces(user_info.get(provinces_claim))
        if role is None:
            return None
        try:
            validate_access(role, provinces)
        except UserError:
            return None
        username = email or str(user_info.get("sub") or "")
        return User(username=username, name=name, email=email, role=role, provinces=provinces) if username else None
    if not email or user_info.get("email_verified") is False:
        return None
    return find_by_email(email, users_path)


# --- sessions ----------------------------------------------------------------------------


def start_session(
    session: MutableMapping,
    user: User,
    now: datetime,
    method: str = "password",
    *,
    started_at: datetime | None = None,
    **details: Any,
) -> None:
    """Log `user` in. `started_at`: when the login happened, if earlier (a session resumed
    from the browser's cookie keeps its absolute limit); `details`: what else the gate keeps
    about the login (dashboard/access/login.py)."""
    entry = {"user": user, "method": method, "started_at": started_at or now, "last_seen_at": now}
    session[SESSION_KEY] = {**details, **entry}


def session_entry(session: Mapping) -> Mapping:
    """Everything kept about the login (empty when nobody is logged in)."""
    entry = session.get(SESSION_KEY)
    return entry if isinstance(entry, Mapping) else {}


def current_user(session: Mapping) -> User | None:
    """The user stored in the session, without checking expiry."""
    entry = session.get(SESSION_KEY)
    return entry.get("user") if isinstance(entry, Mapping) else None


def session_is_valid(session: Mapping, now: datetime, policy: SessionPolicy | None = None) -> bool:
    policy = policy or SessionPolicy()
    entry = session.get(SESSION_KEY)
    if not isinstance(entry, Mapping) or entry.get("user") is None:
        return False
    idle = now - entry["last_seen_at"]
    age = now - entry["started_at"]
    return idle < timedelta(minutes=policy.idle_minutes) and age < timedelta(hours=policy.absolute_hours)


def touch(session: MutableMapping, now: datetime, user: User | None = None) -> None:
    """Record activity (the idle timeout counts from here), optionally with the user's
    current role and provinces re-read from their source."""
    entry = session.get(SESSION_KEY)
    if isinstance(entry, MutableMapping) and entry.get("user") is not None:
        entry["last_seen_at"] = now
        if user is not None:
            entry["user"] = user


def end_session(session: MutableMapping, notice: str | None = None) -> None:
    """Forget the user; keep a notice ("expired", …) for the next login form."""
    session[SESSION_KEY] = {"user": None, "notice": notice}


def session_notice(session: Mapping) -> str | None:
    entry = session.get(SESSION_KEY)
    return entry.get("notice") if isinstance(entry, Mapping) else None
