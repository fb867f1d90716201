"""The review's tables, described once and drawn three ways: on the page, in the PDF, in Excel.

A ReviewTable holds raw rows (fractions, VND, counts: what ReviewData holds) and columns
that say how to read each value. The page and the PDF turn a cell into text with
`cell_text` (Babel, the chosen language); the workbook writes the raw number with a
number format for its unit (dashboard/review/pack_excel.py). So the three never disagree.

Column kinds:
  text      a label;
  value     a number in `unit`, or in the row's own unit (row["unit"]) when unit is None;
  delta     row[pair[0]] − row[pair[1]], in the unit (counts and money read as % on screen);
  pp        a difference of two rates, in percentage points (uplift);
  interval  row[pair[0]] … row[pair[1]] in `unit` ("pp" for an uplift's interval);
  status    green/amber/red → "Đạt mục tiêu" …;
  trend     a list of values (sparkline; the workbook leaves it out).

A value the small-cell protection hid (row["<key>_hidden"], queries/disclosure.py) reads
"ẩn (< 10)" in all three, and so does a difference made from it; the table's note says why.
"""

from dataclasses import dataclass

import polars as pl

from dashboard.charts.components import delta_text
from dashboard.review.data import ReviewData
from dashboard.review.findings import finding_link, finding_text, page_title
from dashboard.text.formatting import MISSING, format_delta, format_number, format_value
from dashboard.text.strings import t, value_label
from queries.disclosure import HIDDEN, MIN_UNITS
from queries.metrics import MEASURES
from queries.review import SPARK_PERIODS


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    unit: str | None = None
    pair: tuple[str, str] | None = None


@dataclass(frozen=True)
class ReviewTable:
    key: str  # stable name: sheet order, file stems, widget keys
    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict, ...]
    note: str = ""

    def is_empty(self) -> bool:
        return not self.rows


def _unit(column: Column, row: dict) -> str:
    return column.unit or row.get("unit") or "count"


def _pp(value: float | None, lang: str) -> str:
    return MISSING if value is None else f"{format_number(value * 100, lang, 1)} {t('unit_pp', lang)}"


def is_hidden(column: Column, row: dict) -> bool:
    """The cell shows a value (or a difference of values) hidden as a small cell."""
    if column.kind not in ("value", "delta", "interval", "pp"):
        return False
    keys = column.pair if column.kind in ("delta", "interval") and column.pair else (column.key,)
    return any(row.get(f"{key}_{HIDDEN}") for key in keys)


def small_cell_mark(lang: str) -> str:
    return t("small_cell_mark", lang, k=MIN_UNITS)


def small_cell_note(lang: str) -> str:
    return t("small_cell_note", lang, k=MIN_UNITS)


def cell_text(column: Column, row: dict, lang: str) -> str:
    """What a reader sees in one cell, in the chosen language."""
    if is_hidden(column, row):
        return small_cell_mark(lang)
    value = row.get(column.key)
    if column.kind == "text":
        return "" if value is None else str(value)
    if column.kind == "status":
        return t(f"rag_{value}", lang) if value else ""
    if column.kind == "pp":
        return _pp(value, lang)
    if column.kind == "interval":
        low, high = (row.get(key) for key in column.pair)
        if low is None or high is None:
            return MISSING
        if column.unit == "pp":
            return f"{format_number(low * 100, lang, 1)} – {_pp(high, lang)}"
        unit = _unit(column, row)
        return f"{format_value(low, unit, lang)} – {format_value(high, unit, lang)}"
    if column.kind == "delta":
        current, reference = (row.get(key) for key in column.pair)
        if "measure" in row and column.unit is None:
            return delta_text(MEASURES[row["measure"]], current, reference, lang) or MISSING
        return format_delta(current, reference, _unit(column, row), lang) or MISSING
    if column.kind == "trend":
        return ""
    return format_value(value, _unit(column, row), lang)


def shown_frame(table: ReviewTable, lang: str, *, trend_as_list: bool = True) -> pl.DataFrame:
    """The table as text for st.dataframe (a trend column stays a list for a sparkline)."""
    data = {}
    for column in table.columns:
        if column.kind == "trend":
            if trend_as_list:
                data[column.label] = pl.Series(
                    column.label, [list(row.get(column.key) or []) for row in table.rows], dtype=pl.List(pl.Float64)
                )
            continue
        data[column.label] = pl.Series(column.label, [cell_text(column, row, lang) for row in table.rows], pl.String)
    return pl.DataFrame(data)


# --- the tables -----------------------------------------------------------------------------


def scorecard_table(data: ReviewData) -> ReviewTable:
    lang = data.lang
    rows = []
    for row in data.scorecard.iter_rows(named=True):
        measure = MEASURES[row["measure"]]
        rows.append({**row, "label": measure.label(lang), "unit": measure.unit})
    columns = (
        Column("label", t("indicator", lang)),
        Column("current", t("review_actual", lang), "value"),
        Column("target", t("target", lang), "value"),
        Column("gap", t("review_gap", lang), "delta", pair=("current", "target")),
        Column("status", t("review_status", lang), "status"),
        Column("previous", t("review_previous", lang), "value"),
        Column("vs_previous", t("review_vs_previous", lang), "delta", pair=("current", "previous")),
        Column("last_year", t("review_last_year", lang), "value"),
        Column("vs_last_year", t("review_vs_last_year", lang), "delta", pair=("current", "last_year")),
        Column("trend", t("review_trend", lang, count=SPARK_PERIODS), "trend"),
    )
    return ReviewTable("scorecard", t("review_scorecard", lang), columns, tuple(rows))


LEVEL_ORDER = {"country": 0, "selection": 1, "macro_region": 2, "province_code": 3}
STATUS_ORDER = {"red": 0, "amber": 1, "green": 2}


def breakdown_table(data: ReviewData, measure: str | None = None) -> ReviewTable:
    """Country, selection, regions and provinces; all measures, or one."""
    lang = data.lang
    rows = []
    frame = data.breakdown if measure is None else data.breakdown.filter(pl.col("measure") == measure)
    order = {name: position for position, name in enumerate(data.scorecard["measure"].to_list())}
    for row in frame.iter_rows(named=True):
        info = MEASURES[row["measure"]]
        rows.append(
            {
                **row,
                "label": info.label(lang),
                "unit": info.unit,
                "level_label": t(f"review_level_{row['level']}", lang),
            }
        )
    rows.sort(
        key=lambda row: (
            order.get(row["measure"], 99),
            LEVEL_ORDER[row["level"]],
            STATUS_ORDER.get(row["status"], 3) if row["level"] == "province_code" else 0,
            row["area"],
        )
    )
    columns = (
        Column("label", t("indicator", lang)),
        Column("level_label", t("review_level", lang)),
        Column("area", t("review_area", lang)),
        Column("current", t("review_actual", lang), "value"),
        Column("target", t("target", lang), "value"),
        Column("gap", t("review_gap", lang), "delta", pair=("current", "target")),
        Column("status", t("review_status", lang), "status"),
        Column("previous", t("review_previous", lang), "value"),
        Column("vs_previous", t("review_vs_previous", lang), "delta", pair=("current", "previous")),
        Column("last_year", t("review_last_year", lang), "value"),
    )
    if measure is not None:
        columns = columns[1:]
    hidden = any(is_hidden(column, row) for row in rows for column in columns)
    note = small_cell_note(lang) if hidden else ""
    return ReviewTable("breakdown", t("review_breakdown", lang), columns, tuple(rows), note)


def status_counts(data: ReviewData) -> pl.DataFrame:
    """Per scorecard measure: provinces (or regions, when no province row) red, amber, with a target."""
    if data.breakdown.is_empty():
        return pl.DataFrame(schema={"measure": pl.String, "red": pl.Int64, "amber": pl.Int64, "total": pl.Int64})
    areas = data.breakdown.filter(pl.col("level") == "province_code")
    counts = areas.group_by("measure").agg(
        (pl.col("status") == "red").sum().cast(pl.Int64).alias("red"),
        (pl.col("status") == "amber").sum().cast(pl.Int64).alias("amber"),
        pl.col("status").is_not_null().sum().cast(pl.Int64).alias("total"),
    )
    order = data.scorecard.select("measure").with_row_index("_order")
    return order.join(counts, on="measure", how="left").sort("_order").drop("_order").fill_null(0)


def status_table(data: ReviewData) -> ReviewTable:
    lang = data.lang
    rows = tuple(
        {**row, "label": MEASURES[row["measure"]].label(lang)} for row in status_counts(data).iter_rows(named=True)
    )
    columns = (
        Column("label", t("indicator", lang)),
        Column("red", t("review_areas_red", lang), "value", "count"),
        Column("amber", t("review_areas_amber", lang), "value", "count"),
        Column("total", t("review_areas_total", lang), "value", "count"),
    )
    return ReviewTable("status", t("review_off_target_summary", lang), columns, rows)


def _offer(value: str, lang: str) -> str:
    return value_label("review_offer", value, lang)


def campaign_tables(data: ReviewData) -> list[ReviewTable]:
    lang = data.lang
    outcome = {True: t("review_outcome_final", lang), False: t("review_outcome_pending", lang)}
    common = (
        Column("contacted_n", t("review_contacted", lang), "value", "count"),
        Column("control_n", t("review_control", lang), "value", "count"),
        Column("contacted_rate", t("review_churn_contacted", lang), "value", "percent"),
        Column("control_rate", t("review_churn_control", lang), "value", "percent"),
        Column("uplift", t("review_uplift", lang), "pp"),
        Column("ci", t("review_ci", lang), "interval", "pp", ("ci_low", "ci_high")),
        Column("kept", t("review_kept", lang), "value", "count"),
        Column(
            "kept_ci",
            t("review_kept_ci", lang),
            "interval",
            "count",
            ("kept_low", "kept_high"),
        ),
        Column("outcome", t("review_outcome", lang)),
    )
    heads = {
        "campaign": (
            Column("name", t("review_campaign", lang)),
            Column("offer_label", t("review_offer", lang)),
            Column("segment_label", t("segment", lang)),
        ),
        "offer": (Column("offer_label", t("review_offer", lang)),),
        "segment": (Column("segment_label", t("segment", lang)),),
        "total": (Column("name", t("review_group", lang)),),
    }
    titles = {
        "campaign": t("review_by_campaign", lang),
        "offer": t("review_by_offer", lang),
        "segment": t("review_by_segment", lang),
        "total": t("review_total", lang),
    }
    tables = []
    for grouping, frame in data.campaigns.items():
        rows = []
        for row in frame.iter_rows(named=True):
            segment = row.get("segment") or row.get("target_segment")
            rows.append(
                {
                    **row,
                    "name": row.get("name") or t("review_total", lang),
                    "offer_label": _offer(row["offer"], lang) if row.get("offer") else "",
                    "segment_label": value_label("segment", segment, lang) if segment else "",
                    "outcome": outcome[bool(row["outcome_complete"])],
                }
            )
        tables.append(ReviewTable(f"campaigns_{grouping}", titles[grouping], heads[grouping] + common, tuple(rows)))
    return tables


def _outcome_columns(lang: str) -> tuple[Column, ...]:
    return (
        Column("resolved", t("review_resolved", lang), "value", "count"),
        Column("csat", t("review_csat", lang), "value", "score"),
        Column("csat_n", t("review_csat_n", lang), "value", "count"),
        Column("resolve_median_h", t("review_resolve_median", lang), "value", "hours"),
        Column("sla_share", t("review_sla_share", lang), "value", "percent"),
        Column("reopened_rate", t("review_reopened", lang), "value", "percent"),
    )


def training_tables(data: ReviewData) -> list[ReviewTable]:
    lang = data.lang
    trained = {True: t("review_trained", lang), False: t("review_untrained", lang)}
    tables = []
    heads = {
        "total": (),
        "staff_channel": (Column("channel_label", t("review_staff_channel", lang)),),
        "province_code": (Column("province", t("province", lang)),),
    }
    titles = {
        "total": t("review_training", lang),
        "staff_channel": f"{t('review_training', lang)} – {t('review_staff_channel', lang).lower()}",
        "province_code": f"{t('review_training', lang)} – {t('province', lang).lower()}",
    }
    for name, frame in data.training.items():
        rows = []
        for row in frame.iter_rows(named=True):
            province = data.options.province(row["province_code"]) if row.get("province_code") else None
            rows.append(
                {
                    **row,
                    "group": trained[bool(row["trained"])],
                    "channel_label": value_label("review_channel", row.get("staff_channel") or "", lang),
                    "province": province.name(lang) if province else row.get("province_code") or "",
                }
            )
        columns = (*heads[name], Column("group", t("review_group", lang)), *_outcome_columns(lang))
        tables.append(
            ReviewTable(f"training_{name}", titles[name], columns, tuple(rows), t("review_training_note", lang))
        )
    return tables


def sla_table(data: ReviewData) -> ReviewTable:
    lang = data.lang
    target = data.target_of("sla_share")
    rows = []
    for row in data.sla.iter_rows(named=True):
        rows.append(
            {
                **row,
                "category_label": value_label("category", row["category"], lang),
                "target": target,
                "status": None
                if target is None or row["sla_share"] is None
                else ("green" if row["sla_share"] >= target else "red"),
            }
        )
    columns = (
        Column("category_label", t("review_category", lang)),
        Column("resolved", t("review_resolved", lang), "value", "count"),
        Column("sla_share", t("review_sla_share", lang), "value", "percent"),
        Column("target", t("target", lang), "value", "percent"),
        Column("status", t("review_status", lang), "status"),
        Column("resolve_median_h", t("review_resolve_median", lang), "value", "hours"),
        Column("resolve_p90_h", t("review_resolve_p90", lang), "value", "hours"),
        Column("sla_hours_median", t("review_sla_hours", lang), "value", "hours"),
        Column("reopened_rate", t("review_reopened", lang), "value", "percent"),
        Column("csat", t("review_csat", lang), "value", "score"),
    )
    note = t("review_sla_target", lang, target=format_value(target, "percent", lang)) if target is not None else ""
    return ReviewTable("sla", t("review_sla", lang), columns, tuple(rows), note)


def care_table(data: ReviewData) -> ReviewTable:
    lang = data.lang
    target = data.target_of("call_answer_rate")
    current = data.care.filter(pl.col("period") == "current") if data.care.height else data.care
    previous = (
        {row["channel"]: row for row in data.care.filter(pl.col("period") == "previous").iter_rows(named=True)}
        if data.care.height
        else {}
    )
    rows = []
    for row in current.iter_rows(named=True) if current.height else []:
        before = previous.get(row["channel"], {})
        answer = row["answer_rate"]
        rows.append(
            {
                **row,
                "channel_label": value_label("review_channel", row["channel"], lang),
                "offered_previous": before.get("offered"),
                "target": target if answer is not None else None,
                "status": None if answer is None or target is None else ("green" if answer >= target else "red"),
            }
        )
    columns = (
        Column("channel_label", t("review_channel", lang)),
        Column("offered", t("review_offered", lang), "value", "count"),
        Column("offered_previous", t("review_previous", lang), "value", "count"),
        Column("offered_change", t("review_vs_previous", lang), "delta", "count", ("offered", "offered_previous")),
        Column("handled_share", t("review_handled_share", lang), "value", "percent"),
        Column("answer_rate", t("review_answer_rate", lang), "value", "percent"),
        Column("target", t("target", lang), "value", "percent"),
        Column("status", t("review_status", lang), "status"),
        Column("handle_time_s", t("review_handle_time", lang), "value", "seconds"),
    )
    return ReviewTable("care", t("review_care", lang), columns, tuple(rows), t("review_care_note", lang))


def findings_table(data: ReviewData, base_url: str = "") -> ReviewTable:
    lang = data.lang
    rows = tuple(
        {
            "rank": index,
            "kind": t(f"review_finding_{finding.kind}", lang),
            "text": finding_text(finding, data.options, lang),
            "page": page_title(finding, lang),
            "link": base_url + finding_link(finding, lang),
        }
        for index, finding in enumerate(data.findings, start=1)
    )
    columns = (
        Column("rank", t("review_pack_rank", lang), "value", "count"),
        Column("kind", t("review_pack_kind", lang)),
        Column("text", t("review_pack_finding", lang)),
        Column("page", t("review_pack_page_name", lang)),
        Column("link", t("review_pack_link", lang)),
    )
    return ReviewTable("findings", t("review_findings", lang), columns, rows, t("review_findings_note", lang))
