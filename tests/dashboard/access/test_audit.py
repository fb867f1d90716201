"""The append-only audit log."""

import json
import threading
from datetime import date, datetime

import pytest

from dashboard.access import audit
from queries.filters import Filters


@pytest.fixture(autouse=True)
def private_var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    return tmp_path


def test_export_line_carries_user_time_event_and_filters(private_var_dir):
    filters = Filters(date(2026, 1, 1), date(2026, 6, 1), provinces=("01", "31"), segments=("enterprise",))
    audit.record(
        "export",
        "manager",
        filters=filters,
        description="Hà Nội, Hải Phòng · Doanh nghiệp · T1–T6/2026",
        detail={"format": "xlsx", "rows": 120, "table": "debtors"},
        now=datetime(2026, 11, 24, 9, 30, 5),
    )
    lines = (private_var_dir / "audit.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert "Hà Nội" in lines[0]  # readable UTF-8, not \u escapes
    assert json.loads(lines[0]) == {
        "time": "2026-11-24T09:30:05",
        "event": "export",
        "user": "manager",
        "filters": {
            "start_month": "2026-01-01",
            "end_month": "2026-06-01",
            "comparison": "previous",
            "regions": [],
            "provinces": ["01", "31"],
            "segments": ["enterprise"],
            "age_bands": [],
            "plans": [],
            "area_types": [],
        },
        "description": "Hà Nội, Hải Phòng · Doanh nghiệp · T1–T6/2026",
        "detail": {"format": "xlsx", "rows": 120, "table": "debtors"},
    }


def test_lines_are_appended_never_rewritten(private_var_dir):
    audit.record("login", "executive", now=datetime(2026, 11, 24, 8, 0))
    first = (private_var_dir / "audit.log").read_bytes()
    audit.record("pack_download", "executive", detail={"file": "review-2026-10.pdf"}, now=datetime(2026, 11, 24, 8, 5))
    after = (private_var_dir / "audit.log").read_bytes()
    assert after.startswith(first)
    assert [event["event"] for event in audit.read_events()] == ["login", "pack_download"]
    assert audit.read_events(limit=1)[0]["detail"] == {"file": "review-2026-10.pdf"}


def test_default_time_is_vietnam_local_and_naive():
    entry = audit.record("logout", "viewer")
    stamped = datetime.fromisoformat(entry["time"])
    assert stamped.tzinfo is None
    expected = datetime.now(audit.VIETNAM).replace(tzinfo=None)
    assert abs((expected - stamped).total_seconds()) < 5


def test_unknown_event_is_refused_so_typos_cannot_hide_events():
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.record("exprot", "manager")


def test_typed_username_cannot_forge_lines_or_grow_without_bound():
    audit.record("login_failed", 'evil\n{"event": "login", "user": "admin"}' + "x" * 500)
    events = audit.read_events()
    assert len(events) == 1
    assert events[0]["event"] == "login_failed"
    assert len(events[0]["user"]) == audit.MAX_USER_CHARS


def test_concurrent_writers_never_interleave(private_var_dir):
    def write(number: int) -> None:
        for index in range(50):
            audit.record("export", f"user{number}", detail={"index": index, "padding": "y" * 2000})

    threads = [threading.Thread(target=write, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = audit.read_events()  # every line parses as JSON
    assert len(events) == 200
    assert {event["user"] for event in events} == {"user0", "user1", "user2", "user3"}


def test_log_is_private_to_the_owner(private_var_dir):
    audit.record("login", "admin")
    assert (private_var_dir / "audit.log").stat().st_mode & 0o077 == 0
