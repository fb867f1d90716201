"""Seed or reuse the benchmark warehouses.

DuckDB files live in var/bench/ (git-ignored); PostgreSQL warehouses in their own
databases named crm_bench_<customers>. A warehouse is reused when its
warehouse_meta.source says it was generated with the benchmark's arguments; else it is
generated again (`python -m data_seed generate`, in a subprocess so the generator's
memory never counts as the dashboard's). Marts are refreshed when they are missing or
older than the data (`python -m data_seed refresh`).
"""

import subprocess
import sys
import time
from dataclasses import dataclass

from sqlalchemy import create_engine, select, text

from bench.config import END_MONTH, MONTHS, PG_ADMIN_URL, PROJECT_ROOT, SEED, WAREHOUSE_DIR, source_tag
from data_seed.refresh import marts_current
from queries.tables import warehouse_meta


@dataclass(frozen=True)
class Warehouse:
    backend: str  # duckdb | postgresql
    customers: int
    url: str

    @property
    def label(self) -> str:
        return f"{self.backend} {self.customers:,}"


def url_for(backend: str, customers: int) -> str:
    if backend == "duckdb":
        return f"duckdb:///{WAREHOUSE_DIR / f'duckdb-{customers}.duckdb'}"
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/crm_bench_{customers}"


def read_meta(url: str) -> dict[str, str]:
    """warehouse_meta as a dict; empty when the warehouse does not exist or holds nothing."""
    if url.startswith("duckdb:"):
        if not (WAREHOUSE_DIR / url.rsplit("/", 1)[1]).exists():
            return {}
        engine = create_engine(url, connect_args={"read_only": True})
    else:
        if not _pg_database_exists(url.rsplit("/", 1)[1]):
            return {}
        engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {key: value for key, value in connection.execute(select(warehouse_meta))}
    except Exception:  # a half-made or foreign database: generate it again
        return {}
    finally:
        engine.dispose()


def _pg_database_exists(name: str) -> bool:
    admin = create_engine(PG_ADMIN_URL)
    try:
        with admin.connect() as connection:
            found = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            return found.first() is not None
    finally:
        admin.dispose()


def _create_pg_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))  # name built above from an int
    finally:
        admin.dispose()


def _run(arguments: list[str], log) -> None:
    started = time.perf_counter()
    log(f"$ python {' '.join(arguments)}")
    subprocess.run([sys.executable, *arguments], cwd=PROJECT_ROOT, check=True)
    log(f"  done in {time.perf_counter() - started:.0f} s")


def ensure(backend: str, customers: int, log=print, *, refresh: bool = True) -> Warehouse:
    """The warehouse for (backend, customers), generated if missing or different, with
    current marts when `refresh` (the refresh step is incremental: a no-op when current)."""
    url = url_for(backend, customers)
    meta = read_meta(url)
    if meta.get("source") != source_tag(customers):
        WAREHOUSE_DIR.mkdir(parents=True, exist_ok=True)
        if backend == "postgresql" and not _pg_database_exists(url.rsplit("/", 1)[1]):
            _create_pg_database(url.rsplit("/", 1)[1])
        log(f"Generating the {backend} warehouse with {customers:,} customers (cached for later runs)")
        _run(
            [
                "-m",
                "data_seed",
                "generate",
                "--customers",
                str(customers),
                "--months",
                str(MONTHS),
                "--seed",
                str(SEED),
                "--end-month",
                f"{END_MONTH:%Y-%m}",
                "--url",
                url,
            ],
            log,
        )
    elif refresh and not marts_current(url):
        _run(["-m", "data_seed", "refresh", "--url", url], log)
    return Warehouse(backend, customers, url)
