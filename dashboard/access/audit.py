"""Append-only audit log: who logged in, failed, was locked out, exported or downloaded what.

One JSON object per line in var/audit.log (``CRM_VAR_DIR`` moves it). A file rather
than a warehouse table because every load replaces the warehouse, and the log must
outlive loads. Each line is written with a single ``write`` on a descriptor opened
with O_APPEND, so lines from concurrent sessions and processes never interleave and
earlier lines are never rewritten. Rotate or ship it with the usual tools (logrotate
with ``copytruncate``, a log collector).

Fields: ``time`` (local Asia/Ho_Chi_Minh, ISO 8601 without offset, like every
timestamp here), ``event``, ``user``, ``filters`` (the Filters value as JSON, or
null), ``description`` (the human description of the filters, or null), ``detail``
(event-specific JSON, or null).
"""

import dataclasses
import json
import os
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard.access.state_files import audit_file

try:
    VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
except ZoneInfoNotFoundError:  # no tz database installed: Vietnam has had no daylight saving since 1975
    VIETNAM = timezone(timedelta(hours=7), "ICT")
MAX_USER_CHARS = 64  # failed logins carry whatever was typed; keep it bounded

EVENTS = (
    "login",
    "login_failed",
    "lockout",
    "logout",
    "session_expired",
    "session_resumed",  # a new page load logged in by the browser's session cookie
    "session_ended",  # logged out in another tab of the same browser
    "session_revoked",  # password reset, account removed or scope narrowed since login
    "sso_refused",
    "export",
    "pack_download",
    "user_added",
    "password_reset",
    "user_removed",
    "targets_changed",
)


def vietnam_now() -> datetime:
    """Current local time in Vietnam, naive (the convention for every timestamp here)."""
    return datetime.now(VIETNAM).replace(tzinfo=None)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(item) for item in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def record(
    event: str,
    user: str,
    *,
    filters: Any = None,
    description: str | None = None,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    path: Path | None = None,
) -> dict[str, Any]:
    """Append one event and return the entry written.

    ``filters`` may be a queries.filters.Filters (dataclass), a mapping or None.
    ``detail`` holds what else matters: export format and row count, file name, reason.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}; add it to audit.EVENTS first")
    entry = {
        "time": (now or vietnam_now()).isoformat(timespec="seconds"),
        "event": event,
        "user": str(user)[:MAX_USER_CHARS],
        "filters": _jsonable(filters),
        "description": description,
        "detail": _jsonable(detail),
    }
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    path = path or audit_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)
    return entry


def read_events(path: Path | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """The logged events, oldest first (the last ``limit`` only, if given)."""
    path = path or audit_file()
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    if limit is not None:
        lines = lines[-limit:] if limit > 0 else []
    return [json.loads(line) for line in lines if line.strip()]
