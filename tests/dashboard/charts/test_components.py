"""Shared drawing blocks, tested through the figures and frames they build (AppTest has no
chart accessors): arrows and colours by direction, RAG marks, the offline map, downloads,
and the "what changed" ranking and sentences."""

import io
from datetime import date

import openpyxl
import plotly.graph_objects as go
import polars as pl
import pytest

from dashboard.charts.components import (
    KpiCard,
    bar_figure,
    card_value,
    csv_bytes,
    delta_style,
    delta_text,
    excel_bytes,
    kpi_frames,
    rag_status,
    trend_figure,
)
from dashboard.charts.province_map import colour_scale, map_figure, selected_codes
from dashboard.charts.what_changed import rank_movements, sentences
from dashboard.frame.filter_options import FilterOptions, ProvinceOption, month_range
from queries.metrics import MEASURES

OPTIONS = FilterOptions(
    months=month_range(date(2023, 11, 1), date(2026, 10, 1)),
    provinces=(
        ProvinceOption("01", "Hà Nội", "Hanoi", "Bắc", 21.0, 105.7),
        ProvinceOption("48", "Đà Nẵng", "Da Nang", "Trung", 16.0, 108.1),
        ProvinceOption("79", "Hồ Chí Minh", "Ho Chi Minh", "Nam", 10.8, 106.7),
    ),
    data_through=date(2026, 10, 31),
)


@pytest.mark.parametrize(
    ("value", "previous", "direction", "expected"),
    [
        (110, 100, 1, ("up", "green")),  # more customers: good
        (90, 100, 1, ("down", "red")),
        (0.03, 0.02, -1, ("up", "red")),  # churn up: bad
        (0.01, 0.02, -1, ("down", "green")),
        (5, 4, 0, ("up", "gray")),  # neutral measure
        (5, 5, 1, ("off", "gray")),
        (5, None, 1, ("off", "gray")),
    ],
)
def test_delta_arrow_and_colour_follow_the_measure_direction(value, previous, direction, expected):
    assert delta_style(value, previous, direction) == expected


@pytest.mark.parametrize(
    ("value", "target", "direction", "unit", "expected"),
    [
        (0.021, 0.025, -1, "percent", "green"),  # churn under target
        (0.0255, 0.025, -1, "percent", "amber"),  # within 5% of the target
        (0.030, 0.025, -1, "percent", "red"),
        (0.90, 0.85, 1, "percent", "green"),
        (0.83, 0.85, 1, "percent", "amber"),
        (0.70, 0.85, 1, "percent", "red"),
        (28.0, 30.0, 1, "points", "amber"),  # NPS: a band in points, not in %
        (20.0, 30.0, 1, "points", "red"),
        (1.0, None, 1, "count", None),
        (None, 1.0, 1, "count", None),
    ],
)
def test_rag_against_target(value, target, direction, unit, expected):
    assert rag_status(value, target, direction, unit) == expected


def test_net_adds_change_in_customers_not_percent():
    assert delta_text(MEASURES["net_adds"], 32, 11, "vi") == "+21"
    assert delta_text(MEASURES["active_customers"], 110, 100, "vi") == "+10,0%"


def test_big_money_on_a_card_is_compact():
    assert card_value(1_400_000_000, "vnd", "vi") == "1,4 tỷ\u00a0₫"
    assert card_value(126_001, "vnd", "vi") == "126.001\u00a0₫"
    assert card_value(10_717, "count", "vi") == "10.717"


def test_trend_and_bar_figures_are_labelled_from_the_registry():
    months = pl.DataFrame({"month": [date(2026, 9, 1), date(2026, 10, 1)], "value": [0.021, 0.027]})
    figure = trend_figure(months, MEASURES["churn_rate"], "vi")
    assert figure.layout.title.text == "Tỷ lệ rời mạng tháng"
    assert figure.layout.separators == ",."
    assert list(figure.data[0].text) == ["T9/2026", "T10/2026"]
    assert list(figure.data[0].customdata) == ["2,1%", "2,7%"]
    bars = bar_figure(
        pl.DataFrame({"segment": ["Cá nhân", "Doanh nghiệp"], "value": [5.0, 9.0]}),
        MEASURES["revenue"],
        "en",
        "segment",
        "Segment",
    )
    assert bars.layout.title.text == "Revenue by segment"
    assert list(bars.data[0].y) == ["Doanh nghiệp", "Cá nhân"]  # largest first


def test_map_is_drawn_offline_on_plain_axes():
    frame = pl.DataFrame(
        {"province_code": ["01", "48", "79"], "value": [0.02, None, 0.03], "size": [100.0, 10.0, 120.0]}
    )
    figure = map_figure(frame, MEASURES["churn_rate"], OPTIONS, "vi", selected=("79",))
    assert {type(trace) for trace in figure.data} == {go.Scatter}  # no scattergeo/choropleth/mapbox
    spec = figure.to_json()
    for online in ("geo", "mapbox", "topojson", "http://", "https://"):
        assert f'"{online}' not in spec and f"{online}" not in figure.layout.to_plotly_json()
    bubbles = figure.data[0]
    assert list(bubbles.x) == [105.7, 108.1, 106.7] and list(bubbles.y) == [21.0, 16.0, 10.8]
    assert [point[0] for point in bubbles.customdata] == ["01", "48", "79"]
    assert figure.layout.yaxis.scaleanchor == "x"  # equal ground scale: the S shape stays an S
    assert list(bubbles.marker.line.width) == [0.5, 0.5, 3]  # the chosen province is outlined
    assert bubbles.marker.size[2] > bubbles.marker.size[1]  # size follows the customers
    assert colour_scale(-1)[0][1] == "#1E8E3E"  # low churn is green


def test_a_click_on_the_map_yields_province_codes():
    points = [{"customdata": ["79"], "point_index": 2}, {"customdata": ["79"]}, {"x": 1}]
    assert selected_codes(points) == ("79",)


def test_downloads_keep_vietnamese_text_and_numbers():
    frame = pl.DataFrame({"Tỉnh": ["Hà Nội", "Hồ Chí Minh"], "value": [1234567.0, 2.5]})
    text = csv_bytes(frame)
    assert text.startswith("\ufeff".encode())
    assert "Hà Nội" in text.decode("utf-8-sig")
    book = openpyxl.load_workbook(io.BytesIO(excel_bytes(frame, "tổng quan")))
    sheet = book.active
    assert [cell.value for cell in sheet[2]] == ["Hà Nội", 1234567]


def test_kpi_table_reads_formatted_and_downloads_raw():
    cards = [KpiCard(MEASURES["churn_rate"], 0.027, 0.025, 0.025, (0.02, 0.027))]
    shown, raw = kpi_frames(cards, "vi")
    assert shown.row(0) == ("Tỷ lệ rời mạng tháng", "2,7%", "2,5%", "+0,2 điểm %", "2,5%", "Chưa đạt mục tiêu")
    assert raw.row(0)[3:5] == (0.027, 0.025)


CHANGES = pl.DataFrame(
    {
        "measure": ["revenue"] * 3 + ["churn_rate"] * 5,
        "dimension": ["province_code"] * 6 + ["segment"] * 2,
        "member": ["01", "48", "79", "01", "48", "79", "enterprise", "individual"],
        "current_value": [90.0, 50.0, 300.0, 0.020, 0.090, 0.021, 0.010, 0.020],
        "comparison_value": [100.0, 50.0, 290.0, 0.020, 0.010, 0.020, 0.011, 0.020],
        # Đà Nẵng's churn jumps, but on 20 customers: noise, not news.
        "comparison_base": [None, None, None, 1000.0, 20.0, 3000.0, 800.0, 9200.0],
    }
)


def test_what_changed_ranks_by_share_of_the_national_figure():
    moves = rank_movements(CHANGES, MEASURES)
    assert [(move.measure, move.member) for move in moves] == [
        ("churn_rate", "79"),  # +0.1 pp of a 2.0% national rate, on 3/4 of the base: 3.75%
        ("revenue", "01"),  # −10 of 440: 2.3% of national revenue
        ("revenue", "79"),  # +10 of 440
        ("churn_rate", "enterprise"),  # −0.1 pp of 1.9%, on 8% of the base: 0.4%
    ]
    assert all(move.member != "48" for move in moves)


def test_what_changed_speaks_both_languages():
    vi = sentences(CHANGES, MEASURES, OPTIONS, "vi")
    en = sentences(CHANGES, MEASURES, OPTIONS, "en")
    assert vi[0] == "Tỷ lệ rời mạng tháng tại Hồ Chí Minh tăng từ 2,0% lên 2,1% (+0,1 điểm %)."
    assert vi[1] == "Doanh thu tại Hà Nội giảm từ 100\u00a0₫ xuống 90\u00a0₫ (-10,0%)."
    assert en[1] == "Revenue in Hanoi fell from ₫100 to ₫90 (-10.0%)."
    assert en[3] == "Monthly churn rate for Enterprise customers fell from 1.1% to 1.0% (-0.1 pp)."
    assert rank_movements(CHANGES.clear(), MEASURES) == []


def test_tiny_counts_are_not_news():
    tiny = pl.DataFrame(
        {
            "measure": ["open_complaints", "open_complaints"],
            "dimension": ["segment", "segment"],
            "member": ["individual", "enterprise"],
            "current_value": [2.0, 1.0],
            "comparison_value": [3.0, 0.0],
            "comparison_base": [None, None],
        }
    )
    assert rank_movements(tiny, MEASURES) == []
    assert len(rank_movements(tiny.with_columns(pl.col("comparison_value") * 100), MEASURES)) == 2
