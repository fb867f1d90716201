"""Customer-level lists: one page at a time from the warehouse, masked per role, audited downloads.

API (use this for every list of individual customers, complaints, bills …)::

    from dashboard.charts.paged_list import paged_list

    query = my_topic.debtor_list_select(view.filters, view.scope)   # scoped AND ordered
    paged_list(
        query,
        view,                          # dashboard.frame.session.current_view()
        key="debt_debtors",            # unique per list on the page (widget keys derive from it)
        file_stem="debtors",           # download names: debtors.csv, debtors.xlsx
        labels={"full_name": t("customer_name", view.lang), ...},  # column -> shown header (optional)
        personal_columns=("address",), # masked too, besides full_name and phone (optional)
        column_config=None,            # passed to st.dataframe (optional)
    )  # a section: turning a page reruns the list alone (dashboard/frame/section.py)

What it guarantees:
- Refuses (a localised notice, no query run) when ``view.scope.can_list_customers`` is
  False (viewer, admin). The data functions below raise ``ListRefused`` as well, so a
  caller that skips the widget still gets nothing.
- Runs a COUNT and one LIMIT/OFFSET page (PAGE_SIZE rows) in the warehouse through
  dashboard.frame.warehouse.run (cached per scope): never more than one page reaches the browser.
- The select must have an ORDER BY (else pages would overlap or skip rows): ValueError if not.
  Put a unique column last in the ordering (e.g. customer_id) so ties cannot reorder pages.
- Masks ``full_name``, ``phone`` and ``personal_columns`` when ``scope.mask_personal_data``
  (analyst), before the frame reaches a widget or a file (dashboard.access.masking). A
  value the extract lacks (a NULL name or phone) reads "—" on screen and stays empty in files.
- CSV and Excel downloads of the whole filtered list, made on click, capped at
  EXPORT_CAP rows (a note says so when the list is longer), masked the same way; each
  download writes an ``export`` line to the audit log (user, filters, description,
  format, rows, capped).
- The page chooser goes back to page 1 when the list changes (filters, language).

The scope is the caller's job to put INTO the select (queries.filters.customer_conditions
with view.scope); this module cannot widen or narrow what the select returns.

Plain functions for tests and other callers: ``count_select``, ``page_select``,
``fetch_page``, ``export_frame``, ``export_bytes``.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Select, func, select

from dashboard.access.exports import record_export
from dashboard.access.masking import mask_personal_columns
from dashboard.charts.components import excel_bytes
from dashboard.charts.spreadsheet_cells import csv_bytes
from dashboard.frame import session
from dashboard.frame.section import section
from dashboard.frame.warehouse import dialect, engine, run
from dashboard.text.formatting import MISSING, format_number
from dashboard.text.strings import t
from queries.filters import Scope
from queries.run import run as run_select

PAGE_SIZE = 50
EXPORT_CAP = 100_000
FORMATS = ("csv", "xlsx")


class ListRefused(PermissionError):
    """The scope has no right to customer-level lists."""


@dataclass(frozen=True)
class ListPage:
    rows: pl.DataFrame  # the page, masked as the scope requires, columns renamed by `labels`
    total: int  # rows in the whole filtered list
    page: int  # 1-based
    pages: int  # at least 1


def _require_listing(scope: Scope) -> None:
    if not scope.can_list_customers:
        raise ListRefused(f"role {scope.role!r} may not list customers")


def _require_order(query: Select) -> None:
    if not query._order_by_clauses:  # noqa: SLF001 - SQLAlchemy has no public accessor for this
        raise ValueError("a paged list needs an ordered select (add order_by, ending with a unique column)")


def count_select(query: Select) -> Select:
    """One row, column `rows`: how many rows the list holds."""
    return select(func.count().label("rows")).select_from(query.order_by(None).subquery())


def page_select(query: Select, page: int, page_size: int = PAGE_SIZE) -> Select:
    """Rows of page `page` (1-based)."""
    return query.limit(page_size).offset((max(page, 1) - 1) * page_size)


def page_count(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(total / page_size))


def _shown(frame: pl.DataFrame, scope: Scope, personal_columns: tuple[str, ...], labels: Mapping[str, str] | None):
    masked = mask_personal_columns(frame, scope.mask_personal_data, tuple(personal_columns))
    renames = {column: label for column, label in (labels or {}).items() if column in masked.columns}
    return masked.rename(renames)


def with_missing_shown(frame: pl.DataFrame) -> pl.DataFrame:
    """Empty text cells (a name or phone the extract does not hold) as MISSING ("—") for the
    screen, where a grid would print "None". Files keep them empty: a spreadsheet reads an
    empty cell as no value, and "—" as text."""
    text = [name for name, dtype in frame.schema.items() if dtype in (pl.String, pl.Null)]
    return frame.with_columns(pl.col(name).cast(pl.String).fill_null(MISSING) for name in text)


def fetch_total(query: Select, scope: Scope) -> int:
    _require_listing(scope)
    _require_order(query)
    return int(run(count_select(query), scope)["rows"][0])


def fetch_page(
    query: Select,
    scope: Scope,
    page: int,
    *,
    page_size: int = PAGE_SIZE,
    personal_columns: tuple[str, ...] = (),
    labels: Mapping[str, str] | None = None,
    total: int | None = None,
) -> ListPage:
    """Count and one page, from the warehouse (cached per scope), masked for the scope, empty
    text cells shown as "—"."""
    total = fetch_total(query, scope) if total is None else total
    pages = page_count(total, page_size)
    page = min(max(page, 1), pages)
    rows = run(page_select(query, page, page_size), scope)
    return ListPage(with_missing_shown(_shown(rows, scope, personal_columns, labels)), total, page, pages)


def export_frame(
    query: Select,
    scope: Scope,
    *,
    cap: int = EXPORT_CAP,
    personal_columns: tuple[str, ...] = (),
    labels: Mapping[str, str] | None = None,
) -> tuple[pl.DataFrame, bool]:
    """(the whole list up to `cap` rows, masked; whether it was cut at the cap).

    Not cached (a big frame has no business in the result cache) and run on its own
    connection: downloads are made on click, outside the page run.
    """
    _require_listing(scope)
    _require_order(query)
    current, _ = engine()
    with current.connect() as connection:
        frame = run_select(query.limit(cap + 1), connection)
    capped = frame.height > cap
    return _shown(frame.head(cap), scope, personal_columns, labels), capped


def export_bytes(
    query: Select,
    view,
    fmt: str,
    *,
    file_stem: str,
    cap: int = EXPORT_CAP,
    personal_columns: tuple[str, ...] = (),
    labels: Mapping[str, str] | None = None,
) -> bytes:
    """The list as a CSV or Excel file, with its `export` audit line written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    frame, capped = export_frame(query, view.scope, cap=cap, personal_columns=personal_columns, labels=labels)
    data = csv_bytes(frame) if fmt == "csv" else excel_bytes(frame, file_stem)
    record_export(
        view,
        fmt=fmt,
        file_stem=file_stem,
        rows=frame.height,
        extra={"capped": capped, "masked": view.scope.mask_personal_data},
    )
    return data


def _signature(query: Select, lang: str) -> str:
    """Names the list (its SQL and parameters) so the page chooser can tell when it changed.
    Compiled for the warehouse's dialect (some expressions only compile for DuckDB/PostgreSQL),
    which stays known while the warehouse is unreachable: the list then shows its last page."""
    compiled = query.compile(dialect=dialect())
    return f"{lang}|{compiled}|{sorted(compiled.params.items(), key=lambda item: item[0])!r}"


@section
def paged_list(
    query: Select,
    view,
    *,
    key: str,
    file_stem: str,
    labels: Mapping[str, str] | None = None,
    personal_columns: tuple[str, ...] = (),
    page_size: int = PAGE_SIZE,
    export_cap: int = EXPORT_CAP,
    column_config: Mapping | None = None,
) -> None:
    """Draw the list (table, caption, page chooser, downloads); see the module docstring.
    A section: turning a page reruns the list alone."""
    import streamlit as st

    lang, scope = view.lang, view.scope
    if not scope.can_list_customers:
        st.info(t("list_refused", lang))
        return
    total = fetch_total(query, scope)
    if total == 0:
        st.info(t("list_empty", lang, filters=view.description))
        return
    pages = page_count(total, page_size)
    page_key = f"{key}_page"
    session.list_page(page_key, _signature(query, lang), pages)
    chosen = st.session_state.get(page_key, 1)
    shown = fetch_page(
        query,
        scope,
        chosen,
        page_size=page_size,
        personal_columns=personal_columns,
        labels=labels,
        total=total,
    )
    st.dataframe(shown.rows, hide_index=True, key=f"{key}_table", column_config=column_config)
    first = (shown.page - 1) * page_size + 1
    last = min(shown.page * page_size, total)
    notes = [
        t(
            "list_rows",
            lang,
            first=format_number(first, lang),
            last=format_number(last, lang),
            total=format_number(total, lang),
        )
    ]
    if scope.mask_personal_data:
        notes.append(t("list_masked", lang))
    st.caption(" · ".join([*notes, view.description]))
    navigation, csv_column, excel_column = st.columns([2, 1, 1], vertical_alignment="bottom")
    with navigation:
        st.number_input(
            t("list_page", lang, pages=format_number(pages, lang)),
            min_value=1,
            max_value=pages,
            step=1,
            key=page_key,
        )
    for column, fmt, label, mime in (
        (csv_column, "csv", "download_csv", "text/csv"),
        (excel_column, "xlsx", "download_excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ):
        with column:
            st.download_button(
                t(label, lang),
                # Made on click, outside the run: the closure holds everything the file and its audit need.
                data=lambda fmt=fmt: export_bytes(
                    query,
                    view,
                    fmt,
                    file_stem=file_stem,
                    cap=export_cap,
                    personal_columns=personal_columns,
                    labels=labels,
                ),
                file_name=f"{file_stem}.{fmt}",
                mime=mime,
                key=f"{key}_{fmt}",
                on_click="ignore",
            )
    if total > export_cap:
        st.caption(t("list_export_capped", lang, cap=format_number(export_cap, lang), total=format_number(total, lang)))
