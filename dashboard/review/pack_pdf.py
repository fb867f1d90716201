"""The meeting pack's PDF: scorecard, findings, key charts, areas against target, what worked.

Why a PDF and not a PPTX: a Vietnamese review meeting hands the pack out (printed, or sent
through Zalo and e-mail to be read on a phone) rather than presenting from it; a PDF looks
the same on every device and printer, keeps its embedded font (so ầ, ữ, ặ, đ never fall
back to boxes, as they can in a PPTX opened where the font is missing), cannot be altered
by accident, and is small. Whoever wants to rework the numbers gets the Excel workbook.

How: fpdf2 (pure Python, embeds and subsets TrueType fonts, Unicode text), with DejaVu
Sans shipped in dashboard/assets/fonts (licence beside it). Charts are drawn with the
PDF's own lines and rectangles: no Plotly static export (kaleido needs a Chrome), no
matplotlib, nothing fetched from anywhere. Every page carries the review period, the
filters and the data freshness in its header, and a page number in its footer. Numbers and
dates are formatted for the chosen language (dashboard/text/formatting.py).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from dashboard.review.data import ReviewData
from dashboard.review.findings import finding_text
from dashboard.review.tables import (
    Column,
    ReviewTable,
    campaign_tables,
    care_table,
    cell_text,
    scorecard_table,
    sla_table,
    small_cell_mark,
    small_cell_note,
    status_counts,
    training_tables,
)
from dashboard.text.formatting import format_date, format_datetime, format_number, format_value
from dashboard.text.strings import t, value_label
from queries.metrics import MEASURES
from queries.tables import MACRO_REGIONS

FONT_DIR = Path(__file__).resolve().parents[1] / "assets" / "fonts"
FONT = "DejaVu"
MARGIN = 12.0
COLOURS = {
    "green": (30, 142, 62),
    "amber": (249, 171, 0),
    "red": (217, 48, 37),
    "grey": (95, 99, 104),
    "light": (232, 234, 237),
    "line": (215, 25, 32),  # the dashboard's primary colour
    "bar": (66, 133, 244),
    "text": (32, 33, 36),
}
LIGHT_STATUS = {"green": (206, 234, 214), "amber": (254, 239, 195), "red": (250, 210, 207)}
KIND_COLOURS = {"deterioration": "red", "improvement": "green", "off_target": "amber"}


class PackPdf(FPDF):
    """A4 landscape with the review's header and footer on every page."""

    def __init__(self, data: ReviewData, generated_at: datetime) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.data, self.generated_at = data, generated_at
        self.add_font(FONT, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=14)
        self.set_title(f"{t('review_pack_title', data.lang)} — {data.period_label()}")
        self.set_lang(data.lang)
        self.set_creator("CRM dashboard")

    def header(self) -> None:
        lang = self.data.lang
        self.set_text_color(*COLOURS["text"])
        self.set_font(FONT, "B", 12)
        self.cell(
            0, 6, f"{t('review_pack_title', lang)} — {self.data.period_label()}", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.set_font(FONT, "", 8)
        self.set_text_color(*COLOURS["grey"])
        self.cell(0, 4.2, self.data.description, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        freshness = t("freshness", lang, date=format_date(self.data.data_through, lang))
        generated = t("review_pack_generated", lang, time=format_datetime(self.generated_at, lang), freshness=freshness)
        self.cell(0, 4.2, generated, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*COLOURS["line"])
        self.set_line_width(0.4)
        self.line(MARGIN, self.get_y() + 1, self.w - MARGIN, self.get_y() + 1)
        self.set_y(self.get_y() + 3)
        self.set_text_color(*COLOURS["text"])

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "", 7)
        self.set_text_color(*COLOURS["grey"])
        self.cell(0, 4, t("review_pack_page", self.data.lang, page=self.page_no(), pages="{nb}"), align="R")

    def section(self, title: str, note: str = "") -> None:
        self.set_font(FONT, "B", 10.5)
        self.set_text_color(*COLOURS["text"])
        self.cell(0, 6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if note:
            self.set_font(FONT, "", 7)
            self.set_text_color(*COLOURS["grey"])
            self.multi_cell(0, 3.4, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_text_color(*COLOURS["text"])
        self.ln(1)

    def room(self) -> float:
        """Height left on the page above the bottom margin."""
        return self.h - self.b_margin - self.get_y()

    def fitted(self, text: str, width: float, size: float, style: str = "", smallest: float = 5.5) -> float:
        """Set a font size at which `text` fits `width` (down to `smallest`); returns it."""
        while size > smallest:
            self.set_font(FONT, style, size)
            if self.get_string_width(text) <= width - 1.2:
                return size
            size -= 0.5
        self.set_font(FONT, style, smallest)
        return smallest


# --- tables ---------------------------------------------------------------------------------


def _widths(table: ReviewTable, total: float, wide: dict[str, float] | None = None) -> list[float]:
    """Column widths: the given ones, text columns twice a number column, the rest shared."""
    wide = wide or {}
    weights = []
    for column in table.columns:
        if column.key in wide:
            weights.append(None)
        else:
            weights.append(2.0 if column.kind == "text" and column is table.columns[0] else 1.0)
    fixed = sum(wide.values())
    unit = (total - fixed) / sum(weight for weight in weights if weight is not None)
    return [
        wide.get(column.key) if weight is None else weight * unit
        for column, weight in zip(table.columns, weights, strict=True)
    ]


HEADER_LINE = 3.1


def _header_height(pdf: PackPdf, table: ReviewTable, widths: Sequence[float], least: float) -> float:
    """Tall enough for the longest wrapped column label."""
    pdf.set_font(FONT, "B", 6.8)
    lines = max(
        len(pdf.multi_cell(width, HEADER_LINE, column.label, dry_run=True, output="LINES"))
        for column, width in zip(table.columns, widths, strict=True)
    )
    return max(least, lines * HEADER_LINE + 1.4)


def _header_row(pdf: PackPdf, table: ReviewTable, widths: Sequence[float], height: float) -> None:
    x, y = pdf.get_x(), pdf.get_y()
    pdf.set_fill_color(*COLOURS["light"])
    pdf.set_font(FONT, "B", 6.8)
    for column, width in zip(table.columns, widths, strict=True):
        pdf.rect(x, y, width, height, style="F")
        pdf.set_xy(x, y + 0.6)
        pdf.multi_cell(width, HEADER_LINE, column.label, align="C" if column.kind != "text" else "L")
        x += width
    pdf.set_xy(MARGIN, y + height)


def draw_table(
    pdf: PackPdf,
    table: ReviewTable,
    *,
    wide: dict[str, float] | None = None,
    row_height: float = 5.6,
    header_height: float = 8.0,
    size: float = 7.2,
    extra: Callable[[PackPdf, Column, dict, float, float, float, float], bool] | None = None,
) -> None:
    """A table that breaks across pages (the header is repeated). `extra` may draw a cell
    itself (a sparkline) and return True."""
    lang = pdf.data.lang
    widths = _widths(table, pdf.w - 2 * MARGIN, wide)
    header_height = _header_height(pdf, table, widths, header_height)
    if pdf.room() < header_height + 2 * row_height:
        pdf.add_page()
    _header_row(pdf, table, widths, header_height)
    for row in table.rows or ({},):
        if pdf.room() < row_height:
            pdf.add_page()
            _header_row(pdf, table, widths, header_height)
        x, y = MARGIN, pdf.get_y()
        for column, width in zip(table.columns, widths, strict=True):
            if extra and extra(pdf, column, row, x, y, width, row_height):
                x += width
                continue
            text = cell_text(column, row, lang) if row else "—"
            status = row.get(column.key) if column.kind == "status" else None
            if status in LIGHT_STATUS:
                pdf.set_fill_color(*LIGHT_STATUS[status])
                pdf.rect(x + 0.3, y + 0.4, width - 0.6, row_height - 0.8, style="F")
            pdf.fitted(text, width, size)
            pdf.set_xy(x, y)
            pdf.cell(width, row_height, text, align="L" if column.kind in ("text", "status") else "R")
            x += width
        pdf.set_draw_color(*COLOURS["light"])
        pdf.set_line_width(0.2)
        pdf.line(MARGIN, y + row_height, MARGIN + sum(widths), y + row_height)
        pdf.set_xy(MARGIN, y + row_height)
    pdf.ln(3)


def _sparkline(pdf: PackPdf, column: Column, row: dict, x: float, y: float, width: float, height: float) -> bool:
    if column.kind != "trend":
        return False
    values = [value for value in (row.get(column.key) or []) if value is not None]
    if len(values) < 2:
        return True
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    left, right, top, bottom = x + 2, x + width - 3, y + 1.2, y + height - 1.2
    step = (right - left) / (len(values) - 1)
    points = [
        (left + index * step, bottom - (value - low) / span * (bottom - top)) for index, value in enumerate(values)
    ]
    pdf.set_draw_color(*COLOURS["line"])
    pdf.set_line_width(0.35)
    pdf.polyline(points)
    pdf.set_fill_color(*COLOURS["line"])
    last_x, last_y = points[-1]
    pdf.rect(last_x - 0.6, last_y - 0.6, 1.2, 1.2, style="F")
    return True


# --- charts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[tuple[float, str], ...]  # (value, colour name), stacked from the axis minimum
    text: str = ""
    whisker: tuple[float, float] | None = None  # an interval drawn over the bar


def hbar_chart(
    pdf: PackPdf,
    x: float,
    y: float,
    width: float,
    height: float,
    title: str,
    bars: Sequence[Bar],
    axis: tuple[float, float],
    ticks: Sequence[tuple[float, str]] = (),
    reference: tuple[float, str] | None = None,
    origin: float | None = None,
) -> None:
    """Horizontal bars with labels on the left, values on the right, optional whiskers and a
    vertical reference line (a target, zero). Bars start at `origin` (default: the axis
    minimum); stacked segments follow one another."""
    pdf.set_xy(x, y)
    pdf.set_font(FONT, "B", 8.5)
    pdf.cell(width, 5, title)
    if not bars:
        pdf.set_xy(x, y + 7)
        pdf.set_font(FONT, "", 7)
        pdf.cell(width, 4, "—")
        return
    label_width, value_width = width * 0.34, width * 0.16
    plot_left, plot_right = x + label_width, x + width - value_width
    top, bottom = y + 7, y + height - 5
    row = min(7.0, (bottom - top) / len(bars))
    low, high = axis
    span = (high - low) or 1.0

    def to_x(value: float) -> float:
        return plot_left + (min(max(value, low), high) - low) / span * (plot_right - plot_left)

    pdf.set_draw_color(*COLOURS["light"])
    pdf.set_line_width(0.2)
    pdf.set_font(FONT, "", 6)
    pdf.set_text_color(*COLOURS["grey"])
    for value, text in ticks:
        pdf.line(to_x(value), top, to_x(value), top + row * len(bars))
        pdf.set_xy(to_x(value) - 8, top + row * len(bars) + 0.5)
        pdf.cell(16, 3, text, align="C")
    pdf.set_text_color(*COLOURS["text"])
    for index, bar in enumerate(bars):
        bar_top = top + index * row
        pdf.set_xy(x, bar_top)
        pdf.fitted(bar.label, label_width, 6.8)
        pdf.cell(label_width, row, bar.label)
        start = low if origin is None else origin
        for value, colour in bar.segments:
            pdf.set_fill_color(*COLOURS[colour])
            left, right = sorted((to_x(start), to_x(start + value)))
            if right - left > 0.05:
                pdf.rect(left, bar_top + row * 0.2, right - left, row * 0.6, style="F")
            start += value
        if bar.whisker:
            pdf.set_draw_color(*COLOURS["text"])
            pdf.set_line_width(0.3)
            middle = bar_top + row / 2
            a, b = to_x(bar.whisker[0]), to_x(bar.whisker[1])
            pdf.line(a, middle, b, middle)
            pdf.line(a, middle - 1.2, a, middle + 1.2)
            pdf.line(b, middle - 1.2, b, middle + 1.2)
        pdf.set_xy(plot_right + 1, bar_top)
        pdf.fitted(bar.text, value_width - 1, 6.8)
        pdf.cell(value_width - 1, row, bar.text, align="L")
    if reference is not None:
        value, text = reference
        pdf.set_draw_color(*COLOURS["red"])
        pdf.set_line_width(0.4)
        pdf.line(to_x(value), top - 1, to_x(value), top + row * len(bars))
        pdf.set_font(FONT, "", 6)
        pdf.set_text_color(*COLOURS["red"])
        pdf.set_xy(to_x(value) - 15, top - 4)
        pdf.cell(30, 3, text, align="C")
        pdf.set_text_color(*COLOURS["text"])


def _percent_ticks(low: float, high: float, lang: str, steps: int = 4) -> list[tuple[float, str]]:
    return [
        (low + (high - low) * step / steps, format_value(low + (high - low) * step / steps, "percent", lang))
        for step in range(steps + 1)
    ]


def _status_chart(pdf: PackPdf, data: ReviewData, x: float, y: float, width: float, height: float) -> None:
    counts = status_counts(data)
    lang = data.lang
    total = max([row["total"] for row in counts.iter_rows(named=True)] or [1]) or 1
    bars = [
        Bar(
            MEASURES[row["measure"]].label(lang),
            ((row["red"], "red"), (row["amber"], "amber")),
            f"{row['red']} + {row['amber']} / {row['total']}",
        )
        for row in counts.iter_rows(named=True)
    ]
    ticks = [(value, str(value)) for value in range(0, total + 1, max(1, total // 4))]
    hbar_chart(pdf, x, y, width, height, t("review_chart_status", lang), bars, (0, total), ticks)


def _uplift_chart(pdf: PackPdf, data: ReviewData, x: float, y: float, width: float, height: float) -> None:
    lang = data.lang
    frame = data.campaigns.get("campaign")
    rows = [row for row in frame.iter_rows(named=True) if row["uplift"] is not None] if frame is not None else []
    values = [value for row in rows for value in (row["ci_low"], row["ci_high"], 0.0)]
    low, high = (min(values), max(values)) if values else (0.0, 0.1)
    pad = (high - low) * 0.05 or 0.01
    bars = [
        Bar(
            row["name"],
            ((row["uplift"], "green" if row["ci_low"] > 0 else "grey"),),
            f"{format_number(row['uplift'] * 100, lang, 1)} {t('unit_pp', lang)}",
            (row["ci_low"], row["ci_high"]),
        )
        for row in rows
    ]
    axis = (min(low - pad, 0.0), high + pad)  # the bars grow from zero, which stays on the axis
    hbar_chart(
        pdf,
        x,
        y,
        width,
        height,
        t("review_chart_uplift", lang),
        bars,
        axis,
        _percent_ticks(axis[0], axis[1], lang),
        (0.0, "0") if axis[0] < 0 else None,
        origin=0.0,
    )


def _training_chart(pdf: PackPdf, data: ReviewData, x: float, y: float, width: float, height: float) -> None:
    lang = data.lang
    frame = data.training.get("staff_channel")
    bars = []
    for row in frame.iter_rows(named=True) if frame is not None else []:
        if row["csat"] is None:
            continue
        group = t("review_trained" if row["trained"] else "review_untrained", lang)
        channel = value_label("review_channel", row["staff_channel"], lang)
        bars.append(
            Bar(
                f"{channel} · {group}",
                ((row["csat"] - 1.0, "green" if row["trained"] else "grey"),),
                format_value(row["csat"], "score", lang),
            )
        )
    ticks = [(float(value), str(value)) for value in range(1, 6)]
    hbar_chart(pdf, x, y, width, height, t("review_chart_training", lang), bars, (1.0, 5.0), ticks, origin=1.0)


def _sla_chart(pdf: PackPdf, data: ReviewData, x: float, y: float, width: float, height: float) -> None:
    lang = data.lang
    target = data.target_of("sla_share")
    bars = [
        Bar(
            value_label("category", row["category"], lang),
            ((row["sla_share"], "green" if target is None or row["sla_share"] >= target else "red"),),
            format_value(row["sla_share"], "percent", lang),
        )
        for row in data.sla.iter_rows(named=True)
        if row["sla_share"] is not None
    ]
    reference = (target, f"{t('target', lang)} {format_value(target, 'percent', lang)}") if target else None
    hbar_chart(
        pdf, x, y, width, height, t("review_chart_sla", lang), bars, (0.0, 1.0), _percent_ticks(0, 1, lang), reference
    )


# --- pages ----------------------------------------------------------------------------------


def _findings(pdf: PackPdf, data: ReviewData) -> None:
    lang = data.lang
    pdf.section(t("review_findings", lang), t("review_findings_note", lang))
    if not data.findings:
        pdf.set_font(FONT, "", 8)
        pdf.cell(0, 5, t("review_findings_none", lang), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    for index, finding in enumerate(data.findings, start=1):
        text = finding_text(finding, data.options, lang)
        if pdf.room() < 10:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_fill_color(*COLOURS[KIND_COLOURS[finding.kind]])
        pdf.rect(MARGIN, y + 1.1, 2.2, 2.2, style="F")
        pdf.set_xy(MARGIN + 4, y)
        pdf.set_font(FONT, "B", 8)
        tag = f"{index}. {t(f'review_finding_{finding.kind}', lang)}: "
        pdf.cell(pdf.get_string_width(tag) + 0.5, 4.4, tag)
        pdf.set_font(FONT, "", 8)
        pdf.multi_cell(0, 4.4, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(0.8)


def _area_matrix(pdf: PackPdf, data: ReviewData) -> None:
    """Every area × every scorecard measure: the value, shaded by its status."""
    lang = data.lang
    if data.breakdown.is_empty():
        return
    pdf.add_page()
    note = t("review_matrix_note", lang)
    hidden = bool(data.breakdown["current_hidden"].any())  # only the period's values are drawn here
    pdf.section(t("review_breakdown", lang), f"{note} {small_cell_note(lang)}" if hidden else note)
    measures = data.scorecard["measure"].to_list()
    level_order = {"country": 0, "selection": 1, "macro_region": 2, "province_code": 3}
    regions = {region: position for position, region in enumerate(MACRO_REGIONS)}  # north to south
    areas = sorted(
        data.breakdown.select("level", "code", "area").unique().iter_rows(named=True),
        key=lambda area: (level_order[area["level"]], regions.get(area["code"], 0), area["code"]),
    )
    cells = {(row["level"], row["code"], row["measure"]): row for row in data.breakdown.iter_rows(named=True)}
    name_width = 38.0
    width = (pdf.w - 2 * MARGIN - name_width) / max(len(measures), 1)
    available = pdf.h - pdf.b_margin - pdf.get_y() - 13
    row_height = max(3.2, min(5.0, available / max(len(areas), 1)))
    x, y = MARGIN + name_width, pdf.get_y()
    pdf.set_font(FONT, "B", 6)
    for name in measures:
        pdf.set_fill_color(*COLOURS["light"])
        pdf.rect(x, y, width, 12, style="F")
        pdf.set_xy(x, y + 0.5)
        pdf.multi_cell(width, 2.7, MEASURES[name].label(lang), align="C")
        x += width
    y += 12
    for area in areas:
        if y + row_height > pdf.h - pdf.b_margin:
            pdf.add_page()
            y = pdf.get_y()
        bold = "B" if area["level"] != "province_code" else ""
        pdf.set_xy(MARGIN, y)
        pdf.fitted(area["area"], name_width, 6.5, bold)
        pdf.cell(name_width, row_height, area["area"])
        x = MARGIN + name_width
        for name in measures:
            row = cells.get((area["level"], area["code"], name))
            if row is not None:
                if row["status"] in LIGHT_STATUS:
                    pdf.set_fill_color(*LIGHT_STATUS[row["status"]])
                    pdf.rect(x + 0.2, y + 0.2, width - 0.4, row_height - 0.4, style="F")
                if row["current_hidden"]:  # a small cell (queries/disclosure.py)
                    text = small_cell_mark(lang)
                else:
                    text = format_value(row["current"], MEASURES[name].unit, lang, compact=True)
                pdf.set_xy(x, y)
                pdf.fitted(text, width, 6.2, bold)
                pdf.cell(width, row_height, text, align="R")
            x += width
        y += row_height


def _what_worked(pdf: PackPdf, data: ReviewData) -> None:
    lang = data.lang
    pdf.add_page()
    pdf.section(t("review_what_worked", lang))
    campaigns = campaign_tables(data)
    first = campaigns[0] if campaigns else None
    if first is not None:
        pdf.section(f"{t('review_campaigns', lang)} – {first.title.lower()}", t("review_uplift_note", lang))
        draw_table(pdf, first, wide={"name": 52})
    for table in [*campaigns[1:2], training_tables(data)[1], sla_table(data), care_table(data)]:
        pdf.section(table.title, table.note)
        draw_table(pdf, table)


def build_pdf(data: ReviewData, generated_at: datetime) -> bytes:
    """The PDF as bytes (nothing touches the disk)."""
    lang = data.lang
    pdf = PackPdf(data, generated_at)
    pdf.add_page()
    scorecard = scorecard_table(data)
    pdf.section(t("review_scorecard", lang))
    if scorecard.is_empty():
        pdf.set_font(FONT, "", 8)
        pdf.cell(0, 5, t("review_no_targets", lang), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        draw_table(pdf, scorecard, wide={"label": 62, "trend": 26}, row_height=6.4, extra=_sparkline)
    _findings(pdf, data)
    pdf.add_page()
    pdf.section(t("review_pack_key_charts", lang))
    top = pdf.get_y()
    half_width = (pdf.w - 2 * MARGIN - 8) / 2
    half_height = (pdf.h - pdf.b_margin - top - 4) / 2
    _status_chart(pdf, data, MARGIN, top, half_width, half_height)
    _uplift_chart(pdf, data, MARGIN + half_width + 8, top, half_width, half_height)
    _training_chart(pdf, data, MARGIN, top + half_height + 4, half_width, half_height)
    _sla_chart(pdf, data, MARGIN + half_width + 8, top + half_height + 4, half_width, half_height)
    _area_matrix(pdf, data)
    _what_worked(pdf, data)
    return bytes(pdf.output())
