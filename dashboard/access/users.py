"""The users file (var/users.toml) and the command that manages it.

Format (TOML, one ``[[users]]`` table per account; see docs/access.md)::

    [[users]]
    username = "manager"                 # login name: a-z 0-9 . _ -, 2 to 32 characters
    name = "Trần Thị Quản Lý"            # display name
    email = "manager@example.vn"         # used to match single sign-on identities
    role = "regional_manager"            # executive, analyst, regional_manager, viewer, admin
    provinces = ["01", "31"]             # province codes; required for regional_manager only
    password_hash = "$2b$12$…"           # bcrypt; the plain password is never stored.
                                         # Empty or absent: single sign-on only, no password login

Commands::

    python -m dashboard.access.users add USERNAME --role ROLE [--provinces 01,79] [--email E] [--name N] [--sso-only]
    python -m dashboard.access.users reset-password USERNAME
    python -m dashboard.access.users remove USERNAME
    python -m dashboard.access.users list
    python -m dashboard.access.users seed-demo

Passwords are read with getpass (typed twice), or from standard input with
``--password-stdin`` for scripts. ``--file PATH`` works on another users file.
Every error is one clear line on stderr and exit code 2; the file is then unchanged.
"""

import argparse
import getpass
import json
import re
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import bcrypt

from dashboard.access import audit
from dashboard.access.roles import ROLES, valid_province_codes
from dashboard.access.state_files import atomic_write_text, locked, users_file

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 refuses longer input instead of truncating it
BCRYPT_ROUNDS = 12  # ~0.3 s per check here: slow for guessing, fine for one login

# One account per role with a known password, for the demo (`make run`). Never in production.
DEMO_USERS: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    # username, display name, role, provinces, password
    ("executive", "Nguyễn Văn Lãnh Đạo", "executive", (), "executive-demo"),
    ("analyst", "Lê Thị Phân Tích", "analyst", (), "analyst-demo"),
    ("manager", "Trần Văn Quản Lý", "regional_manager", ("01", "31"), "manager-demo"),
    ("viewer", "Phạm Thị Xem", "viewer", (), "viewer-demo"),
    ("admin", "Hoàng Văn Quản Trị", "admin", (), "admin-demo"),
)


# A well-formed hash no password matches, for accounts without one (single sign-on only).
_NO_HASH = "$2b$04$" + "." * 53


class UserError(ValueError):
    """A bad request about users: the message is shown to the person as is."""


@dataclass(frozen=True)
class User:
    """A logged-in identity. Holds no secret, so it may sit in st.session_state."""

    username: str
    name: str
    email: str
    role: str
    provinces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Account:
    """A users-file entry: the identity and its password hash."""

    user: User
    password_hash: str = ""


def normalise_username(username: str) -> str:
    return username.strip().lower()


def hash_password(password: str, rounds: int | None = None) -> str:
    """A bcrypt hash of the password (cost BCRYPT_ROUNDS unless given; tests use 4)."""
    check_password_policy(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds or BCRYPT_ROUNDS)).decode("ascii")


def password_matches(password: str, password_hash: str) -> bool:
    """bcrypt.checkpw compares in constant time; over-long input is a plain mismatch."""
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        # Spend the same time as a real check so length does not show in timing.
        bcrypt.checkpw(encoded[:MAX_PASSWORD_BYTES], password_hash.encode("ascii"))
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))


def hash_rounds(password_hash: str) -> int:
    """The cost factor of a bcrypt hash ("$2b$12$…" → 12)."""
    try:
        return int(password_hash.split("$")[2])
    except (IndexError, ValueError):
        return BCRYPT_ROUNDS


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise UserError(f"password too long: at most {MAX_PASSWORD_BYTES} bytes (UTF-8)")


def parse_provinces(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """'01, 79' or ['01', '79'] → ('01', '79'): sorted, deduplicated, not yet validated."""
    if text is None:
        return ()
    parts = re.split(r"[,;\s]+", text) if isinstance(text, str) else [str(part) for part in text]
    return tuple(sorted({part.strip() for part in parts if part.strip()}))


def validate_user(user: User) -> User:
    """Return the user if it is well formed, else raise UserError saying what is wrong."""
    if not USERNAME_PATTERN.match(user.username):
        raise UserError(
            f"invalid username {user.username!r}: use 2 to 32 characters a-z 0-9 . _ - starting with a letter or digit"
        )
    if user.email and not EMAIL_PATTERN.match(user.email):
        raise UserError(f"invalid e-mail address {user.email!r}")
    validate_access(user.role, user.provinces)
    return user


def validate_access(role: str, provinces: Sequence[str]) -> None:
    """The role exists and the provinces fit it (also used for single sign-on claims)."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}")
    unknown = [code for code in provinces if code not in valid_province_codes()]
    if unknown:
        raise UserError(
            f"unknown province code(s) {', '.join(unknown)}: use the 2-digit codes of the 34 provinces "
            "(queries/reference_data/provinces_2025.csv), e.g. 01 for Hà Nội, 79 for Hồ Chí Minh"
        )
    if role == "regional_manager" and not provinces:
        raise UserError("a regional_manager needs --provinces (e.g. --provinces 01,31)")
    if role != "regional_manager" and provinces:
        raise UserError(f"role {role} sees every province: --provinces is only for regional_manager")


# --- the file ---------------------------------------------------------------------


def load_accounts(path: Path | None = None) -> dict[str, Account]:
    """All accounts by username. A missing file means no users; a malformed one is an error."""
    path = path or users_file()
    if not path.exists():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path}: not valid TOML ({error})") from None
    accounts: dict[str, Account] = {}
    for number, entry in enumerate(document.get("users", []), start=1):
        try:
            user = User(
                username=normalise_username(str(entry["username"])),
                name=str(entry.get("name", "")),
                email=str(entry.get("email", "")).strip().lower(),
                role=str(entry["role"]),
                provinces=parse_provinces(entry.get("provinces", [])),
            )
            password_hash = str(entry.get("password_hash", ""))
        except KeyError as missing:
            raise UserError(f"{path}: user #{number} has no {missing.args[0]}") from None
        try:
            validate_user(user)
        except UserError as error:
            raise UserError(f"{path}: user #{number}: {error}") from None
        if user.username in accounts:
            raise UserError(f"{path}: user {user.username!r} appears twice")
        accounts[user.username] = Account(user, password_hash)
    return accounts


def _toml_string(value: str) -> str:
    # JSON string escapes (\" \\ \n \t \uXXXX) are all valid in a TOML basic string.
    return json.dumps(value, ensure_ascii=False)


def render_accounts(accounts: dict[str, Account]) -> str:
    lines = [
        "# Users of the CRM dashboard. Manage with `python -m dashboard.access.users` (format: docs/access.md).",
        "# Passwords are bcrypt hashes; the plain password is never stored.",
    ]
    for username in sorted(accounts):
        account = accounts[username]
        user = account.user
        provinces = ", ".join(_toml_string(code) for code in user.provinces)
        lines += [
            "",
            "[[users]]",
            f"username = {_toml_string(user.username)}",
            f"name = {_toml_string(user.name)}",
            f"email = {_toml_string(user.email)}",
            f"role = {_toml_string(user.role)}",
            f"provinces = [{provinces}]",
            f"password_hash = {_toml_string(account.password_hash)}",
        ]
    return "\n".join(lines) + "\n"


def save_accounts(accounts: dict[str, Account], path: Path | None = None) -> None:
    atomic_write_text(path or users_file(), render_accounts(accounts))


def find_account(username: str, path: Path | None = None) -> Account | None:
    return load_accounts(path).get(normalise_username(username))


def find_by_email(email: str, path: Path | None = None) -> User | None:
    wanted = email.strip().lower()
    if not wanted:
        return None
    for account in load_accounts(path).values():
        if account.user.email == wanted:
            return account.user
    return None


# --- changes (used by the CLI and, later, by an admin page) -------------------------


def add_user(user: User, password: str | None, path: Path | None = None, rounds: int | None = None) -> User:
    """Add a user. password=None makes a single-sign-on-only account (no password login)."""
    path = path or users_file()
    user = validate_user(replace(user, username=normalise_username(user.username), email=user.email.strip().lower()))
    if password is None and not user.email:
        raise UserError("a user without a password logs in by single sign-on and needs --email")
    password_hash = hash_password(password, rounds) if password is not None else ""
    with locked(path):
        accounts = load_accounts(path)
        if user.username in accounts:
            raise UserError(f"user {user.username!r} already exists (use reset-password to change the password)")
        if user.email and any(account.user.email == user.email for account in accounts.values()):
            raise UserError(f"e-mail {user.email!r} already belongs to another user")
        accounts[user.username] = Account(user, password_hash)
        save_accounts(accounts, path)
    return user


def reset_password(username: str, password: str, path: Path | None = None, rounds: int | None = None) -> None:
    path = path or users_file()
    username = normalise_username(username)
    password_hash = hash_password(password, rounds)
    with locked(path):
        accounts = load_accounts(path)
        if username not in accounts:
            raise UserError(f"no user {username!r}")
        accounts[username] = replace(accounts[username], password_hash=password_hash)
        save_accounts(accounts, path)


def remove_user(username: str, path: Path | None = None) -> None:
    path = path or users_file()
    username = normalise_username(username)
    with locked(path):
        accounts = load_accounts(path)
        if username not in accounts:
            raise UserError(f"no user {username!r}")
        del accounts[username]
        save_accounts(accounts, path)


def seed_demo(path: Path | None = None, rounds: int | None = None) -> list[tuple[User, str, str]]:
    """Add the demo users that are missing; never touch existing ones.

    Returns (user, demo password, state) per demo account; state is "added",
    "unchanged" (the stored hash still accepts the demo password) or "changed".
    """
    path = path or users_file()
    report = []
    with locked(path):
        accounts = load_accounts(path)
        for username, name, role, provinces, password in DEMO_USERS:
            if username in accounts:
                matches = password_matches(password, accounts[username].password_hash or _NO_HASH)
                report.append((accounts[username].user, password, "unchanged" if matches else "changed"))
            else:
                user = validate_user(User(username, name, f"{username}@demo.crm.vn", role, provinces))
                accounts[username] = Account(user, hash_password(password, rounds))
                report.append((user, password, "added"))
        if any(state == "added" for _, _, state in report):
            save_accounts(accounts, path)
    return report


# --- command line ------------------------------------------------------------------


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UserError("no password on standard input")
        return password
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise UserError("the two passwords differ")
    return first


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard.access.users", description="Manage dashboard users.")
    parser.add_argument("--file", type=Path, default=None, help="users file (default var/users.toml)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, help=f"one of: {', '.join(ROLES)}")
    add.add_argument("--provinces", default="", help="comma-separated province codes (regional_manager)")
    add.add_argument("--email", default="")
    add.add_argument("--name", default="")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--sso-only", action="store_true", help="no password: single sign-on only (needs --email)")
    reset = commands.add_parser("reset-password", help="set a new password")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    remove = commands.add_parser("remove", help="remove a user")
    remove.add_argument("username")
    commands.add_parser("list", help="list users (never passwords)")
    commands.add_parser("seed-demo", help="add one demo user per role if missing and print the credentials")
    return parser


def _list_line(account: Account) -> str:
    user = account.user
    provinces = ",".join(user.provinces) or "all"
    login = "password" if account.password_hash else "sso-only"
    return f"{user.username:<20} {user.role:<17} {provinces:<12} {login:<9} {user.email:<30} {user.name}"


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    path = arguments.file or users_file()
    try:
        if arguments.command == "add":
            user = User(
                username=arguments.username,
                name=arguments.name or arguments.username,
                email=arguments.email,
                role=arguments.role,
                provinces=parse_provinces(arguments.provinces),
            )
            # Validate before asking for the password, so a typo costs no typing.
            validate_user(replace(user, username=normalise_username(user.username)))
            if find_account(user.username, path) is not None:
                raise UserError(f"user {normalise_username(user.username)!r} already exists (use reset-password)")
            password = None if arguments.sso_only else _read_password(arguments.password_stdin)
            user = add_user(user, password, path)
            audit.record("user_added", _actor(), detail={"username": user.username, "role": user.role})
            print(f"added {user.username} ({user.role}) to {path}")
        elif arguments.command == "reset-password":
            if find_account(arguments.username, path) is None:
                raise UserError(f"no user {normalise_username(arguments.username)!r}")
            reset_password(arguments.username, _read_password(arguments.password_stdin), path)
            audit.record("password_reset", _actor(), detail={"username": normalise_username(arguments.username)})
            print(f"password of {normalise_username(arguments.username)} changed")
        elif arguments.command == "remove":
            remove_user(arguments.username, path)
            audit.record("user_removed", _actor(), detail={"username": normalise_username(arguments.username)})
            print(f"removed {normalise_username(arguments.username)}")
        elif arguments.command == "list":
            accounts = load_accounts(path)
            if not accounts:
                print(f"no users in {path}")
            for account in accounts.values():
                print(_list_line(account))
        elif arguments.command == "seed-demo":
            report = seed_demo(path)
            print(f"Demo users ({path}) — for the demo only, never in production:")
            for user, password, state in report:
                if state == "added":
                    audit.record("user_added", _actor(), detail={"username": user.username, "role": user.role})
                shown = "(password was changed)" if state == "changed" else password
                provinces = f" [{','.join(user.provinces)}]" if user.provinces else ""
                print(f"  {user.role + provinces:<28} user: {user.username:<10} password: {shown}")
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
