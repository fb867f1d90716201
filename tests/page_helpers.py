"""What the topic-page tests share: open a page as a user, check it drew cleanly, find a
table, read raw tables for the independent computations."""

from pathlib import Path

import duckdb
import polars as pl
from streamlit.testing.v1 import AppTest

from queries.engine import duckdb_path
from tests.conftest import log_in

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
TIMEOUT = 180


def read_tables(duck_url: str, names: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    """Whole raw tables of the (small) test warehouse, for computing the expected figures."""
    with duckdb.connect(str(duckdb_path(duck_url)), read_only=True) as connection:
        return {name: pl.from_arrow(connection.sql(f"select * from {name}").to_arrow_table()) for name in names}


def open_page(page: str, params: dict, user: str = "executive") -> AppTest:
    """The app opened with the link's `params`, logged in as `user`, straight on `page`
    (e.g. "../pages/debt/debt.py"): one run, not the Overview first."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params.update(params)
    log_in(app, user)
    app.switch_page(page)
    app.run()
    return app


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]
    assert not app.warning, [item.value for item in app.warning]


def table_with(app: AppTest, column: str):
    """The one dataframe showing `column` (AppTest exposes no widget key for st.dataframe)."""
    tables = [item.value for item in app.dataframe if column in item.value.columns]
    assert len(tables) == 1, [item.value.columns for item in app.dataframe]
    return tables[0]
