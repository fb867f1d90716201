"""One place that decides which warehouse we talk to, and how to reach it.

Order: the WAREHOUSE_URL environment variable, else WAREHOUSE_URL in
.streamlit/secrets.toml, else the embedded DuckDB file var/warehouse.duckdb.
"""

import os
import tomllib
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DUCKDB_PATH = PROJECT_ROOT / "var" / "warehouse.duckdb"
SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"
# DuckDB's buffer pool for readers (the dashboard, the benchmark). Its default, 80 % of
# the machine, let one large ad-hoc aggregate (ranking a past year's customer list at
# 10 M customers) take the dashboard process to 2.4 GB; bounded, DuckDB evicts or spills
# to <file>.tmp instead, no slower here (python -m bench), and the process stays < 2 GB.
READER_MEMORY_LIMIT = "1GB"
# A reader gives up connecting to PostgreSQL after this long (libpq waits for the operating
# system otherwise: minutes for a server that silently drops packets), so a page run stays
# within its time bound (dashboard/frame/warehouse.py). A connect_timeout in the URL wins.
READER_CONNECT_TIMEOUT_SECONDS = 10


def normalise_url(url: str) -> str:
    """SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; we ship psycopg2."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare) :]
    return url


def resolve_url(explicit: str | None = None) -> str:
    if explicit:
        return normalise_url(explicit)
    if os.environ.get("WAREHOUSE_URL"):
        return normalise_url(os.environ["WAREHOUSE_URL"])
    if SECRETS_PATH.exists():
        with SECRETS_PATH.open("rb") as handle:
            secrets = tomllib.load(handle)
        if secrets.get("WAREHOUSE_URL"):
            return normalise_url(secrets["WAREHOUSE_URL"])
    return f"duckdb:///{DEFAULT_DUCKDB_PATH}"


def is_duckdb(url: str) -> bool:
    return url.startswith("duckdb:")


def duckdb_path(url: str) -> Path:
    return Path(url.removeprefix("duckdb:///"))


def _duckdb_reader(path: Path) -> Engine:
    """Read-only connections to the DuckDB file as it is now, never to a file it replaced.

    DuckDB shares one database instance per path within a process: while any connection to
    a replaced file was still open (a page mid-query when a load swapped the file in), a new
    connection to the same path got the old instance, and the pool kept serving the old
    figures after the reload. So each version of the file (inode, modification time) gets
    its own named in-memory instance that attaches the file read-only; the connections of
    one version share it (one buffer pool, as before)."""
    try:
        status = path.stat()
        version = f"{status.st_ino}_{status.st_mtime_ns}"
    except OSError:
        version = "missing"  # connecting fails below with DuckDB's own message
    config = {"memory_limit": READER_MEMORY_LIMIT, "temp_directory": f"{path}.tmp"}
    engine = create_engine(f"duckdb:///:memory:reader_{version}", connect_args={"config": config})
    quoted = str(path).replace("'", "''")

    @event.listens_for(engine, "connect")
    def attach_the_file(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"ATTACH IF NOT EXISTS '{quoted}' AS warehouse (READ_ONLY)")
        dbapi_connection.execute("USE warehouse")

    return engine


def make_engine(url: str | None = None, *, read_only: bool = False) -> Engine:
    url = resolve_url(url)
    if is_duckdb(url):
        duckdb_path(url).parent.mkdir(parents=True, exist_ok=True)
        return _duckdb_reader(duckdb_path(url)) if read_only else create_engine(url)
    if read_only and "connect_timeout" not in make_url(url).query:
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": READER_CONNECT_TIMEOUT_SECONDS})
    return create_engine(url, pool_pre_ping=True)
