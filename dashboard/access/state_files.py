"""Where the app keeps its own small state files, and how it writes them safely.

The users file, the login-failure state and the audit log live in ``var/`` (ignored by
git), not in the warehouse: the warehouse is replaced wholesale by every load, and
these files must survive that. ``CRM_VAR_DIR`` moves the directory (tests point it at
a temporary directory; a deployment may point it at a persistent volume).

Several Streamlit sessions (threads) and processes (the CLI, a second server) may touch
the same file, so writers take an exclusive ``flock`` on a sidecar ``.lock`` file and
replace the file atomically: a reader never sees half a file.
"""

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def var_dir() -> Path:
    configured = os.environ.get("CRM_VAR_DIR")
    return Path(configured) if configured else REPO_ROOT / "var"


def users_file() -> Path:
    return var_dir() / "users.toml"


def login_state_file() -> Path:
    return var_dir() / "login_state.json"


def audit_file() -> Path:
    return var_dir() / "audit.log"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for a read-modify-write of ``path``.

    flock on a separate open file description excludes other threads of this
    process as well as other processes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def atomic_write_text(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``.

    Mode 0600 by default: these files hold password hashes and login history.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
