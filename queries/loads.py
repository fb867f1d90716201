"""The load log (queries.tables.load_log) as the dashboard shows it to admins: the latest loads first."""

from sqlalchemy import Select, select

from queries.tables import load_log

SHOWN_LOADS = 60  # five years of monthly loads, with room for retries


def recent_loads_select(limit: int = SHOWN_LOADS) -> Select:
    c = load_log.c
    return (
        select(c.load_month, c.kind, c.outcome, c.started_at, c.finished_at, c.files, c.message, c.loaded_by, c.source)
        .order_by(c.finished_at.desc(), c.load_id)
        .limit(limit)
    )
