"""Every file the dashboard hands out is audited: who, when, which filters, what format.

Downloads are generated on click (Streamlit's deferred `data=callable`), outside the
page run, so whatever the audit line needs (user, filters, description) is captured
when the button is drawn and the line is written when the file is actually made.
"""

from collections.abc import Callable, Mapping
from typing import Any

from dashboard.access import audit


def record_export(
    view,
    *,
    fmt: str,
    file_stem: str,
    rows: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One `export` line for a file made for `view` (a dashboard.frame.session.View; None outside the frame)."""
    detail = {"format": fmt, "file": f"{file_stem}.{fmt}", "rows": rows, **(extra or {})}
    if view is None:
        return audit.record("export", "", detail=detail)
    return audit.record(
        "export",
        view.scope.user,
        filters=view.filters,
        description=view.description,
        detail={"role": view.scope.role, **detail},
    )


def audited(view, make_bytes: Callable[[], bytes], *, fmt: str, file_stem: str, rows: int) -> Callable[[], bytes]:
    """`make_bytes`, wrapped so that making the file writes its audit line (for download buttons)."""

    def make_and_record() -> bytes:
        data = make_bytes()
        record_export(view, fmt=fmt, file_stem=file_stem, rows=rows)
        return data

    return make_and_record
