"""What the data loads page shows: the load log, one row per load, in the user's language."""

import json

import polars as pl

from dashboard.frame.session import View
from dashboard.frame.warehouse import run
from dashboard.text.formatting import format_datetime, format_month, format_number
from dashboard.text.strings import t
from queries.loads import recent_loads_select


def rows_read(files: str | None) -> int:
    """Rows in every file of a load (the log keeps the files as JSON)."""
    try:
        return sum(int(entry.get("rows", 0)) for entry in json.loads(files or "[]"))
    except (ValueError, TypeError, AttributeError):
        return 0


def loads_frame(view: View) -> pl.DataFrame:
    """The recent loads, with localised headers and values; empty when there are none."""
    lang = view.lang
    loads = run(recent_loads_select(), view.scope)
    if loads.is_empty():
        return loads
    return pl.DataFrame(
        {
            t("load_month", lang): [format_month(month, lang) if month else "—" for month in loads["load_month"]],
            t("load_kind", lang): [t(f"load_kind_{kind}", lang) for kind in loads["kind"]],
            t("load_outcome", lang): [t(f"load_outcome_{outcome}", lang) for outcome in loads["outcome"]],
            t("load_started", lang): [format_datetime(moment, lang) for moment in loads["started_at"]],
            t("load_finished", lang): [format_datetime(moment, lang) for moment in loads["finished_at"]],
            t("load_rows", lang): [format_number(rows_read(files), lang) for files in loads["files"]],
            t("load_by", lang): loads["loaded_by"].to_list(),
            t("load_source", lang): loads["source"].to_list(),
            t("load_message", lang): [message or "" for message in loads["message"]],
        }
    )
