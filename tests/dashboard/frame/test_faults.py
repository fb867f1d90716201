"""Faults under load (issue 13): the warehouse going away after a first render, and views
that cannot be finished within the time bound.

- Unreachable after a first render: the last figures stay, under a warning that names
  from when they are; a view never loaded before (or another user's) gets the plain
  "cannot be reached" message, never someone else's figures.
- Past the time bound (CRM_QUERY_TIMEOUT_SECONDS, set tiny here) a query is stopped
  (DuckDB: interrupted; PostgreSQL: statement_timeout), the page says "narrow the filters
  or try again" instead of a traceback, and the connection serves the next query.
"""

import shutil
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, literal_column, select, text
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Title
from streamlit.testing.v1.element_tree import Warning as WarningElement

from dashboard.frame import warehouse
from dashboard.text.formatting import format_datetime, now_local
from pages.overview import data as overview_data
from queries.engine import duckdb_path
from queries.filters import Scope
from tests.conftest import log_in

APP = str(Path(__file__).resolve().parents[3] / "dashboard" / "app.py")
OUTPUT_TYPES = ("title", "header", "subheader", "markdown", "caption", "metric", "alert", "plotly_chart",
                "arrow_data_frame", "table", "json")  # fmt: skip
PAGES = [f"../pages/{name}/{name}.py" for name in ("overview", "customers", "complaints", "debt", "churn", "review")]
STALE = {
    "vi": "Không kết nối được kho dữ liệu. Số liệu đang hiển thị là số liệu lúc {time} và có thể đã cũ.",
    "en": "The data warehouse cannot be reached. The figures shown are from {time} and may be out of date.",
}
DOWN = {"vi": "Không kết nối được kho dữ liệu", "en": "The data warehouse cannot be reached"}
TOO_SLOW = {
    "vi": "Trang này mất quá nhiều thời gian để tải. Hãy thu hẹp bộ lọc hoặc thử lại.",
    "en": "This view took too long. Narrow the filters or try again.",
}
# DuckDB: about 110 s on two cores, so a bound of a second or two must be what stops it.
SLOW_DUCKDB = select(literal_column("sum(hash(i))").label("value")).select_from(text("range(10000000000) as t(i)"))


@pytest.fixture(autouse=True)
def users(demo_users) -> dict:
    return demo_users


def open_app(params: dict | None = None, user: str = "executive", timeout: float = 120) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=timeout)
    app.query_params.update(params or {})
    log_in(app, user)
    return app.run()


def metric_values(app: AppTest) -> list[tuple[str, str]]:
    return [(metric.label, metric.value) for metric in app.metric]


def drawn_values(app: AppTest) -> list:
    """What a page shows: every text, figure, table and chart (widgets and warnings left out)."""
    values = []
    for node in app.main:
        if isinstance(node, Block | WarningElement) or node.type not in OUTPUT_TYPES:
            continue
        values.append((node.type, str(node.proto) if node.type in ("plotly_chart", "arrow_data_frame") else node.value))
    return values


def possible_times(before, after, lang: str) -> set[str]:
    """Every minute between two moments, as the notice writes it."""
    times, moment = set(), before.replace(second=0, microsecond=0)
    while moment <= after:
        times.add(format_datetime(moment, lang))
        moment += timedelta(minutes=1)
    return times


# --- the warehouse goes away after a first render -----------------------------------------


def test_an_unreachable_duckdb_keeps_the_last_figures_under_a_warning(duck_url, tmp_path, monkeypatch):
    live = tmp_path / "warehouse.duckdb"
    shutil.copy(duckdb_path(duck_url), live)
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{live}")
    before = now_local()
    app = open_app({"lang": "en"})
    after = now_local()
    assert not app.exception and not app.error and not app.warning
    figures = metric_values(app)
    assert len(figures) == 9

    live.rename(tmp_path / "moved.duckdb")  # the file is gone: nothing can be read
    app.run()
    assert not app.exception and not app.error, [item.value for item in app.error]
    assert metric_values(app) == figures
    shown = [item.value for item in app.warning]
    assert shown in ([STALE["en"].format(time=time)] for time in possible_times(before, after, "en")), shown

    # Another view was never loaded: the plain message, and still the warning for the rest.
    app.multiselect(key="f_segments").set_value(["enterprise"]).run()
    assert not app.exception
    assert len(app.error) == 1 and app.error[0].value.startswith(DOWN["en"])
    assert [item.value for item in app.warning] == shown
    assert not app.metric

    # Another user never gets this user's figures.
    manager = open_app({"lang": "en"}, user="manager")
    assert not manager.exception
    assert len(manager.error) == 1 and manager.error[0].value.startswith(DOWN["en"])
    assert not manager.metric and not manager.warning

    (tmp_path / "moved.duckdb").rename(live)  # back: fresh figures, no warning
    app.multiselect(key="f_segments").set_value([]).run()
    assert not app.exception and not app.error and not app.warning
    assert metric_values(app) == figures


@pytest.mark.parametrize("page", PAGES)
def test_every_page_keeps_what_it_showed_when_the_warehouse_goes_away(duck_url, tmp_path, monkeypatch, page):
    live = tmp_path / "warehouse.duckdb"
    shutil.copy(duckdb_path(duck_url), live)
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{live}")
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"lang": "en"})
    log_in(app).run()
    if page != "../pages/overview/overview.py":
        app.switch_page(page).run()
    assert not app.exception and not app.error and not app.warning
    shown = drawn_values(app)
    live.rename(tmp_path / "moved.duckdb")
    app.run()
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]
    assert len(app.warning) == 1
    assert app.warning[0].value.startswith(DOWN["en"] + ". The figures shown are from ")
    assert drawn_values(app) == shown


def test_the_stale_warning_is_the_first_thing_under_the_title(duck_url, tmp_path, monkeypatch):
    live = tmp_path / "warehouse.duckdb"
    shutil.copy(duckdb_path(duck_url), live)
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{live}")
    app = open_app()
    live.unlink()
    app.run()
    assert not app.exception and not app.error
    assert len(app.metric) == 9
    drawn = [node for node in app.main if not isinstance(node, Block) and node.type != "empty"]
    assert isinstance(drawn[0], Title) and isinstance(drawn[1], WarningElement)
    assert drawn[1].value.startswith(DOWN["vi"] + ". Số liệu")


class TcpProxy:
    """127.0.0.1:<port> forwarded to a PostgreSQL server, until `stop()`: then the port refuses,
    and every connection through it is cut, as when the server goes down."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() above: close() alone does not
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for end in self.sockets:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()


@pytest.mark.postgres
def test_an_unreachable_postgresql_keeps_the_last_figures_under_a_warning(pg_url, monkeypatch):
    """The server goes down between two clicks: the very next run says so (the data version is
    read at every run on a server), over the figures of the last one."""
    from sqlalchemy import make_url

    server = make_url(pg_url)
    proxy = TcpProxy((server.host, server.port))
    try:
        monkeypatch.setenv("WAREHOUSE_URL", server.set(port=proxy.port).render_as_string(hide_password=False))
        before = now_local()
        app = open_app()
        after = now_local()
        assert not app.exception and not app.error and not app.warning
        figures = metric_values(app)
        assert len(figures) == 9
        proxy.stop()
        app.run()
        assert not app.exception and not app.error, [item.value for item in app.error]
        assert metric_values(app) == figures
        shown = [item.value for item in app.warning]
        assert shown in ([STALE["vi"].format(time=time)] for time in possible_times(before, after, "vi")), shown
    finally:
        proxy.stop()


def test_nothing_stale_is_served_outside_a_page_run(duck_url, tmp_path, monkeypatch):
    """Only the frame shows the warning, so only a page run may be given kept figures."""
    live = tmp_path / "warehouse.duckdb"
    shutil.copy(duckdb_path(duck_url), live)
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{live}")
    query = select(func.count().label("rows")).select_from(text("customers"))
    with warehouse.page_run():
        assert warehouse.run(query, Scope()).item() > 0
        assert warehouse.stale_since() is None
    live.unlink()
    with pytest.raises(warehouse.WarehouseUnavailable):
        warehouse.run(query, Scope())
    seen = []
    with warehouse.page_run(on_stale=seen.append):
        assert warehouse.run(query, Scope()).item() > 0
        assert seen == [warehouse.stale_since()] and seen[0] is not None


# --- the time bound ---------------------------------------------------------------------------


def test_the_bound_is_thirty_seconds_unless_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv("CRM_QUERY_TIMEOUT_SECONDS", raising=False)
    assert warehouse.query_seconds() == 30
    for value, expected in (("2.5", 2.5), ("0", 30), ("-1", 30), ("soon", 30), ("nan", 30), ("inf", 30)):
        monkeypatch.setenv("CRM_QUERY_TIMEOUT_SECONDS", value)
        assert warehouse.query_seconds() == expected, value


def test_a_view_past_the_bound_says_so_and_the_next_sessions_are_served(duck_url, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    monkeypatch.setenv("CRM_QUERY_TIMEOUT_SECONDS", "3")
    original = overview_data.kpi_trends_select
    monkeypatch.setattr(overview_data, "kpi_trends_select", lambda *args, **kwargs: SLOW_DUCKDB)
    started = time.monotonic()
    slow = open_app({"lang": "en"}, timeout=60)
    assert time.monotonic() - started < 30
    assert not slow.exception, [item.value for item in slow.exception]
    assert not slow.error
    assert [item.value for item in slow.warning] == [TOO_SLOW["en"]]
    assert not slow.metric
    assert [item.value for item in slow.title] == ["Overview"]  # the frame is intact

    # The interrupted connection went back to the pool and answers the next sessions.
    current, _ = warehouse.engine()
    assert current.pool.checkedout() == 0
    monkeypatch.setattr(overview_data, "kpi_trends_select", original)
    monkeypatch.delenv("CRM_QUERY_TIMEOUT_SECONDS")
    other = open_app({"lang": "en"}, user="analyst")
    assert not other.exception and not other.error and not other.warning
    assert len(other.metric) == 9
    slow.run()
    assert not slow.exception and not slow.error and not slow.warning
    assert len(slow.metric) == 9


def test_filter_options_past_the_bound_say_so_too(duck_url, monkeypatch):
    from queries import dimensions

    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    monkeypatch.setenv("CRM_QUERY_TIMEOUT_SECONDS", "2")
    monkeypatch.setattr(dimensions, "freshness_select", lambda *args, **kwargs: SLOW_DUCKDB)
    app = open_app(timeout=60)
    assert not app.exception and not app.error
    assert [item.value for item in app.warning] == [TOO_SLOW["vi"]]
    assert not app.metric


def test_an_interrupted_duckdb_connection_answers_the_next_query(duck_url, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    monkeypatch.setenv("CRM_QUERY_TIMEOUT_SECONDS", "1")
    with warehouse.page_run():
        warehouse.run(select(literal_column("1").label("one")), Scope())  # opens the pooled connection
        started = time.monotonic()
        with pytest.raises(warehouse.QueryTimeout):
            warehouse.run(SLOW_DUCKDB, Scope())
        assert time.monotonic() - started < 10
    pool = warehouse.engine()[0].pool
    assert (pool.checkedin(), pool.checkedout()) == (1, 0)  # kept, not discarded
    with warehouse.page_run():
        answer = warehouse.run(select(func.count().label("rows")).select_from(text("provinces")), Scope())
    assert answer.item() == 34
    assert (pool.checkedin(), pool.checkedout()) == (1, 0)


def test_a_page_run_shares_one_bound(duck_url, monkeypatch):
    """What a page run's queries may take together: once spent, the next uncached query stops
    at once, without reaching the warehouse; a cached one is still served."""
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    monkeypatch.setenv("CRM_QUERY_TIMEOUT_SECONDS", "1")
    cached = select(literal_column("7").label("seven"))
    with warehouse.page_run():
        assert warehouse.run(cached, Scope()).item() == 7
        with pytest.raises(warehouse.QueryTimeout):
            warehouse.run(SLOW_DUCKDB, Scope())
        started = time.monotonic()
        with pytest.raises(warehouse.QueryTimeout):
            warehouse.run(select(literal_column("8").label("eight")), Scope())
        assert time.monotonic() - started < 0.5
        assert warehouse.run(cached, Scope()).item() == 7


@pytest.mark.postgres
def test_a_postgresql_query_past_the_bound_is_cancelled(pg_url, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", pg_url)
    monkeypatch.setenv("CRM_QUERY_TIMEOUT_SECONDS", "1")
    started = time.monotonic()
    with warehouse.page_run(), pytest.raises(warehouse.QueryTimeout):
        warehouse.run(select(func.pg_sleep(20).label("slept")), Scope())
    assert time.monotonic() - started < 10
    with warehouse.page_run():
        answer = warehouse.run(select(func.count().label("rows")).select_from(text("provinces")), Scope())
    assert answer.item() == 34


def test_connecting_to_a_silent_postgresql_gives_up(monkeypatch):
    """A server that accepts the connection and never answers: the reader gives up after its
    connect timeout instead of waiting for the operating system."""
    from sqlalchemy import exc

    from queries import engine as engine_module

    monkeypatch.setattr(engine_module, "READER_CONNECT_TIMEOUT_SECONDS", 2)
    silent = socket.create_server(("127.0.0.1", 0))  # listens, never accepts nor answers
    outcome: list[BaseException | None] = []

    def connect() -> None:
        port = silent.getsockname()[1]
        reader = engine_module.make_engine(f"postgresql://nobody@127.0.0.1:{port}/crm", read_only=True)
        try:
            with reader.connect():
                outcome.append(None)
        except BaseException as error:
            outcome.append(error)
        finally:
            reader.dispose()

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(timeout=15)
    silent.close()
    worker.join(timeout=15)
    assert outcome and isinstance(outcome[0], exc.OperationalError), outcome
    assert "timeout" in str(outcome[0]).lower()
