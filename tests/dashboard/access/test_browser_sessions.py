"""The sessions a browser's cookie names (dashboard/access/browser_sessions.py): signed ids,
one-time claims, ending one or all of a user's, activity, and what is narrower."""

from datetime import datetime, timedelta

import pytest

from dashboard.access.browser_sessions import BrowserSessions, credential_stamp, scope_narrowed
from dashboard.access.users import Account, User

NOW = datetime(2026, 12, 4, 9, 0)
EIGHT_HOURS = timedelta(hours=8)
BOSS = Account(User("boss", "Sếp", "boss@x.vn", "executive"), "$2b$04$hash-of-boss")
HN = Account(User("hn", "Hà", "hn@x.vn", "regional_manager", ("01", "31")), "$2b$04$hash-of-hn")


@pytest.fixture()
def store(tmp_path):
    return BrowserSessions(tmp_path / "browser_sessions.json", secret=b"test-secret")


def test_a_cookie_names_its_session_and_a_forged_one_names_nothing(store, tmp_path):
    session_id, _ = store.open(BOSS, NOW, EIGHT_HOURS)
    cookie = store.cookie_value(session_id)
    assert store.session_id_from(cookie) == session_id
    signature = cookie.partition(".")[2]
    for forged in (
        f"{session_id}.{signature[::-1]}",
        f"{session_id}x.{signature}",
        session_id,
        f".{signature}",
        "",
        None,
        42,
        "a" * 500,
    ):
        assert store.session_id_from(forged) is None, forged
    other_server = BrowserSessions(tmp_path / "browser_sessions.json", secret=b"another-secret")
    assert other_server.session_id_from(cookie) is None


def test_a_claim_code_works_once_and_only_in_time(store):
    session_id, code = store.open(BOSS, NOW, EIGHT_HOURS)
    assert not store.get(session_id).claimed
    claimed = store.claim(code, NOW + timedelta(seconds=5))
    assert claimed.session_id == session_id and claimed.ends_at == NOW + EIGHT_HOURS
    assert store.get(session_id).claimed
    assert store.claim(code, NOW + timedelta(seconds=6)) is None  # used
    _, late = store.open(BOSS, NOW, EIGHT_HOURS)
    assert store.claim(late, NOW + timedelta(seconds=121)) is None  # too late
    assert store.claim("made-up", NOW) is None


def test_ending_one_session_or_all_of_a_users(store):
    first, _ = store.open(BOSS, NOW, EIGHT_HOURS)
    second, _ = store.open(BOSS, NOW, EIGHT_HOURS)
    other, _ = store.open(HN, NOW, EIGHT_HOURS)
    store.end(first)
    assert store.get(first) is None and store.get(second) is not None
    assert store.end_all_of("boss") == 1
    assert store.get(second) is None and store.get(other) is not None


def test_activity_is_written_at_most_once_a_minute_and_limits_count_from_it(store):
    session_id, _ = store.open(BOSS, NOW, EIGHT_HOURS)
    store.touch(store.get(session_id), NOW + timedelta(seconds=30))
    assert store.get(session_id).last_seen_at == NOW
    store.touch(store.get(session_id), NOW + timedelta(minutes=5))
    session = store.get(session_id)
    assert session.last_seen_at == NOW + timedelta(minutes=5)
    idle, absolute = timedelta(minutes=30), EIGHT_HOURS
    assert session.within_limits(NOW + timedelta(minutes=34), idle, absolute)
    assert not session.within_limits(NOW + timedelta(minutes=35), idle, absolute)
    assert not session.within_limits(NOW + EIGHT_HOURS, timedelta(days=1), absolute)


def test_a_damaged_file_logs_nobody_in_and_is_written_afresh(store):
    store.path.write_text("{not json", encoding="utf-8")
    assert store.get("anything") is None
    session_id, _ = store.open(BOSS, NOW, EIGHT_HOURS)
    assert store.get(session_id).username == "boss"
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"


def test_sessions_nobody_can_resume_are_forgotten(store):
    old, _ = store.open(BOSS, NOW, EIGHT_HOURS)
    fresh, _ = store.open(HN, NOW + timedelta(days=3), EIGHT_HOURS)
    assert store.get(old) is None and store.get(fresh) is not None


def test_the_stamp_changes_with_the_password_only():
    assert credential_stamp(BOSS) == credential_stamp(Account(BOSS.user, BOSS.password_hash))
    assert credential_stamp(BOSS) != credential_stamp(Account(BOSS.user, "$2b$04$another"))
    assert BOSS.password_hash not in credential_stamp(BOSS)


@pytest.mark.parametrize(
    ("before", "after", "narrower"),
    [
        (("01", "31"), ("01", "31", "79"), False),
        (("01", "31"), ("31", "01"), False),
        (("01", "31"), ("01",), True),
        (("01", "31"), ("01", "79"), True),
        (("01",), (), True),  # a manager with no provinces sees nothing
    ],
)
def test_what_is_a_narrower_scope(before, after, narrower):
    manager = HN.user
    old = User(manager.username, "", "", "regional_manager", before)
    assert scope_narrowed(old, User(manager.username, "", "", "regional_manager", after)) is narrower


def test_another_role_is_narrower_whatever_it_sees():
    assert scope_narrowed(BOSS.user, User("boss", "", "", "analyst"))
    assert scope_narrowed(User("boss", "", "", "regional_manager", ("01",)), BOSS.user)
    assert not scope_narrowed(BOSS.user, BOSS.user)
