"""The dashboard's one door to the warehouse: a cached engine and cached query results.

Caching happens here and nowhere else (caches are process-wide, so one place keys them all):
- the engine is a `st.cache_resource`, keyed by the URL and, for DuckDB, by the file's
  identity. The loader replaces the DuckDB file atomically; an open read-only
  connection would keep reading the old file, so a new file means a new engine.
- results are `st.cache_data(ttl)`, keyed by the compiled SQL, its parameters, the
  role scope and the warehouse's data_version, so a reload never serves stale numbers
  and one role never sees another role's cached answer.

Failures to reach the warehouse become WarehouseUnavailable (the frame shows a
localised message); a warehouse without our tables becomes WarehouseEmpty.

The frame wraps each of its runs in `page_run()`, which adds three things:
- one data version per run: on a server database it is read afresh at the start of
  every run (one small query), so an outage shows at the next click, not a minute later;
- when the warehouse cannot be reached, the last result of the same query (same SQL,
  parameters and scope) is served instead, and the run's `on_stale` callback is told
  since when those figures are known to be current, so the frame says so prominently.
  A query never answered before still raises WarehouseUnavailable, and outside a page
  run nothing stale is ever served (nobody would show the notice);
- a time bound: every query runs with at most what is left of the run's bound
  (`query_seconds()`, 30 s; the environment variable CRM_QUERY_TIMEOUT_SECONDS
  overrides it). PostgreSQL enforces it (SET LOCAL statement_timeout); on DuckDB a timer
  interrupts the connection, which rolls back and goes back to the pool usable. Past
  the bound the query raises QueryTimeout and the frame asks to narrow the filters or
  try again; what had finished is cached, so trying again continues from there.
"""

import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

import duckdb
import polars as pl
import psycopg2
import psycopg2.errors
import streamlit as st
from sqlalchemy import Connection, Dialect, Engine, Select, exc, select

from dashboard.text.formatting import now_local
from queries.engine import duckdb_path, is_duckdb, make_engine, resolve_url
from queries.filters import Scope
from queries.run import run as run_select
from queries.tables import warehouse_meta

RESULT_TTL = timedelta(minutes=30)
# Errors that mean "cannot reach or open the warehouse", as opposed to a bug in a query,
# which must stay loud (tests and the browser suite look for it).
UNREACHABLE_ERRORS = (exc.OperationalError, exc.InterfaceError, duckdb.OperationalError, psycopg2.OperationalError)
# PostgreSQL has no file to watch: outside a page run the data version is re-read this often.
VERSION_TTL = timedelta(seconds=60)
# The time bound of a page run's queries, together (one constant; see query_seconds()).
QUERY_SECONDS = 30.0
QUERY_SECONDS_ENV = "CRM_QUERY_TIMEOUT_SECONDS"
# Last results kept per process to show while the warehouse is unreachable (small aggregates).
KEPT_RESULTS = 2000


class WarehouseUnavailable(Exception):
    """The warehouse cannot be reached (server down, file missing or unreadable)."""


class WarehouseEmpty(Exception):
    """The warehouse answers but holds no loaded data (no warehouse_meta)."""


class QueryTimeout(Exception):
    """A query, or the page run's queries together, ran past the time bound."""


def query_seconds() -> float:
    """The time bound: QUERY_SECONDS, or CRM_QUERY_TIMEOUT_SECONDS when that is a positive number."""
    text = os.environ.get(QUERY_SECONDS_ENV, "").strip()
    try:
        seconds = float(text) if text else QUERY_SECONDS
    except ValueError:
        return QUERY_SECONDS
    return seconds if math.isfinite(seconds) and seconds > 0 else QUERY_SECONDS


# --- the page run ----------------------------------------------------------------------


@dataclass
class _PageRun:
    deadline: float  # time.monotonic() past which no query may run
    on_stale: Callable[[datetime], None] | None
    meta: dict[str, tuple[dict[str, str], datetime]] = field(default_factory=dict)  # URL -> meta, confirmed at
    unreachable: dict[str, WarehouseUnavailable] = field(default_factory=dict)  # URL -> why, once found so
    stale_since: datetime | None = None


_local = threading.local()  # each session's script runs in its own thread


def _current_run() -> _PageRun | None:
    return getattr(_local, "run", None)


@contextmanager
def page_run(on_stale: Callable[[datetime], None] | None = None) -> Iterator[None]:
    """One run of the frame: a shared time bound, one data version, stale results allowed
    (reported through `on_stale(since)`, called again whenever `since` moves earlier)."""
    previous = _current_run()
    _local.run = _PageRun(deadline=time.monotonic() + query_seconds(), on_stale=on_stale)
    try:
        yield
    finally:
        _local.run = previous


def in_page_run() -> bool:
    """Whether a page run (the frame's, or a section's) is going on in this thread."""
    return _current_run() is not None


def stale_since() -> datetime | None:
    """In a page run: since when the oldest stale result it was served is known current."""
    run = _current_run()
    return None if run is None else run.stale_since


def _seconds_left() -> float:
    run = _current_run()
    if run is None:
        return query_seconds()
    left = run.deadline - time.monotonic()
    if left <= 0:
        raise QueryTimeout(f"the page's {query_seconds():g} s were used up")
    return left


# --- bounded connections -----------------------------------------------------------------


class _Interrupter:
    """Interrupts a DuckDB connection after `seconds`, unless disarmed first. The lock makes
    sure no interrupt can reach the connection once it is disarmed (back in the pool, it
    may be running someone else's query)."""

    def __init__(self, connection, seconds: float) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self._armed = True
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._armed:
                self.fired = True
                self._connection.interrupt()

    def disarm(self) -> None:
        with self._lock:
            self._armed = False
        self._timer.cancel()


def _is_cancelled(error: BaseException) -> bool:
    return isinstance(getattr(error, "orig", None) or error, psycopg2.errors.QueryCanceled)


@contextmanager
def bounded_connection(current: Engine) -> Iterator[Connection]:
    """A connection whose statements stop at the time left (QueryTimeout past it)."""
    seconds = _seconds_left()
    with current.connect() as connection:
        if current.dialect.name == "postgresql":
            # SET LOCAL: for this transaction only; the pool's rollback ends it.
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, math.ceil(seconds * 1000))}")
            try:
                yield connection
            except exc.DBAPIError as error:
                if _is_cancelled(error):
                    raise QueryTimeout(f"stopped after {seconds:.3g} s") from error
                raise
        elif current.dialect.name == "duckdb":
            interrupter = _Interrupter(connection.connection.dbapi_connection, seconds)
            try:
                yield connection
            except Exception as error:
                if interrupter.fired:
                    # Interrupted mid-statement: leaving the block rolls the connection back,
                    # which leaves it usable for the next query.
                    raise QueryTimeout(f"stopped after {seconds:.3g} s") from error
                raise
            finally:
                interrupter.disarm()
        else:
            yield connection


# --- results kept for when the warehouse is unreachable -----------------------------------


class _Kept(NamedTuple):
    frame: pl.DataFrame
    version: str
    loaded_at: datetime


class _LastResults:
    """The last result of every query (URL, SQL, parameters, scope), the last warehouse_meta
    of every URL and, per URL and data version, the last time the warehouse confirmed that
    version current."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.results: OrderedDict[tuple, _Kept] = OrderedDict()
        self.confirmed: dict[tuple[str, str], datetime] = {}
        self.meta: dict[str, tuple[dict[str, str], str]] = {}  # URL -> last warehouse_meta, its version
        self.dialects: dict[str, Dialect] = {}

    def keep(self, key: tuple, frame: pl.DataFrame, version: str) -> None:
        with self.lock:
            self.results[key] = _Kept(frame, version, now_local())
            self.results.move_to_end(key)
            while len(self.results) > KEPT_RESULTS:
                self.results.popitem(last=False)

    def keep_meta(self, url: str, meta: dict[str, str], version: str, confirmed: datetime) -> None:
        with self.lock:
            self.meta[url] = (meta, version)
            if confirmed > self.confirmed.get((url, version), datetime.min):
                self.confirmed[(url, version)] = confirmed

    def kept_meta(self, url: str) -> tuple[dict[str, str], datetime] | None:
        with self.lock:
            if url not in self.meta:
                return None
            meta, version = self.meta[url]
            return meta, self.confirmed[(url, version)]

    def kept(self, key: tuple) -> tuple[pl.DataFrame, datetime] | None:
        """The kept result and since when it is known current."""
        with self.lock:
            kept = self.results.get(key)
            if kept is None:
                return None
            return kept.frame, self.confirmed.get((key[0], kept.version), kept.loaded_at)


@st.cache_resource(show_spinner=False)
def _last_results() -> _LastResults:
    return _LastResults()


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
            # The replaced file's engine is of no more use: free its pool (a new engine never
            # shares its database instance, see queries.engine._duckdb_reader).
            _engine.clear()
        _identities[url] = identity
    return _engine(url, identity), f"{url}#{identity}"


def dialect() -> Dialect:
    """The configured warehouse's SQL dialect, for compiling a select without running it (a key,
    a signature). Known while the warehouse is unreachable once it was reached: engine() is not."""
    known = _last_results().dialects.get(resolve_url())
    return known if known is not None else engine()[0].dialect


def _is_missing_table(error: Exception) -> bool:
    text = str(error).lower()
    return "warehouse_meta" in text and ("does not exist" in text or "not exist" in text or "no such" in text)


def _read_meta(current: Engine) -> tuple[dict[str, str], datetime]:
    """warehouse_meta and when it was read."""
    query = select(warehouse_meta.c.key, warehouse_meta.c.value)
    with bounded_connection(current) as connection:
        return {key: value for key, value in connection.execute(query)}, now_local()


@st.cache_data(ttl=VERSION_TTL, show_spinner=False)
def _meta(engine_key: str, _engine: Engine) -> tuple[dict[str, str], datetime]:
    return _read_meta(_engine)


def _version_of(meta: dict[str, str]) -> str:
    return meta.get("data_version") or meta.get("loaded_at") or ""


def _meta_now(url: str, run: _PageRun | None) -> dict[str, str]:
    """warehouse_meta as the warehouse answers it now (once per page run)."""
    if run is not None and url in run.meta:
        return run.meta[url][0]
    if run is not None and url in run.unreachable:
        raise run.unreachable[url]  # tried once this run: no second wait for a dead server
    try:
        try:
            current, key = engine()
            if run is not None and not is_duckdb(url):
                # A server database: read at every run, so an outage shows at the next click.
                meta, read_at = _read_meta(current)
            else:
                meta, read_at = _meta(key, current)
        except UNREACHABLE_ERRORS as error:
            raise WarehouseUnavailable(_short(error)) from error
    except WarehouseUnavailable as error:
        if run is not None:
            run.unreachable[url] = error
        raise
    except (exc.ProgrammingError, duckdb.ProgrammingError) as error:
        if _is_missing_table(error):
            raise WarehouseEmpty(_short(error)) from error
        raise
    if not meta:
        raise WarehouseEmpty("warehouse_meta is empty")
    # DuckDB: the file is the one the meta was read from (engine() checked), so the version
    # is current now; a server's is known current as of the read.
    confirmed = now_local() if is_duckdb(url) else read_at
    _last_results().keep_meta(url, meta, _version_of(meta), confirmed)
    if run is not None:
        run.meta[url] = (meta, confirmed)
    return meta


def warehouse_meta_values() -> dict[str, str]:
    """warehouse_meta as a dict (data_through, loaded_at, data_version, …); in a page run
    while the warehouse is unreachable, the last one read (reported stale like a result)."""
    url = resolve_url()
    run = _current_run()
    try:
        return _meta_now(url, run)
    except WarehouseUnavailable:
        kept = None if run is None else _last_results().kept_meta(url)
        if kept is None:
            raise
        meta, since = kept
        _note_stale(run, since)
        return meta


def data_version() -> str:
    return _version_of(warehouse_meta_values())


def _short(error: Exception) -> str:
    """First line of a driver error, without the SQL it carried."""
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0][:300] if text.strip() else type(error).__name__


@st.cache_data(ttl=RESULT_TTL, show_spinner=False, max_entries=5000)
def _run_cached(
    sql: str, parameters: str, scope_key: str, version: str, engine_key: str, _select: Select
) -> pl.DataFrame:
    current, _ = engine()
    with bounded_connection(current) as connection:
        return run_select(_select, connection)


def _result_key(url: str, query: Select, dialect: Dialect, scope: Scope) -> tuple[str, str, str, str]:
    compiled = query.compile(dialect=dialect)
    parameters = repr(sorted(compiled.params.items(), key=lambda item: item[0]))
    return url, str(compiled), parameters, repr(scope)


def _stale(url: str, query: Select, scope: Scope, error: WarehouseUnavailable) -> pl.DataFrame:
    """The last result of this query while the warehouse is unreachable, in a page run only
    (the frame tells the user); else the error."""
    run = _current_run()
    if run is not None:
        run.unreachable[url] = error
    last = _last_results()
    dialect = last.dialects.get(url)
    kept = None if run is None or dialect is None else last.kept(_result_key(url, query, dialect, scope))
    if kept is None:
        raise error
    frame, since = kept
    _note_stale(run, since)
    return frame


def _note_stale(run: _PageRun, since: datetime) -> None:
    if run.stale_since is None or since < run.stale_since:
        run.stale_since = since
        if run.on_stale is not None:
            run.on_stale(since)


def run(query: Select, scope: Scope) -> pl.DataFrame:
    """Execute a select for the user's scope, cached until the data changes.

    `scope` must be the one the select was built with: it is part of the cache key so
    two roles never share an answer, even if their selects happened to compile alike.
    """
    url = resolve_url()
    try:
        version = _version_of(_meta_now(url, _current_run()))
        current, engine_key = engine()
    except WarehouseUnavailable as error:
        return _stale(url, query, scope, error)
    last = _last_results()
    last.dialects[url] = current.dialect
    key = _result_key(url, query, current.dialect, scope)
    try:
        frame = _run_cached(key[1], key[2], key[3], version, engine_key, query)
    except UNREACHABLE_ERRORS as error:
        return _stale(url, query, scope, WarehouseUnavailable(_short(error)))
    last.keep(key, frame, version)
    return frame
