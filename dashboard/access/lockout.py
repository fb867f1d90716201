"""Slowing down and locking repeated failed logins, per username, shared by every session.

The state lives in var/login_state.json, not in st.session_state: a new browser tab,
a second server process or a restart must not reset an attacker's count. Unknown
usernames are counted exactly like real ones, so the answers never tell them apart.

Policy (defaults; see docs/access.md): from the 6th consecutive failure each attempt
waits 1 s, 2 s, 4 s … before the password is checked; the 8th failure locks the name
for 15 minutes; a success clears everything. When a lock runs out the count restarts
at the delay threshold, not at zero: the next failures are slowed at once and three
more lock it again, so guessing is held to a few tries per lock period.

Each attempt is counted when it *begins* (and cleared on success). Counting only
after a failure would let many parallel attempts all pass the check before the first
failure was written.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from dashboard.access.state_files import atomic_write_text, locked, login_state_file

MAX_KEY_CHARS = 64
FORGET_AFTER = timedelta(days=1)  # quiet, unlocked entries are dropped after this
MAX_ENTRIES = 10_000  # bound the file even if someone sprays random usernames


@dataclass(frozen=True)
class LockoutPolicy:
    delay_after: int = 5  # failures before attempts start to be slowed down
    lock_after: int = 8  # failures that lock the username
    lock_minutes: int = 15
    base_delay_s: float = 1.0  # doubles with every further failure

    def delay_for(self, failures: int) -> float:
        if failures < self.delay_after:
            return 0.0
        return self.base_delay_s * 2 ** (failures - self.delay_after)


@dataclass(frozen=True)
class Attempt:
    """What the throttle decided about one login attempt, before the password check."""

    locked_until: datetime | None  # set: the name is locked, refuse without checking the password
    delay_s: float  # otherwise wait this long, then check
    failures: int  # failures counted so far, this attempt included
    lock_if_failed: datetime | None  # set: this attempt, if it fails, locked the name until then


def throttle_key(username: str) -> str:
    return username.strip().lower()[:MAX_KEY_CHARS]


class LoginThrottle:
    def __init__(self, path: Path | None = None, policy: LockoutPolicy | None = None) -> None:
        self.path = path or login_state_file()
        self.policy = policy or LockoutPolicy()

    def begin_attempt(self, username: str, now: datetime) -> Attempt:
        """Decide about an attempt and count it as a failure until it succeeds."""
        key = throttle_key(username)
        with locked(self.path):
            state = self._read()
            entry = state.get(key, {"failures": 0, "locked_until": None})
            locked_until = _parse(entry.get("locked_until"))
            if locked_until is not None and locked_until > now:
                return Attempt(locked_until, 0.0, entry["failures"], None)
            failures = entry["failures"]
            if locked_until is not None:  # an expired lock: slowed down from the first try
                failures = self.policy.delay_after
            delay = self.policy.delay_for(failures)
            failures += 1
            locks_now = failures >= self.policy.lock_after
            new_lock = now + timedelta(minutes=self.policy.lock_minutes) if locks_now else None
            state[key] = {
                "failures": failures,
                "locked_until": new_lock.isoformat(timespec="seconds") if new_lock else None,
                "last_attempt": now.isoformat(timespec="seconds"),
            }
            self._write(state, now)
            return Attempt(None, delay, failures, new_lock)

    def record_success(self, username: str) -> None:
        key = throttle_key(username)
        with locked(self.path):
            state = self._read()
            if key in state:
                del state[key]
                self._write(state, None)

    def status(self, username: str) -> dict:
        """The stored entry for a username (empty if none): for tests and an admin view."""
        return dict(self._read().get(throttle_key(username), {}))

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError:
            # A damaged file must not lock everybody out nor crash the login page;
            # atomic writes make this unlikely, and the worst case is a fresh count.
            return {}

    def _write(self, state: dict, now: datetime | None) -> None:
        if now is not None:
            state = _pruned(state, now)
        atomic_write_text(self.path, json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True))


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _pruned(state: dict, now: datetime) -> dict:
    def recent(entry: dict) -> bool:
        last = _parse(entry.get("last_attempt"))
        return last is not None and now - last < FORGET_AFTER

    def still_locked(entry: dict) -> bool:
        locked_until = _parse(entry.get("locked_until"))
        return locked_until is not None and locked_until > now

    kept = {key: entry for key, entry in state.items() if still_locked(entry) or recent(entry)}
    if len(kept) > MAX_ENTRIES:
        # Locks are the last thing to forget: a flood of new names must not free a locked one.
        order = sorted(kept, key=lambda key: (still_locked(kept[key]), kept[key].get("last_attempt") or ""))
        kept = {key: kept[key] for key in order[-MAX_ENTRIES:]}
    return kept
