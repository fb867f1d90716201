"""The users file and `python -m dashboard.access.users`: add, reset-password, remove, list, seed-demo."""

import io
import os
import subprocess
import sys
import tomllib

import pytest

from dashboard.access import audit, users
from dashboard.access.state_files import REPO_ROOT
from dashboard.access.users import User, UserError, load_accounts, main, password_matches


@pytest.fixture(autouse=True)
def private_var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)  # fast hashes; the cost is not what is tested here
    return tmp_path


@pytest.fixture()
def users_path(private_var_dir):
    return private_var_dir / "users.toml"


def run(argv, monkeypatch, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def test_add_stores_a_bcrypt_hash_never_the_password(users_path, monkeypatch, capsys):
    code = run(
        [
            "add",
            "Manager.HN",
            "--role",
            "regional_manager",
            "--provinces",
            "79, 01",
            "--email",
            "QL@Example.vn",
            "--name",
            "Trần Văn Quản Lý",
            "--password-stdin",
        ],
        monkeypatch,
        "s3cret-Passw0rd\n",
    )
    assert code == 0, capsys.readouterr().err
    text = users_path.read_text(encoding="utf-8")
    assert "s3cret-Passw0rd" not in text
    entry = tomllib.loads(text)["users"][0]
    assert entry["username"] == "manager.hn"
    assert entry["email"] == "ql@example.vn"
    assert entry["provinces"] == ["01", "79"]
    assert entry["password_hash"].startswith("$2b$")
    assert password_matches("s3cret-Passw0rd", entry["password_hash"])
    assert not password_matches("s3cret-passw0rd", entry["password_hash"])
    assert users_path.stat().st_mode & 0o077 == 0
    assert audit.read_events()[-1]["event"] == "user_added"


def test_password_typed_twice_with_getpass(users_path, monkeypatch):
    answers = iter(["long-enough-1", "long-enough-1"])
    monkeypatch.setattr(users.getpass, "getpass", lambda prompt="": next(answers))
    assert run(["add", "viewer1", "--role", "viewer"], monkeypatch) == 0
    assert password_matches("long-enough-1", load_accounts(users_path)["viewer1"].password_hash)


def test_getpass_mismatch_is_refused(users_path, monkeypatch, capsys):
    answers = iter(["long-enough-1", "long-enough-2"])
    monkeypatch.setattr(users.getpass, "getpass", lambda prompt="": next(answers))
    assert run(["add", "viewer1", "--role", "viewer"], monkeypatch) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    assert not users_path.exists()


@pytest.fixture()
def existing(users_path, monkeypatch):
    assert (
        run(
            ["add", "boss", "--role", "executive", "--email", "boss@example.vn", "--password-stdin"],
            monkeypatch,
            "boss-password\n",
        )
        == 0
    )
    return users_path.read_bytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "someone", "--role", "boss"], "unknown role 'boss'"),
        (["add", "someone", "--role", "regional_manager", "--provinces", "01,99"], "unknown province code(s) 99"),
        (["add", "someone", "--role", "regional_manager", "--provinces", "1"], "unknown province code(s) 1"),
        (["add", "someone", "--role", "regional_manager"], "a regional_manager needs --provinces"),
        (["add", "someone", "--role", "executive", "--provinces", "01"], "--provinces is only for regional_manager"),
        (["add", "BOSS", "--role", "viewer"], "user 'boss' already exists"),
        (["add", "x", "--role", "viewer"], "invalid username 'x'"),
        (["add", "bad name", "--role", "viewer"], "invalid username 'bad name'"),
        (["add", "someone", "--role", "viewer", "--email", "not-an-email"], "invalid e-mail address"),
        (["add", "someone", "--role", "viewer", "--email", "BOSS@example.vn"], "already belongs to another user"),
        (["add", "someone", "--role", "viewer", "--sso-only"], "needs --email"),
        (["reset-password", "nobody"], "no user 'nobody'"),
        (["remove", "nobody"], "no user 'nobody'"),
    ],
)
def test_bad_requests_give_a_clear_message_exit_2_and_leave_the_file_unchanged(
    argv, message, existing, users_path, monkeypatch, capsys
):
    code = run([*argv, "--password-stdin"] if argv[0] != "remove" else argv, monkeypatch, "another-password\n")
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1  # one line, no traceback
    assert users_path.read_bytes() == existing


@pytest.mark.parametrize(("password", "message"), [("short", "password too short"), ("é" * 40, "password too long")])
def test_password_policy(password, message, existing, users_path, monkeypatch, capsys):
    assert run(["add", "someone", "--role", "viewer", "--password-stdin"], monkeypatch, password + "\n") == 2
    assert message in capsys.readouterr().err
    assert users_path.read_bytes() == existing


def test_reset_password_replaces_the_hash(existing, users_path, monkeypatch):
    before = load_accounts(users_path)["boss"].password_hash
    assert run(["reset-password", "boss", "--password-stdin"], monkeypatch, "brand-new-password\n") == 0
    after = load_accounts(users_path)["boss"].password_hash
    assert after != before
    assert password_matches("brand-new-password", after)
    assert not password_matches("boss-password", after)
    assert "brand-new-password" not in users_path.read_text(encoding="utf-8")
    assert audit.read_events()[-1]["event"] == "password_reset"


def test_list_shows_users_and_never_hashes(existing, users_path, monkeypatch, capsys):
    assert (
        run(
            ["add", "hn", "--role", "regional_manager", "--provinces", "01", "--email", "hn@example.vn", "--sso-only"],
            monkeypatch,
        )
        == 0
    )
    capsys.readouterr()
    assert run(["list"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "boss" in out and "executive" in out and "password" in out
    assert "hn" in out and "regional_manager" in out and "01" in out and "sso-only" in out
    assert "$2b$" not in out


def test_remove(existing, users_path, monkeypatch):
    assert run(["remove", "boss"], monkeypatch) == 0
    assert load_accounts(users_path) == {}


def test_seed_demo_creates_one_user_per_role_once(users_path, monkeypatch, capsys):
    users.add_user(User("someone", "S", "s@example.vn", "viewer"), "someone-password", users_path)
    assert run(["seed-demo"], monkeypatch) == 0
    out = capsys.readouterr().out
    accounts = load_accounts(users_path)
    demo = {username: accounts[username].user for username, *_ in users.DEMO_USERS}
    assert sorted(user.role for user in demo.values()) == sorted(users.ROLES)
    assert demo["manager"].provinces == ("01", "31")
    assert "someone" in accounts  # existing users untouched
    for username, _, _, _, password in users.DEMO_USERS:
        assert f"user: {username}" in out and f"password: {password}" in out
        assert password_matches(password, accounts[username].password_hash)

    first = users_path.read_bytes()
    assert run(["seed-demo"], monkeypatch) == 0
    assert users_path.read_bytes() == first  # nothing missing, nothing written

    users.reset_password("viewer", "changed-by-owner", users_path)
    capsys.readouterr()
    assert run(["seed-demo"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "viewer-demo" not in out and "(password was changed)" in out
    assert password_matches("changed-by-owner", load_accounts(users_path)["viewer"].password_hash)


def test_names_with_quotes_and_backslashes_survive_the_file(users_path):
    odd = 'Công ty "Sao Mai" \\ Chi nhánh\tHà Nội'
    users.add_user(User("odd", odd, "", "viewer"), "odd-password", users_path)
    assert load_accounts(users_path)["odd"].user.name == odd


def test_malformed_file_is_a_clear_error(users_path):
    users_path.write_text(
        '[[users]]\nusername = "a1"\nrole = "executive"\n[[users]]\nusername = "a1"\nrole = "viewer"\n'
    )
    with pytest.raises(UserError, match="appears twice"):
        load_accounts(users_path)
    users_path.write_text('[[users]]\nusername = "a1"\nrole = "regional_manager"\nprovinces = ["01", "64"]\n')
    with pytest.raises(UserError, match="unknown province code"):
        load_accounts(users_path)
    users_path.write_text("[[users]\n")
    with pytest.raises(UserError, match="not valid TOML"):
        load_accounts(users_path)


def test_module_runs_as_a_command(private_var_dir):
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.access.users", "add", "someone", "--role", "boss", "--password-stdin"],
        input="whatever-password\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "CRM_VAR_DIR": str(private_var_dir)},
        timeout=60,
    )
    assert result.returncode == 2
    assert "error: unknown role 'boss'" in result.stderr
    assert not (private_var_dir / "users.toml").exists()
