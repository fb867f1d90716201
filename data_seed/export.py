"""A warehouse written out as an operator's monthly extracts: one folder per month, in the
import format (docs/import.md), so that importing the folders month by month
(``python -m data_seed import DIR/2026-10 --month 2026-10``, …) rebuilds the same warehouse.

    python -m data_seed generate --customers 20000 --months 13 --export DIR
    python -m data_seed export DIR [--url URL]

Each folder holds what an operator's system would send at that month's end:
- the month's facts, each by its own month (revenue, bills, complaints opened, surveys, …);
- customers activated in the month, as they stood at its end (a customer who leaves later is
  still active here), and customers who left in the month, now churned;
- churn events of the month, without a win-back that came later; an event whose win-back
  falls in the month is sent again, complete (a monthly load updates rows by their key);
- staff, campaigns and targets by the month of their date.
The first folder also holds everything dated before it (the history the operator starts
from); the last one what is dated after it (targets and campaigns planned ahead).

Facts keep the state they have at the end of the data (a complaint opened in a month is
written there with its later resolution): the warehouse holds final states only, so no
earlier state can be reconstructed. An operator's extract sends such rows again in the
month they change, which the monthly load applies as an update.

The selects run in the warehouse; only one month of one table travels at a time.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import Date, and_, case, cast, create_engine, func, literal, null, or_, select

from data_seed.customer_keys import ID, KEY, file_table
from data_seed.import_files import IMPORTED_TABLES
from data_seed.monthly_rules import KEYED_DATE, MONTH_COLUMN
from queries import tables as t
from queries.engine import normalise_url
from queries.filters import add_months, month_end

c = t.customers.c
e = t.churn_events.c


def in_folder(value, month: date, first: bool, last: bool):
    """Rows whose date falls in ``month``; the first folder takes earlier ones, the last later ones."""
    low = literal(True) if first else value >= month
    high = literal(True) if last else value < add_months(month, 1)
    return and_(low, high)


def customers_select(month: date, first: bool):
    """Customers activated in the month (as they stood at its end) and those who left in it."""
    end = month_end(month)
    activated = c.activated_on <= end if first else and_(c.activated_on >= month, c.activated_on <= end)
    left_now = and_(c.churned_on >= month, c.churned_on <= end)
    gone_by_then = and_(c.churned_on.is_not(None), c.churned_on <= end)
    columns = []
    for column in file_table(t.customers).columns:
        if column.name == "status":
            columns.append(case((gone_by_then, "churned"), else_="active").label("status"))
        elif column.name == "churned_on":
            columns.append(case((gone_by_then, c.churned_on), else_=null()).label("churned_on"))
        else:
            columns.append(c[column.name])
    return select(*columns).where(or_(activated, left_now)).order_by(c.customer_id)


def churn_events_select(month: date, first: bool):
    """Events of the month (a later win-back left out), and events won back in the month."""
    end = month_end(month)
    happened = e.churned_on <= end if first else and_(e.churned_on >= month, e.churned_on <= end)
    won_back_now = and_(e.won_back_on >= month, e.won_back_on <= end, e.churned_on < month)
    won_back = case((e.won_back_on <= end, e.won_back_on), else_=null())
    columns = [
        c.customer_key
        if column.name == KEY
        else won_back.label("won_back_on")
        if column.name == "won_back_on"
        else e[column.name]
        for column in file_table(t.churn_events).columns
    ]
    joined = t.churn_events.join(t.customers, e.customer_id == c.customer_id)
    return select(*columns).select_from(joined).where(or_(happened, won_back_now)).order_by(e.customer_id)


def table_select(table, month: date, first: bool, last: bool):
    """Rows of a fact or keyed table for the month's folder, customers named by key."""
    if table is t.customers:
        return customers_select(month, first)
    if table is t.churn_events:
        return churn_events_select(month, first)
    name = MONTH_COLUMN.get(table.name) or KEYED_DATE[table.name]
    dated = cast(table.c[name], Date)
    condition = in_folder(dated, month, first, last and table.name not in MONTH_COLUMN)
    key = [table.c[column.name] for column in table.primary_key.columns]
    if ID not in table.c:
        return select(table).where(condition).order_by(*key)
    columns = [c.customer_key if column.name == KEY else table.c[column.name] for column in file_table(table).columns]
    joined = table.join(t.customers, table.c.customer_id == c.customer_id)
    return select(*columns).select_from(joined).where(condition).order_by(*key)


def export_months(
    url: str,
    directory: Path,
    *,
    only: date | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> list[Path]:
    """Write one folder per month of data (``YYYY-MM``) under ``directory``, or only the folder
    of ``only``; the folders written."""
    engine = create_engine(normalise_url(url))
    folders = []
    try:
        with engine.connect() as connection, warnings.catch_warnings():
            # Polars suggests DuckDB's own Arrow path; one month of one table at a time is fine.
            warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
            first_month = connection.execute(select(func.min(t.revenue_monthly.c.revenue_month))).scalar_one()
            last_month = connection.execute(select(func.max(t.revenue_monthly.c.revenue_month))).scalar_one()
            if first_month is None:
                raise ValueError("the warehouse holds no revenue, so it has no months to export")
            month = first_month
            while month <= last_month:
                if only is None or month == only:
                    folders.append(
                        write_folder(connection, directory, month, month == first_month, month == last_month)
                    )
                    progress(f"exported {month:%Y-%m}")
                month = add_months(month, 1)
    finally:
        engine.dispose()
    if only is not None and not folders:
        raise ValueError(f"the warehouse has no data for {only:%Y-%m} ({first_month:%Y-%m} … {last_month:%Y-%m})")
    return folders


def write_folder(connection, directory: Path, month: date, first: bool, last: bool) -> Path:
    folder = directory / f"{month:%Y-%m}"
    folder.mkdir(parents=True, exist_ok=True)
    for table in IMPORTED_TABLES:
        statement = table_select(table, month, first, last)
        frame = pl.read_database(statement, connection=connection, infer_schema_length=None)
        if frame.height:
            frame.write_csv(folder / f"{table.name}.csv", datetime_format="%Y-%m-%d %H:%M:%S%.6f")
    return folder
