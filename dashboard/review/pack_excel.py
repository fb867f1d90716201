"""The meeting pack's workbook: the scorecard and the tables under it, one sheet per topic.

Numbers are written as numbers (fractions, VND, counts), each with a number format for its
unit, so a reader can sort, sum and chart them. Excel number formats are written with the
invariant separators (#,##0.0) and shown with the reader's own: a Vietnamese Excel shows
1.234.567 and 12,3 %, an English one 1,234,567 and 12.3 %. Money carries ₫ (after the number
in Vietnamese, before it in English), dates dd/mm/yyyy. Every sheet starts with the review
period, the filters and the data freshness, like every page of the PDF.

Sheets: Thông tin (about), Bảng điểm (scorecard + areas off target), Theo địa bàn (country,
regions, provinces × measure), Chiến dịch, Đào tạo, SLA khiếu nại, Kênh CSKH, Phát hiện.
"""

import io
from datetime import datetime

import xlsxwriter

from dashboard.review.data import ReviewData
from dashboard.review.tables import (
    Column,
    ReviewTable,
    breakdown_table,
    campaign_tables,
    care_table,
    findings_table,
    is_hidden,
    scorecard_table,
    sla_table,
    small_cell_mark,
    status_table,
    training_tables,
)
from dashboard.text.formatting import format_date, format_datetime
from dashboard.text.strings import t

HEADER_ROWS = 5  # title, period, scope, freshness, blank
STATUS_COLOURS = {"green": "#CEEAD6", "amber": "#FEEFC3", "red": "#FAD2CF"}
TEXT_WIDTH = {"label": 46, "text": 110, "link": 60, "name": 36, "area": 22}


def _vnd_format(lang: str, signed: bool = False) -> str:
    number = '#,##0 "₫"' if lang == "vi" else '"₫"#,##0'
    if not signed:
        return number
    negative = '-#,##0 "₫"' if lang == "vi" else '-"₫"#,##0'
    return f"+{number};{negative};0"


def number_format(unit: str, lang: str, *, signed: bool = False) -> str:
    """Excel number format for a measure unit (registry units, plus 'pp' for uplifts)."""
    if unit == "vnd":
        return _vnd_format(lang, signed)
    plain = {
        "count": "#,##0",
        "percent": "0.0%",
        "pp": "0.0%",
        "points": "0.0",
        "score": "0.00",
        "hours": "#,##0.0",
        "days": "#,##0.0",
        "seconds": "#,##0",
    }.get(unit, "#,##0.00")
    if not signed:
        return plain
    return f"+{plain};-{plain};0"


class _Formats:
    """xlsxwriter formats, made once per workbook and per (unit, signed)."""

    def __init__(self, workbook, lang: str) -> None:
        self.workbook, self.lang = workbook, lang
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.subtitle = workbook.add_format({"bold": True, "font_size": 11})
        self.info = workbook.add_format({"italic": True, "font_color": "#5F6368"})
        self.header = workbook.add_format({"bold": True, "bg_color": "#E8EAED", "text_wrap": True, "valign": "top"})
        self.text = workbook.add_format({"text_wrap": False, "valign": "top"})
        self.wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.when = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm", "align": "left"})
        self.status = {name: workbook.add_format({"bg_color": colour}) for name, colour in STATUS_COLOURS.items()}
        self._numbers: dict[tuple[str, bool], object] = {}

    def number(self, unit: str, signed: bool = False):
        key = (unit, signed)
        if key not in self._numbers:
            self._numbers[key] = self.workbook.add_format({"num_format": number_format(unit, self.lang, signed=signed)})
        return self._numbers[key]


def _excel_columns(table: ReviewTable, lang: str) -> list[tuple[Column, str, str | None]]:
    """(column, header, which end) — an interval becomes two columns, a trend none."""
    columns = []
    for column in table.columns:
        if column.kind == "trend":
            continue
        if column.kind == "interval":
            columns.append((column, f"{column.label} ({t('review_ci_low', lang)})", "low"))
            columns.append((column, f"{column.label} ({t('review_ci_high', lang)})", "high"))
        else:
            columns.append((column, column.label, None))
    return columns


def _write_cell(sheet, row: int, col: int, column: Column, end: str | None, record: dict, formats: _Formats):
    unit = column.unit or record.get("unit") or "count"
    if is_hidden(column, record):  # a small cell: the mark as text, never a number (the note says why)
        sheet.write_string(row, col, small_cell_mark(formats.lang), formats.text)
    elif column.kind in ("text",):
        value = record.get(column.key)
        if column.key == "link" and str(value).startswith(("http://", "https://")):
            sheet.write_url(row, col, str(value), string=str(value))  # the finding opens its page
        else:
            sheet.write_string(row, col, "" if value is None else str(value), formats.wrapped)
    elif column.kind == "status":
        status = record.get(column.key)
        text = t(f"rag_{status}", formats.lang) if status else ""
        sheet.write_string(row, col, text, formats.status.get(status, formats.text))
    elif column.kind == "interval":
        value = record.get(column.pair[0] if end == "low" else column.pair[1])
        _write_number(sheet, row, col, value, formats.number(unit))
    elif column.kind == "delta":
        current, reference = (record.get(key) for key in column.pair)
        value = None if current is None or reference is None else current - reference
        _write_number(sheet, row, col, value, formats.number(unit, signed=True))
    elif column.kind == "pp":
        _write_number(sheet, row, col, record.get(column.key), formats.number("pp", signed=True))
    else:
        _write_number(sheet, row, col, record.get(column.key), formats.number(unit))


def _write_number(sheet, row: int, col: int, value, cell_format) -> None:
    if value is None:
        sheet.write_blank(row, col, None, cell_format)
    else:
        sheet.write_number(row, col, float(value), cell_format)


def _write_table(sheet, first_row: int, table: ReviewTable, formats: _Formats, lang: str, widths: dict) -> int:
    """Title, note, header and rows from first_row; returns the next free row. `widths`
    keeps each column's width across the tables stacked on one sheet (the widest wins)."""
    row = first_row
    sheet.write_string(row, 0, table.title, formats.subtitle)
    row += 1
    if table.note:
        sheet.write_string(row, 0, table.note, formats.info)
        row += 1
    columns = _excel_columns(table, lang)
    for col, (_, header, _) in enumerate(columns):
        sheet.write_string(row, col, header, formats.header)
    row += 1
    for record in table.rows:
        for col, (column, _, end) in enumerate(columns):
            _write_cell(sheet, row, col, column, end, record, formats)
        row += 1
    if not table.rows:
        sheet.write_string(row, 0, "—", formats.text)
        row += 1
    for col, (column, _, _) in enumerate(columns):
        widths[col] = max(widths.get(col, 0), TEXT_WIDTH.get(column.key, 30 if column.kind == "text" else 15))
        sheet.set_column(col, col, widths[col])
    return row + 1


def sheet_name(title: str) -> str:
    """A valid, unique-enough sheet name: ≤ 31 characters, none of []:*?/\\."""
    for character in "[]:*?/\\":
        title = title.replace(character, "-")
    return title[:31]


def _header(sheet, data: ReviewData, generated_at: datetime, formats: _Formats) -> None:
    lang = data.lang
    sheet.write_string(0, 0, f"{t('review_pack_title', lang)} — {data.period_label()}", formats.title)
    sheet.write_string(1, 0, data.description, formats.info)
    sheet.write_string(2, 0, t("review_pack_scope", lang, filters=data.description.rsplit(" · ", 1)[0]), formats.info)
    freshness = t("freshness", lang, date=format_date(data.data_through, lang))
    sheet.write_string(
        3,
        0,
        t("review_pack_generated", lang, time=format_datetime(generated_at, lang), freshness=freshness),
        formats.info,
    )


def _sheet(workbook, name: str, data: ReviewData, generated_at: datetime, formats: _Formats):
    sheet = workbook.add_worksheet(sheet_name(name))
    _header(sheet, data, generated_at, formats)
    return sheet


def _about(workbook, data: ReviewData, generated_at: datetime, formats: _Formats) -> None:
    lang = data.lang
    sheet = _sheet(workbook, t("review_pack_about", lang), data, generated_at, formats)
    lines = [
        (t("review_period", lang), data.period_label()),
        (t("review_previous", lang), data.period_label(data.period.previous)),
        (t("review_last_year", lang), data.period_label(data.period.last_year)),
        (t("review_pack_scope", lang, filters="").rstrip(": "), data.description.rsplit(" · ", 1)[0]),
    ]
    row = HEADER_ROWS
    for label, value in lines:
        sheet.write_string(row, 0, label, formats.header)
        sheet.write_string(row, 1, value, formats.text)
        row += 1
    sheet.write_string(row, 0, t("freshness", lang, date="").strip(), formats.header)
    sheet.write_datetime(row, 1, datetime.combine(data.data_through, datetime.min.time()), formats.when)
    row += 1
    sheet.write_string(
        row, 0, t("review_pack_generated", lang, time="", freshness="").split("·")[0].strip(), formats.header
    )
    sheet.write_datetime(row, 1, generated_at, formats.when)
    row += 2
    for note in (t("review_uplift_note", lang), t("review_training_note", lang), t("review_care_note", lang)):
        sheet.write_string(row, 0, note, formats.info)
        row += 1
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 60)


def build_workbook(data: ReviewData, generated_at: datetime, base_url: str = "") -> bytes:
    """The .xlsx file as bytes (nothing touches the disk)."""
    lang = data.lang
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"title": f"{t('review_pack_title', lang)} — {data.period_label()}"})
    formats = _Formats(workbook, lang)
    _about(workbook, data, generated_at, formats)
    sheets: list[tuple[str, list[ReviewTable]]] = [
        (t("review_scorecard", lang), [scorecard_table(data), status_table(data)]),
        (t("review_breakdown", lang), [breakdown_table(data)]),
        (t("review_campaigns", lang), campaign_tables(data)),
        (t("review_training", lang), training_tables(data)),
        (t("review_sla", lang), [sla_table(data)]),
        (t("review_care", lang), [care_table(data)]),
        (t("review_findings", lang), [findings_table(data, base_url)]),
    ]
    for name, tables in sheets:
        sheet = _sheet(workbook, name, data, generated_at, formats)
        row, widths = HEADER_ROWS, {}
        for table in tables:
            row = _write_table(sheet, row, table, formats, lang, widths)
        sheet.freeze_panes(HEADER_ROWS, 0)
    workbook.close()
    return buffer.getvalue()
