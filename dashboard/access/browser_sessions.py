"""Logins that outlive a page load: the sessions a browser's cookie names.

Every page load (a reload, a new tab, a shared link opened in the same browser) is a new
Streamlit session. So that it does not ask for the password again, a password login also
creates a *browser session* here, and the browser keeps its id in a cookie
(dashboard/access/session_cookie.py sets it: HttpOnly, SameSite=Strict). The cookie holds
``<id>.<signature>``: an HMAC of the id with a secret of this server, so a made-up or edited
cookie is refused before anything is looked up; the id itself is 256 random bits.

What the cookie may do is decided here, at every run, never by the cookie alone:
- the idle (30 min) and absolute (8 h) limits count for the browser session as a whole
  (every tab's activity keeps it alive; its start is the login's);
- logging out deletes it, which ends it in every tab of that browser at their next click;
- a password reset, a removed account or a narrowed scope (another role, or provinces
  taken away) ends every browser session of that user at their next click, because each
  one keeps a stamp of the credentials it was opened with.

The cookie reaches the browser by a one-time claim: the login's run gets a short-lived code
that the page hands to the cookie route, which answers with the cookie. The code is single
use and expires in two minutes, so it is worth nothing once used or seen late.

Kept in var/browser_sessions.json (0600, written atomically under a lock, like the
other state files): a restarted server keeps its users logged in.
"""

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from dashboard.access.roles import scope_for
from dashboard.access.state_files import atomic_write_text, locked, var_dir
from dashboard.access.users import Account, User

COOKIE_NAME = "crm_session"
SECRET_ENV = "CRM_SESSION_SECRET"  # set it to share cookies between servers behind one name
CLAIM_SECONDS = 120
TOUCH_EVERY = timedelta(seconds=60)  # activity is written at most this often per session


def sessions_file() -> Path:
    return var_dir() / "browser_sessions.json"


def secret_file() -> Path:
    return var_dir() / "session_secret"


def server_secret() -> bytes:
    """CRM_SESSION_SECRET, else a random secret made once and kept in var/ (0600)."""
    configured = os.environ.get(SECRET_ENV, "").strip()
    if configured:
        return configured.encode()
    path = secret_file()
    with locked(path):
        if not path.exists():
            atomic_write_text(path, secrets.token_hex(32))
        return path.read_text(encoding="utf-8").strip().encode()


def credential_stamp(account: Account) -> str:
    """Changes when the password does (a fingerprint of the hash, not the hash)."""
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:32]


def scope_narrowed(before: User, after: User) -> bool:
    """Another role, or provinces taken away (more provinces is not narrower)."""
    if before.role != after.role:
        return True
    old, new = scope_for(before).provinces, scope_for(after).provinces
    if new is None:
        return False
    return old is None or not new >= old


@dataclass(frozen=True)
class BrowserSession:
    session_id: str
    username: str
    started_at: datetime
    ends_at: datetime  # the absolute limit at login: the cookie expires then
    last_seen_at: datetime
    stamp: str
    role: str
    provinces: tuple[str, ...]
    claimed: bool

    def within_limits(self, now: datetime, idle: timedelta, absolute: timedelta) -> bool:
        return now - self.last_seen_at < idle and now - self.started_at < absolute

    def opened_as(self) -> User:
        """The role and provinces the session was opened with (for scope_narrowed)."""
        return User(self.username, "", "", self.role, self.provinces)


class BrowserSessions:
    """The sessions file. Every method reads it afresh: other sessions and processes write it."""

    def __init__(self, path: Path | None = None, secret: bytes | None = None) -> None:
        self.path = path or sessions_file()
        self._secret = secret

    # --- the cookie's value -----------------------------------------------------------

    def _signature(self, session_id: str) -> str:
        secret = self._secret if self._secret is not None else server_secret()
        return hmac.new(secret, session_id.encode(), hashlib.sha256).hexdigest()

    def cookie_value(self, session_id: str) -> str:
        return f"{session_id}.{self._signature(session_id)}"

    def session_id_from(self, cookie: str | None) -> str | None:
        """The id a well-signed cookie names; None for a missing, malformed or forged one."""
        if not isinstance(cookie, str) or not cookie or len(cookie) > 200:
            return None
        session_id, _, signature = cookie.partition(".")
        if not session_id or not hmac.compare_digest(signature, self._signature(session_id)):
            return None
        return session_id

    # --- life cycle -------------------------------------------------------------------

    def open(self, account: Account, now: datetime, lasts: timedelta) -> tuple[str, str]:
        """A new session for a password login, ending at the latest after `lasts` (the
        absolute limit): (session id, one-time claim code)."""
        session_id, code = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        user = account.user
        with self._editing() as state:
            state["sessions"][session_id] = {
                "username": user.username,
                "started_at": now.isoformat(),
                "ends_at": (now + lasts).isoformat(),
                "last_seen_at": now.isoformat(),
                "stamp": credential_stamp(account),
                "role": user.role,
                "provinces": list(user.provinces),
                "claimed": False,
            }
            expires = now + timedelta(seconds=CLAIM_SECONDS)
            state["claims"][code] = {"session_id": session_id, "expires": expires.isoformat()}
        return session_id, code

    def claim(self, code: str, now: datetime) -> BrowserSession | None:
        """The session a claim code opens, once; None for an unknown, used or late code."""
        with self._editing() as state:
            claim = state["claims"].pop(code, None)
            if claim is None or datetime.fromisoformat(claim["expires"]) <= now:
                return None
            entry = state["sessions"].get(claim["session_id"])
            if entry is None:
                return None
            entry["claimed"] = True
            return _session(claim["session_id"], entry)

    def get(self, session_id: str) -> BrowserSession | None:
        entry = self._read()["sessions"].get(session_id)
        return None if entry is None else _session(session_id, entry)

    def touch(self, session: BrowserSession, now: datetime, user: User | None = None) -> None:
        """Record activity (at most once a TOUCH_EVERY), and a widened scope when there is one."""
        widened = user is not None and (user.provinces != session.provinces)
        if now - session.last_seen_at < TOUCH_EVERY and not widened:
            return
        with self._editing() as state:
            entry = state["sessions"].get(session.session_id)
            if entry is None:
                return
            entry["last_seen_at"] = max(now, datetime.fromisoformat(entry["last_seen_at"])).isoformat()
            if user is not None:
                entry["provinces"] = list(user.provinces)

    def end(self, session_id: str) -> None:
        with self._editing() as state:
            state["sessions"].pop(session_id, None)

    def end_all_of(self, username: str) -> int:
        """End every session of `username` (password reset, account removed): how many."""
        with self._editing() as state:
            ended = [sid for sid, entry in state["sessions"].items() if entry["username"] == username]
            for session_id in ended:
                del state["sessions"][session_id]
        return len(ended)

    # --- the file ---------------------------------------------------------------------

    def _read(self) -> dict:
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # missing, or damaged by hand: no one stays logged in
            return {"sessions": {}, "claims": {}}
        if not isinstance(state, dict):
            return {"sessions": {}, "claims": {}}
        return {"sessions": dict(state.get("sessions") or {}), "claims": dict(state.get("claims") or {})}

    @contextmanager
    def _editing(self) -> Iterator[dict]:
        """Read, change, prune and write the file under its lock (nothing written on an error)."""
        with locked(self.path):
            state = self._read()
            yield state
            atomic_write_text(self.path, json.dumps(_pruned(state), indent=1))


def _session(session_id: str, entry: dict) -> BrowserSession:
    return BrowserSession(
        session_id=session_id,
        username=entry["username"],
        started_at=datetime.fromisoformat(entry["started_at"]),
        ends_at=datetime.fromisoformat(entry["ends_at"]),
        last_seen_at=datetime.fromisoformat(entry["last_seen_at"]),
        stamp=entry["stamp"],
        role=entry["role"],
        provinces=tuple(entry.get("provinces") or ()),
        claimed=bool(entry.get("claimed")),
    )


# Sessions untouched for longer than any idle limit is kept: they are dead either way.
FORGET_AFTER = timedelta(days=2)


def _pruned(state: dict) -> dict:
    """Drop sessions nobody can resume and claims past their time (the file stays small)."""
    latest = [datetime.fromisoformat(entry["last_seen_at"]) for entry in state["sessions"].values()]
    latest += [datetime.fromisoformat(claim["expires"]) for claim in state["claims"].values()]
    if not latest:
        return state
    now = max(latest)
    sessions = {
        sid: entry
        for sid, entry in state["sessions"].items()
        if now - datetime.fromisoformat(entry["last_seen_at"]) < FORGET_AFTER
    }
    claims = {
        code: claim
        for code, claim in state["claims"].items()
        if datetime.fromisoformat(claim["expires"]) > now - timedelta(seconds=CLAIM_SECONDS)
        and claim["session_id"] in sessions
    }
    return {"sessions": sessions, "claims": claims}
