"""The dashboard's one door to the warehouse: a cached engine and cached query results.

Caching happens here and nowhere else (DESIGN.md §10):
- the engine is a `st.cache_resource`, keyed by the URL and, for DuckDB, by the file's
  identity. The loader replaces the DuckDB file atomically; an open read-only
  connection would keep reading the old file, so a new file means a new engine.
- results are `st.cache_data(ttl)`, keyed by the compiled SQL, its parameters, the
  role scope and the warehouse's data_version, so a reload never serves stale numbers
  and one role never sees another role's cached answer.

Failures to reach the warehouse become WarehouseUnavailable (the frame shows a
localised message); a warehouse without our tables becomes WarehouseEmpty.
"""

import os
import threading
from datetime import timedelta

import duckdb
import polars as pl
import psycopg2
import streamlit as st
from sqlalchemy import Engine, Select, exc, select

from queries.engine import duckdb_path, is_duckdb, make_engine, resolve_url
from queries.filters import Scope
from queries.run import run as run_select
from queries.tables import warehouse_meta

RESULT_TTL = timedelta(minutes=30)
# Errors that mean "cannot reach or open the warehouse", as opposed to a bug in a query,
# which must stay loud (tests and the browser suite look for it).
UNREACHABLE_ERRORS = (exc.OperationalError, exc.InterfaceError, duckdb.OperationalError, psycopg2.OperationalError)
# PostgreSQL has no file to watch: the data version is re-read this often.
VERSION_TTL = timedelta(seconds=60)


class WarehouseUnavailable(Exception):
    """The warehouse cannot be reached (server down, file missing or unreadable)."""


class WarehouseEmpty(Exception):
    """The warehouse answers but holds no loaded data (no warehouse_meta)."""


def _file_identity(url: str) -> tuple:
    """Changes whenever the DuckDB file is replaced; empty for server databases."""
    if not is_duckdb(url):
        return ()
    try:
        status = os.stat(duckdb_path(url))
    except OSError as error:
        raise WarehouseUnavailable(f"{duckdb_path(url)}: {error.strerror}") from error
    return (status.st_ino, status.st_mtime_ns, status.st_size)


def _dispose(engine: Engine) -> None:
    engine.dispose()


@st.cache_resource(show_spinner=False, max_entries=4, on_release=_dispose)
def _engine(url: str, identity: tuple) -> Engine:
    # The dashboard only reads: DuckDB read-only lets the loader and several app processes coexist.
    return make_engine(url, read_only=True)


_identities: dict[str, tuple] = {}  # URL -> file identity of its current engine
_identities_lock = threading.Lock()


def engine() -> tuple[Engine, str]:
    """The engine for the configured warehouse and a key naming it (URL + file identity)."""
    url = resolve_url()
    identity = _file_identity(url)
    with _identities_lock:
        if _identities.get(url, identity) != identity:
            # DuckDB hands a new connection to a path the database instance that is still
            # open there, i.e. the replaced file: close every old connection first.
            _engine.clear()
        _identities[url] = identity
    return _engine(url, identity), f"{url}#{identity}"


def _is_missing_table(error: Exception) -> bool:
    text = str(error).lower()
    return "warehouse_meta" in text and ("does not exist" in text or "not exist" in text or "no such" in text)


@st.cache_data(ttl=VERSION_TTL, show_spinner=False)
def _meta(engine_key: str, _engine: Engine) -> dict[str, str]:
    query = select(warehouse_meta.c.key, warehouse_meta.c.value)
    with _engine.connect() as connection:
        return {key: value for key, value in connection.execute(query)}


def warehouse_meta_values() -> dict[str, str]:
    """warehouse_meta as a dict (data_through, loaded_at, data_version, …)."""
    try:
        current, key = engine()
        meta = _meta(key, current)
    except UNREACHABLE_ERRORS as error:
        raise WarehouseUnavailable(_short(error)) from error
    except (exc.ProgrammingError, duckdb.ProgrammingError) as error:
        if _is_missing_table(error):
            raise WarehouseEmpty(_short(error)) from error
        raise
    if not meta:
        raise WarehouseEmpty("warehouse_meta is empty")
    return meta


def data_version() -> str:
    meta = warehouse_meta_values()
    return meta.get("data_version") or meta.get("loaded_at") or ""


def _short(error: Exception) -> str:
    """First line of a driver error, without the SQL it carried."""
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0][:300] if text.strip() else type(error).__name__


@st.cache_data(ttl=RESULT_TTL, show_spinner=False, max_entries=5000)
def _run_cached(
    sql: str, parameters: str, scope_key: str, version: str, engine_key: str, _select: Select
) -> pl.DataFrame:
    current, _ = engine()
    with current.connect() as connection:
        return run_select(_select, connection)


def run(query: Select, scope: Scope) -> pl.DataFrame:
    """Execute a select for the user's scope, cached until the data changes.

    `scope` must be the one the select was built with: it is part of the cache key so
    two roles never share an answer, even if their selects happened to compile alike.
    """
    version = data_version()
    current, engine_key = engine()
    compiled = query.compile(dialect=current.dialect)
    parameters = repr(sorted(compiled.params.items(), key=lambda item: item[0]))
    try:
        return _run_cached(str(compiled), parameters, repr(scope), version, engine_key, query)
    except UNREACHABLE_ERRORS as error:
        raise WarehouseUnavailable(_short(error)) from error
