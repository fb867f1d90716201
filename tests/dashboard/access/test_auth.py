"""Password login with lockout, single sign-on identities, session expiry, and the login form."""

import subprocess
import sys
import threading
from datetime import datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access import audit, users
from dashboard.access.auth import (
    _DUMMY_HASH_12,
    INVALID,
    LOCKED,
    OK,
    SESSION_KEY,
    LoginResult,
    SessionPolicy,
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
from dashboard.access.lockout import LockoutPolicy, LoginThrottle
from dashboard.access.state_files import REPO_ROOT
from dashboard.access.users import User, hash_rounds

START = datetime(2026, 11, 24, 9, 0, 0)


class Clock:
    """A hand-moved clock: tests decide what time it is."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class Sleeps(list):
    """Records the delays instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def private_var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    users.add_user(User("boss", "Nguyễn Văn Sếp", "boss@example.vn", "executive"), "boss-password")
    users.add_user(User("hn", "Trần Thị Hà", "hn@example.vn", "regional_manager", ("01", "31")), "hanoi-password")
    return tmp_path


@pytest.fixture()
def clock():
    return Clock()


@pytest.fixture()
def sleeps():
    return Sleeps()


def login(username, password, clock, sleeps, throttle=None) -> LoginResult:
    return authenticate(username, password, throttle=throttle, clock=clock, sleep=sleeps)


# --- password login -------------------------------------------------------------------


def test_right_password_logs_in_and_is_audited(clock, sleeps):
    result = login(" HN ", "hanoi-password", clock, sleeps)
    assert result.status == OK
    assert result.user == User("hn", "Trần Thị Hà", "hn@example.vn", "regional_manager", ("01", "31"))
    assert sleeps == []
    last = audit.read_events()[-1]
    assert (last["event"], last["user"], last["time"]) == ("login", "hn", "2026-11-24T09:00:00")


def test_unknown_user_and_wrong_password_look_the_same(clock, sleeps, monkeypatch):
    checked_hashes = []
    real_check = users.bcrypt.checkpw
    monkeypatch.setattr(
        users.bcrypt, "checkpw", lambda pw, hashed: checked_hashes.append(hashed) or real_check(pw, hashed)
    )
    wrong = login("boss", "not-the-password", clock, sleeps)
    unknown = login("nobody", "not-the-password", clock, sleeps)
    assert wrong == unknown == LoginResult(INVALID)
    # The unknown name also pays for one bcrypt check, of the same cost as the real accounts'.
    assert [hash_rounds(hashed.decode()) for hashed in checked_hashes] == [4, 4]
    assert hash_rounds(_DUMMY_HASH_12) == 12 and len(_DUMMY_HASH_12) == 60  # the production-cost decoy
    events = audit.read_events()
    assert [event["event"] for event in events] == ["login_failed", "login_failed"]
    assert events[0]["detail"] == events[1]["detail"] == {"reason": "invalid", "failures": 1}


def test_slowed_after_five_failures_then_locked_after_eight(clock, sleeps, monkeypatch):
    statuses = [login("boss", "wrong-password", clock, sleeps).status for _ in range(8)]
    assert statuses == [INVALID] * 7 + [LOCKED]
    assert sleeps == [1.0, 2.0, 4.0]  # attempts 6, 7 and 8

    checks = []
    monkeypatch.setattr(users.bcrypt, "checkpw", lambda *args: checks.append(1) or True)
    clock.advance(minutes=14, seconds=59)
    locked = login("boss", "boss-password", clock, sleeps)
    assert locked.status == LOCKED and locked.locked_until == START + timedelta(minutes=15)
    assert checks == []  # a locked name is refused without looking at the password
    assert [event["event"] for event in audit.read_events()].count("lockout") == 1


def test_lock_runs_out_after_fifteen_minutes_and_success_resets(clock, sleeps):
    throttle = LoginThrottle()
    for _ in range(8):
        login("boss", "wrong-password", clock, sleeps, throttle)
    clock.advance(minutes=15)
    sleeps.clear()
    assert login("boss", "boss-password", clock, sleeps, throttle).status == OK
    assert sleeps == [1.0]  # just out of a lock, the first try is already slowed
    assert throttle.status("boss") == {}
    assert [login("boss", "wrong-password", clock, sleeps, throttle).status for _ in range(5)] == [INVALID] * 5
    assert sleeps == [1.0]  # counting started again from zero


def test_after_a_lock_three_more_failures_lock_again(clock, sleeps):
    for _ in range(8):
        login("boss", "wrong-password", clock, sleeps)
    clock.advance(minutes=16)
    sleeps.clear()
    statuses = [login("boss", "wrong-password", clock, sleeps).status for _ in range(3)]
    assert statuses == [INVALID, INVALID, LOCKED]
    assert sleeps == [1.0, 2.0, 4.0]


def test_unknown_usernames_are_throttled_exactly_like_real_ones(clock, sleeps):
    real = [login("boss", "wrong-password", clock, sleeps).status for _ in range(9)]
    real_sleeps = list(sleeps)
    sleeps.clear()
    ghost = [login("ghost", "wrong-password", clock, sleeps).status for _ in range(9)]
    assert ghost == real == [INVALID] * 7 + [LOCKED] * 2
    assert sleeps == real_sleeps


def test_other_users_are_not_affected(clock, sleeps):
    for _ in range(8):
        login("boss", "wrong-password", clock, sleeps)
    assert login("hn", "hanoi-password", clock, sleeps).status == OK


def test_failures_are_shared_by_sessions_and_processes(private_var_dir, clock, sleeps):
    for _ in range(3):
        LoginThrottle().begin_attempt("boss", START)  # three "browser tabs", each with its own throttle
    script = (
        "from datetime import datetime\n"
        "from dashboard.access.lockout import LoginThrottle\n"
        "for _ in range(3):\n"
        "    LoginThrottle().begin_attempt('boss', datetime(2026, 11, 24, 9, 0))\n"
    )
    env = {"CRM_VAR_DIR": str(private_var_dir), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, check=True, timeout=60)
    assert LoginThrottle().status("boss")["failures"] == 6
    login("boss", "wrong-password", clock, sleeps)
    assert sleeps == [2.0]  # the 7th failure in a row, wherever the first six came from


def test_concurrent_attempts_are_all_counted(private_var_dir):
    throttle = LoginThrottle(policy=LockoutPolicy(delay_after=1000, lock_after=1000))

    def attempts() -> None:
        for _ in range(10):
            LoginThrottle(policy=throttle.policy).begin_attempt("boss", START)

    threads = [threading.Thread(target=attempts) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert throttle.status("boss")["failures"] == 40


def test_damaged_state_file_does_not_lock_everybody_out(private_var_dir, clock, sleeps):
    (private_var_dir / "login_state.json").write_text("{not json")
    assert login("boss", "boss-password", clock, sleeps).status == OK


def test_old_quiet_entries_are_forgotten(clock, sleeps):
    throttle = LoginThrottle()
    login("ghost", "wrong-password", clock, sleeps, throttle)
    clock.advance(days=2)
    login("boss", "wrong-password", clock, sleeps, throttle)
    assert throttle.status("ghost") == {}
    assert throttle.status("boss")["failures"] == 1


# --- sessions -----------------------------------------------------------------------------

BOSS = User("boss", "Nguyễn Văn Sếp", "boss@example.vn", "executive")


def test_session_idle_timeout():
    session: dict = {}
    assert not session_is_valid(session, START)
    start_session(session, BOSS, START)
    assert current_user(session) == BOSS
    assert session_is_valid(session, START + timedelta(minutes=29, seconds=59))
    touch(session, START + timedelta(minutes=20))
    assert session_is_valid(session, START + timedelta(minutes=49))
    assert not session_is_valid(session, START + timedelta(minutes=50))


def test_session_absolute_timeout_even_when_active():
    session: dict = {}
    start_session(session, BOSS, START)
    now = START
    while now < START + timedelta(hours=7, minutes=50):
        now += timedelta(minutes=10)
        touch(session, now)
    assert session_is_valid(session, START + timedelta(hours=7, minutes=59))
    touch(session, START + timedelta(hours=7, minutes=59))
    assert not session_is_valid(session, START + timedelta(hours=8))


def test_session_policy_is_configurable_and_end_session_forgets_the_user():
    session: dict = {}
    start_session(session, BOSS, START)
    assert not session_is_valid(session, START + timedelta(minutes=5), SessionPolicy(idle_minutes=5))
    end_session(session, notice="expired")
    assert current_user(session) is None and session_notice(session) == "expired"
    assert list(session) == [SESSION_KEY]  # everything about the login under one key


def test_settings_from_secrets_section():
    settings = settings_from({"lock_after_failures": 5, "lock_minutes": 30, "idle_minutes": 10, "role_claim": "roles"})
    assert settings.lockout == LockoutPolicy(delay_after=5, lock_after=5, lock_minutes=30)
    assert settings.session == SessionPolicy(idle_minutes=10, absolute_hours=8)
    assert settings.role_claim == "roles" and settings.provinces_claim == "crm_provinces"
    assert settings_from(None) == settings_from({})


# --- single sign-on ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (
            {"email": "Lan@Corp.vn", "name": "Lan", "crm_role": "regional_manager", "crm_provinces": "79, 01"},
            User("lan@corp.vn", "Lan", "lan@corp.vn", "regional_manager", ("01", "79")),
        ),
        (
            {"email": "an@corp.vn", "name": "An", "crm_role": ["Executive"]},
            User("an@corp.vn", "An", "an@corp.vn", "executive", ()),
        ),
        (  # the claim wins over the users file
            {"email": "boss@example.vn", "name": "Boss", "crm_role": "viewer"},
            User("boss@example.vn", "Boss", "boss@example.vn", "viewer", ()),
        ),
        (  # no claim: the users file by e-mail
            {"email": "HN@example.vn", "email_verified": True},
            User("hn", "Trần Thị Hà", "hn@example.vn", "regional_manager", ("01", "31")),
        ),
    ],
)
def test_identity_from_oidc(info, expected):
    assert identity_from_oidc(info) == expected


@pytest.mark.parametrize(
    "info",
    [
        {"email": "stranger@corp.vn"},  # no claim, not in the users file
        {"email": "hn@example.vn", "email_verified": False},  # an unverified address may be anybody's
        {"email": "x@corp.vn", "crm_role": "superuser"},
        {"email": "x@corp.vn", "crm_role": "regional_manager"},  # no provinces
        {"email": "x@corp.vn", "crm_role": "regional_manager", "crm_provinces": ["01", "99"]},
        {"email": "x@corp.vn", "crm_role": "executive", "crm_provinces": ["01"]},
        {"email": "x@corp.vn", "crm_role": ["executive", "viewer"]},  # ambiguous
        {"email": "x@corp.vn", "crm_role": ""},
        {"crm_role": "executive"},  # nobody to name in the audit log
        {},
    ],
)
def test_identity_from_oidc_refuses(info):
    assert identity_from_oidc(info) is None


def test_identity_claim_names_are_configurable():
    info = {"email": "q@corp.vn", "roles": "analyst"}
    assert identity_from_oidc(info, role_claim="roles").role == "analyst"


# --- the login form (AppTest) -------------------------------------------------------------


def login_page(clock=None):
    import streamlit as st

    from dashboard.access.login import logout_button, require_login

    options = {"sleep": lambda seconds: None}
    if clock is not None:
        options["clock"] = clock
    user = require_login("en", **options)
    if user is None:
        st.stop()
    st.markdown(f"Welcome {user.username} ({user.role}, {','.join(user.provinces) or 'all'})")
    logout_button("en")


def app(clock=None) -> AppTest:
    test = AppTest.from_function(login_page, kwargs={"clock": clock}, default_timeout=30)
    test.secrets = {"crm_auth": {"idle_minutes": 30}}  # hermetic: never the developer's secrets.toml
    return test.run()


def submit(test: AppTest, username: str, password: str) -> AppTest:
    test.text_input(key="login_username").input(username)
    test.text_input(key="login_password").input(password)
    test.button[0].click()
    return test.run()


def test_login_form_logs_in():
    test = app()
    assert [element.value for element in test.subheader] == ["Log in"]
    assert not test.markdown
    submit(test, "hn", "hanoi-password")
    assert not test.exception and not test.error
    assert [element.value for element in test.markdown] == ["Welcome hn (regional_manager, 01,31)"]
    assert test.session_state[SESSION_KEY]["user"].username == "hn"
    assert not test.text_input  # the form is gone
    test.button(key="logout_button").click().run()
    assert not test.markdown and test.text_input(key="login_username")
    assert [event["event"] for event in audit.read_events()] == ["login", "logout"]


def test_login_form_refuses_a_wrong_password_and_an_unknown_user_alike():
    test = submit(app(), "hn", "wrong-password")
    assert [element.value for element in test.error] == ["Wrong username or password."]
    assert not test.markdown
    submit(test, "nobody", "wrong-password")
    assert [element.value for element in test.error] == ["Wrong username or password."]


def test_login_form_tells_a_locked_user_when_to_come_back():
    clock = Clock()
    test = app(clock)
    for _ in range(8):
        submit(test, "hn", "wrong-password")
    assert [element.value for element in test.error] == ["Too many failed attempts. Try again in 15 minutes."]
    clock.advance(minutes=5)
    submit(test, "hn", "hanoi-password")
    assert [element.value for element in test.error] == ["Too many failed attempts. Try again in 10 minutes."]
    assert not test.markdown


def test_login_form_asks_again_after_the_session_expires():
    clock = Clock()
    test = submit(app(clock), "boss", "boss-password")
    assert test.markdown[0].value.startswith("Welcome boss")
    clock.advance(minutes=31)
    test.run()
    assert not test.markdown
    assert [element.value for element in test.info] == ["Your session has expired. Please log in again."]
    assert audit.read_events()[-1]["event"] == "session_expired"


CHANGED_NOTICE = "Your password or your access has changed. Please log in again."


def set_provinces(username: str, provinces: tuple[str, ...]) -> None:
    accounts = users.load_accounts()
    account = accounts[username]
    accounts[username] = users.Account(users.replace(account.user, provinces=provinces), account.password_hash)
    users.save_accounts(accounts)


def test_a_widened_account_takes_effect_at_the_next_click_and_a_narrowed_one_ends_the_session(private_var_dir):
    test = submit(app(), "hn", "hanoi-password")
    set_provinces("hn", ("01", "31", "79"))
    test.run()
    assert [element.value for element in test.markdown] == ["Welcome hn (regional_manager, 01,31,79)"]
    set_provinces("hn", ("01",))  # a province taken away: the session ends, it does not just shrink
    test.run()
    assert not test.markdown
    assert [element.value for element in test.info] == [CHANGED_NOTICE]
    assert audit.read_events()[-1]["event"] == "session_revoked"
    submit(test, "hn", "hanoi-password")
    assert [element.value for element in test.markdown] == ["Welcome hn (regional_manager, 01)"]


def test_a_password_reset_or_a_removal_ends_the_session_at_the_next_click(private_var_dir):
    test = submit(app(), "hn", "hanoi-password")
    users.reset_password("hn", "new-hanoi-password")
    test.run()
    assert not test.markdown and [element.value for element in test.info] == [CHANGED_NOTICE]
    submit(test, "hn", "hanoi-password")
    assert not test.markdown  # the old password is refused
    submit(test, "hn", "new-hanoi-password")
    assert [element.value for element in test.markdown] == ["Welcome hn (regional_manager, 01,31)"]
    users.remove_user("hn")
    test.run()
    assert not test.markdown and [element.value for element in test.info] == [CHANGED_NOTICE]


def test_a_password_login_opens_a_browser_session_and_logging_out_ends_it(private_var_dir):
    from dashboard.access.auth import session_entry
    from dashboard.access.browser_sessions import BrowserSessions

    test = submit(app(), "boss", "boss-password")
    session_id = session_entry(test.session_state)["browser_session"]
    store = BrowserSessions()
    assert store.get(session_id).username == "boss"
    test.button(key="logout_button").click().run()
    assert store.get(session_id) is None


def sso_app(user_info: dict) -> AppTest:
    test = AppTest.from_function(login_page, default_timeout=30)
    test.secrets = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x"}}
    test.user = user_info
    return test.run()


def test_sso_user_with_claims_is_logged_in():
    test = sso_app({"is_logged_in": True, "email": "lan@corp.vn", "name": "Lan", "crm_role": "analyst"})
    assert not test.exception
    assert [element.value for element in test.markdown] == ["Welcome lan@corp.vn (analyst, all)"]
    assert audit.read_events()[-1] | {"time": None} == {
        "time": None,
        "event": "login",
        "user": "lan@corp.vn",
        "filters": None,
        "description": None,
        "detail": {"method": "sso"},
    }


def test_sso_user_without_a_role_is_refused_with_a_message():
    test = sso_app({"is_logged_in": True, "email": "stranger@corp.vn"})
    assert not test.markdown
    assert [element.value for element in test.error] == [
        "The account stranger@corp.vn has no access to the dashboard. Ask an administrator."
    ]
    assert audit.read_events()[-1]["event"] == "sso_refused"


def test_sso_logged_out_sees_the_sign_in_button_not_the_password_form():
    test = sso_app({"is_logged_in": False})
    assert not test.text_input
    assert [button.label for button in test.button] == ["Log in with your company account"]
