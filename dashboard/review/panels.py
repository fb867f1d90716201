"""The Review page's sections, drawn from a ReviewData (dashboard/review/data.py).

Each function draws one section and captions it with the review's description; the
tables come from dashboard/review/tables.py, so the screen shows exactly what the pack
holds. Findings link to the page that shows them: the link's filters are put into the
sidebar (dashboard.frame.session.seed_widgets, the one writer of widget state) and the app
switches page, so the target opens on the finding's province and period.
"""

import time
from pathlib import Path
from urllib.parse import urlsplit

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard.access import audit
from dashboard.access.exports import audited
from dashboard.charts.axes import value_axis
from dashboard.charts.components import GOOD_COLOUR, style_figure
from dashboard.frame import session
from dashboard.frame.section import section
from dashboard.frame.url_state import to_params
from dashboard.frame.warehouse import run
from dashboard.review.data import ReviewData, known, period_label
from dashboard.review.findings import finding_text, page_title
from dashboard.review.tables import (
    ReviewTable,
    breakdown_table,
    campaign_tables,
    care_table,
    scorecard_table,
    shown_frame,
    sla_table,
    status_counts,
    training_tables,
)
from dashboard.review.targets_io import (
    csv_bytes,
    excel_bytes,
    problems_text,
    read_targets_file,
    replace_targets,
    targets_select,
)
from dashboard.text.formatting import count_text, format_month, format_month_range, format_number, now_local
from dashboard.text.strings import t
from queries.engine import resolve_url
from queries.metrics import MEASURES
from queries.review import REVIEW_KINDS
from queries.rules import RAG_AMBER_BAND, RAG_AMBER_BAND_POINTS

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"
KIND_KEY = "review_kind"
KIND_PARAM = "review"
DEFAULT_KIND = "month"
AMBER_COLOUR = "#F9AB00"
RED_COLOUR = "#D93025"
GREY_COLOUR = "#9AA0A6"


def period_choice(lang: str) -> str:
    """Month, quarter or year: from the link when the session starts, kept in the link."""
    rejected = session.seed_page_choice(KIND_KEY, KIND_PARAM, REVIEW_KINDS, DEFAULT_KIND)
    if rejected:
        st.warning(t("notice_ignored_params", lang, items=rejected))
    kind = st.radio(
        t("review_period", lang),
        REVIEW_KINDS,
        format_func=lambda value: t(f"review_kind_{value}", lang),
        key=KIND_KEY,
        horizontal=True,
        help=t("review_kind_help", lang),
    )
    session.remember_page_choice(KIND_PARAM, kind)
    return kind


def period_header(data: ReviewData) -> None:
    lang = data.lang
    st.markdown(
        t(
            "review_period_line",
            lang,
            period=f"**{data.period_label()}**",
            previous=period_label(data.period.previous, lang),
            last_year=period_label(data.period.last_year, lang),
        )
    )
    before_data = t("review_before_data", lang, month=format_month(data.options.months[0], lang))
    if not known(data.period, data.options):
        st.info(before_data)  # the reviewed period itself is (partly) before the data
    elif not known(data.period.previous, data.options) or not known(data.period.last_year, data.options):
        st.caption(before_data)


def _table(table: ReviewTable, data: ReviewData, key: str, column_config: dict | None = None) -> None:
    st.dataframe(shown_frame(table, data.lang), hide_index=True, key=key, column_config=column_config)
    if table.note:
        st.caption(table.note)
    st.caption(data.description)


def scorecard_panel(data: ReviewData) -> None:
    lang = data.lang
    st.subheader(t("review_scorecard", lang))
    table = scorecard_table(data)
    if table.is_empty():
        st.info(t("review_no_targets", lang))
        st.caption(data.description)
        return
    trend = next(column.label for column in table.columns if column.kind == "trend")
    _table(table, data, "review_scorecard", {trend: st.column_config.LineChartColumn(trend, width="small")})
    st.caption(
        t("rag_green", lang)
        + " · "
        + t("rag_amber", lang)
        + f" (≤ {format_number(RAG_AMBER_BAND * 100, lang)}% / {format_number(RAG_AMBER_BAND_POINTS, lang)} "
        + f"{t('unit_points', lang)}) · "
        + t("rag_red", lang)
    )


def status_figure(counts: pl.DataFrame, lang: str) -> go.Figure:
    """Stacked bars: provinces red and amber per measure, out of those with a target."""
    labels = [MEASURES[name].label(lang) for name in counts["measure"].to_list()]
    figure = go.Figure()
    for column, colour in (("red", RED_COLOUR), ("amber", AMBER_COLOUR)):
        figure.add_bar(
            y=labels,
            x=counts[column].to_list(),
            orientation="h",
            name=t(f"review_areas_{column}", lang),
            marker={"color": colour},
        )
    figure.update_layout(
        barmode="stack",
        title=t("review_chart_status", lang),
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h"},
    )
    return style_figure(figure, lang, height=80 + 34 * max(len(labels), 1))


@section
def breakdown_panel(data: ReviewData) -> None:
    lang = data.lang
    if data.breakdown.is_empty():
        return
    st.subheader(t("review_breakdown", lang))
    measures = data.scorecard["measure"].to_list()
    chosen = st.selectbox(
        t("review_breakdown_measure", lang),
        measures,
        format_func=lambda name: MEASURES[name].label(lang),
        key="review_breakdown_measure",
    )
    left, right = st.columns([3, 2], gap="large")
    with left:
        _table(breakdown_table(data, chosen), data, "review_breakdown")
    with right:
        counts = status_counts(data)
        if counts.height and counts["total"].sum():
            st.plotly_chart(status_figure(counts, lang), key="review_status_chart", config={"displaylogo": False})
            st.caption(data.description)


def uplift_figure(frame: pl.DataFrame, lang: str) -> go.Figure:
    """Each campaign's uplift with its 95% interval (error bars), in percentage points."""
    rows = [row for row in frame.iter_rows(named=True) if row["uplift"] is not None]
    figure = go.Figure(
        go.Bar(
            x=[row["uplift"] for row in rows],
            y=[row["name"] for row in rows],
            orientation="h",
            marker={"color": [GOOD_COLOUR if row["ci_low"] > 0 else GREY_COLOUR for row in rows]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [row["ci_high"] - row["uplift"] for row in rows],
                "arrayminus": [row["uplift"] - row["ci_low"] for row in rows],
            },
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    figure.update_layout(
        title=t("review_chart_uplift", lang),
        # the intervals count too: an uplift whose interval reaches below zero gets a negative side
        xaxis=value_axis("percent", [row[name] for row in rows for name in ("uplift", "ci_low", "ci_high")]),
        yaxis={"autorange": "reversed"},
    )
    return style_figure(figure, lang, height=90 + 40 * max(len(rows), 1))


def campaign_window_text(data: ReviewData) -> str:
    """The months whose targeted customers are counted: the 12-month window, or, when the data
    starts inside it, the months since the data starts (never months without data)."""
    window, lang = data.campaign_filters, data.lang
    first = data.options.months[0]
    if first <= window.start_month:
        start, end = format_month(window.start_month, lang), format_month(window.end_month, lang)
        return t("review_campaigns_window", lang, start=start, end=end)
    span = format_month_range(max(first, window.start_month), window.end_month, lang)
    return t("review_campaigns_window_data", lang, span=span)


def what_worked_panel(data: ReviewData) -> None:
    st.subheader(t("review_what_worked", data.lang))
    what_worked_tabs(data)


@section
def what_worked_tabs(data: ReviewData) -> None:
    """Campaigns, training, SLA, care: a tab is drawn when it is opened, and alone."""
    lang = data.lang
    campaigns, training, sla, care = st.tabs(
        [t("review_campaigns", lang), t("review_training", lang), t("review_sla", lang), t("review_care", lang)],
        key="review_what_worked",
        on_change="rerun",
    )
    if campaigns.open:
        with campaigns:
            campaigns_tab(data)
    if training.open:
        with training:
            for table in training_tables(data)[:2]:
                st.markdown(f"**{table.title}**")
                _table(table, data, f"review_{table.key}")
    if sla.open:
        with sla:
            _table(sla_table(data), data, "review_sla")
    if care.open:
        with care:
            _table(care_table(data), data, "review_care")


def campaigns_tab(data: ReviewData) -> None:
    lang = data.lang
    if data.campaign_filters is not None:
        st.caption(campaign_window_text(data))
    tables = campaign_tables(data)
    if not tables or tables[0].is_empty():
        st.info(t("review_campaigns_none", lang))
        return
    st.plotly_chart(uplift_figure(data.campaigns["campaign"], lang), key="review_uplift", config={"displaylogo": False})
    for table in tables:
        st.markdown(f"**{table.title}**")
        _table(table, data, f"review_{table.key}")
    st.caption(t("review_uplift_note", lang))


def _open_finding(filters) -> None:
    """Button callback: the finding's view goes into the sidebar before the next run draws it."""
    session.seed_widgets(filters)


def findings_panel(data: ReviewData) -> None:
    lang = data.lang
    st.subheader(t("review_findings", lang))
    st.caption(t("review_findings_note", lang))
    if not data.findings:
        st.markdown(t("review_findings_none", lang))
        st.caption(data.description)
        return
    for index, finding in enumerate(data.findings, start=1):
        text, button = st.columns([6, 1], vertical_alignment="center")
        tag = t(f"review_finding_{finding.kind}", lang)
        text.markdown(f"{index}. **{tag}:** {finding_text(finding, data.options, lang)}")
        clicked = button.button(
            t("review_open_page", lang, page=page_title(finding, lang)),
            key=f"review_finding_{index}",
            on_click=_open_finding,
            args=(finding.filters,),
            type="tertiary",
        )
        if clicked:
            st.switch_page(
                PAGES_DIR / finding.page / f"{finding.page}.py", query_params=to_params(finding.filters, lang)
            )
    st.caption(data.description)


def _pack_file(data: ReviewData, content: bytes, fmt: str, file_name: str, seconds: float):
    """The download's data: the file, and the audit line written when it is actually fetched."""
    scope = data.scope

    def fetch() -> bytes:
        audit.record(
            "pack_download",
            scope.user,
            filters=data.filters,
            description=data.description,
            detail={"role": scope.role, "format": fmt, "file": file_name, "build_seconds": round(seconds, 2)},
        )
        return content

    return fetch


def pack_panel(data: ReviewData, base_url: str = "") -> None:
    """One click builds both files; each download is audited (pack_download)."""
    # Loaded on the Review page only: fpdf alone takes about a second to import.
    from dashboard.review.pack_excel import build_workbook
    from dashboard.review.pack_pdf import build_pdf

    lang = data.lang
    st.subheader(t("review_pack", lang))
    st.caption(t("review_pack_help", lang))
    if not st.button(t("review_pack_build", lang), key="review_pack_build", type="primary"):
        return
    started = time.perf_counter()
    with st.spinner(t("review_pack_build", lang)):
        generated_at = now_local()
        pdf = build_pdf(data, generated_at)
        workbook = build_workbook(data, generated_at, base_url)
    seconds = time.perf_counter() - started
    stem = pack_file_stem(data)
    st.caption(t("review_pack_ready", lang, seconds=format_number(seconds, lang, 1)))
    left, right = st.columns(2)
    with left:
        st.download_button(
            t("review_pack_pdf", lang),
            data=_pack_file(data, pdf, "pdf", f"{stem}.pdf", seconds),
            file_name=f"{stem}.pdf",
            mime="application/pdf",
            key="review_pack_pdf",
            on_click="ignore",
        )
    with right:
        st.download_button(
            t("review_pack_excel", lang),
            data=_pack_file(data, workbook, "xlsx", f"{stem}.xlsx", seconds),
            file_name=f"{stem}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key="review_pack_xlsx",
            on_click="ignore",
        )


def pack_file_stem(data: ReviewData) -> str:
    """crm-review-2026-q3-vi: ASCII, the period and the language."""
    start = data.period.start_month
    period = {
        "month": f"{start:%Y-%m}",
        "quarter": f"{start.year}-q{(start.month - 1) // 3 + 1}",
        "year": f"{start.year}",
    }[data.period.kind]
    return f"crm-review-{period}-{data.lang}"


def app_base_url() -> str:
    """The app's address up to its pages ('http://host:8501/'), for absolute links in the pack."""
    try:
        url = st.context.url or ""
    except Exception:  # AppTest and bare runs have no browser context
        return ""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}{parts.path.rsplit('/', 1)[0]}/"


def targets_panel(view) -> None:
    """Administrators only: replace targets from a file, download the current ones."""
    if view.scope.role != "admin":
        return
    lang = view.lang
    with st.expander(t("review_targets", lang)):
        st.caption(t("review_targets_help", lang))
        upload = st.file_uploader(t("review_targets_upload", lang), type=["csv", "xlsx"], key="review_targets_file")
        if upload is not None and st.button(t("review_targets_apply", lang), key="review_targets_apply"):
            parsed = read_targets_file(upload.getvalue(), upload.name)
            if not parsed.ok:
                st.error(t("review_targets_rejected", lang))
                st.code(problems_text(parsed), language=None)
            else:
                replaced = replace_targets(resolve_url(), parsed)
                audit.record(
                    "targets_changed",
                    view.scope.user,
                    detail={
                        "role": view.scope.role,
                        "file": upload.name,
                        "rows": replaced.rows,
                        "months": replaced.months,
                        "provinces": replaced.provinces,
                    },
                )
                # Every cached figure (and the cached data version) may hold the old targets.
                st.cache_data.clear()
                st.success(
                    t(
                        "review_targets_done",
                        lang,
                        rows=count_text("n_rows", replaced.rows, lang),
                        months=count_text("n_months", replaced.months, lang),
                        provinces=count_text("n_areas", replaced.provinces, lang),
                    )
                )
        current = run(targets_select(), view.scope)
        left, right = st.columns(2)
        for column, fmt, label, make, mime in (
            (left, "csv", "review_targets_download_csv", csv_bytes, "text/csv"),
            (
                right,
                "xlsx",
                "review_targets_download_excel",
                excel_bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
        ):
            with column:
                st.download_button(
                    t(label, lang),
                    data=audited(
                        view,
                        lambda make=make: make(current),
                        fmt=fmt,
                        file_stem="kpi_targets",
                        rows=current.height,
                    ),
                    file_name=f"kpi_targets.{fmt}",
                    mime=mime,
                    key=f"review_targets_{fmt}",
                    on_click="ignore",
                )
