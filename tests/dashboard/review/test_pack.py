"""The meeting pack: both files open, hold the expected text (Vietnamese diacritics included),
numbers stay numbers in the workbook, every page says what it shows, nothing leaves the machine."""

import io
import socket
import time
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from dashboard.access import audit
from dashboard.frame.filter_options import load_filter_options
from dashboard.frame.filter_text import describe_filters
from dashboard.frame.session import View
from dashboard.review.data import load_review
from dashboard.review.pack_excel import build_workbook, number_format, sheet_name
from dashboard.review.pack_pdf import build_pdf
from dashboard.review.panels import _pack_file, pack_file_stem
from dashboard.text.formatting import format_value
from queries.filters import UNRESTRICTED, Filters
from queries.metrics import MEASURES

GENERATED = datetime(2026, 11, 24, 9, 30)
BUILD_SECONDS = 10.0


@pytest.fixture(scope="module")
def reviews(duck_url) -> dict:
    """The October 2026 review of the seeded warehouse, in both languages (loaded once)."""
    import os

    os.environ["WAREHOUSE_URL"] = duck_url
    try:
        options = load_filter_options(UNRESTRICTED)
        filters = Filters(date(2026, 10, 1), date(2026, 10, 1))
        return {
            lang: load_review(
                View(filters, UNRESTRICTED, lang, options, describe_filters(filters, options, lang, UNRESTRICTED)),
                "month",
            )
            for lang in ("vi", "en")
        }
    finally:
        del os.environ["WAREHOUSE_URL"]


@pytest.fixture()
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the pack tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_the_pdf_opens_and_reads_back_in_vietnamese(reviews, offline):
    data = reviews["vi"]
    started = time.perf_counter()
    content = build_pdf(data, GENERATED)
    assert time.perf_counter() - started < BUILD_SECONDS
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    assert reader.metadata.title == "Đánh giá hiệu quả CRM định kỳ — T10/2026"
    fonts = {
        font["/BaseFont"]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
        if "/BaseFont" in font.get_object()
    }
    assert any("DejaVuSans" in str(name) for name in fonts), fonts  # embedded, not a viewer's substitute
    pages = pdf_pages(content)
    assert len(pages) >= 4
    for number, text in enumerate(pages, start=1):  # every page: period, filters, freshness, page number
        assert "Đánh giá hiệu quả CRM định kỳ — T10/2026" in text, number
        assert "Toàn quốc · T10/2026 so với T9/2026 và T10/2025" in text, number
        assert "Dữ liệu đến hết 31/10/2026" in text and "Lập lúc 24/11/2026 09:30" in text, number
        assert f"Trang {number}/{len(pages)}" in text, number
    whole = "\n".join(pages)
    for expected in ("Bảng điểm so với mục tiêu", "Phát hiện chính", "Biểu đồ chính", "Theo miền và tỉnh/thành"):
        assert expected in whole, expected
    for province in ("Thanh Hóa", "Đà Nẵng", "Hồ Chí Minh", "Đắk Lắk"):
        assert province in whole, province
    active = data.scorecard.filter(data.scorecard["measure"] == "active_customers")["current"][0]
    assert format_value(active, "count", "vi") in whole  # 1.234 style, the locale's
    churn = MEASURES["churn_rate"].label("vi")
    assert churn in whole and "Tỷ lệ khiếu nại" in whole


def test_the_english_pdf_uses_english_names_and_formats(reviews, offline):
    pages = pdf_pages(build_pdf(reviews["en"], GENERATED))
    assert all("Periodic CRM effectiveness review — Oct 2026" in text for text in pages)
    assert all("Data through 31/10/2026" in text for text in pages)
    whole = "\n".join(pages)
    assert "Scorecard against targets" in whole and "Thanh Hoa" in whole and "Page 1 of" in whole


def test_the_workbook_keeps_numbers_as_numbers(reviews, offline):
    data = reviews["vi"]
    started = time.perf_counter()
    content = build_workbook(data, GENERATED, base_url="http://localhost:8501/")
    assert time.perf_counter() - started < BUILD_SECONDS
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == [
        "Thông tin",
        "Bảng điểm so với mục tiêu",
        "Theo miền và tỉnh-thành",
        "Chiến dịch giữ chân",
        "Đào tạo nhân viên",
        "Xử lý khiếu nại so với SLA",
        "Kênh chăm sóc khách hàng",
        "Phát hiện chính",
    ]
    for sheet in book.worksheets:  # every sheet says what it shows
        assert sheet["A1"].value == "Đánh giá hiệu quả CRM định kỳ — T10/2026", sheet.title
        assert sheet["A2"].value == "Toàn quốc · T10/2026 so với T9/2026 và T10/2025", sheet.title
        assert "Dữ liệu đến hết 31/10/2026" in sheet["A4"].value, sheet.title
    scorecard = book["Bảng điểm so với mục tiêu"]
    header = [cell.value for cell in scorecard[7]]
    assert header[:5] == ["Chỉ số", "Thực hiện", "Mục tiêu", "Chênh lệch với mục tiêu", "Đánh giá"]
    rows = {row[0].value: row for row in scorecard.iter_rows(min_row=8, max_row=7 + data.scorecard.height)}
    for record in data.scorecard.iter_rows(named=True):
        measure = MEASURES[record["measure"]]
        cells = rows[measure.label("vi")]
        assert isinstance(cells[1].value, int | float) and cells[1].value == pytest.approx(record["current"])
        assert cells[1].number_format == number_format(measure.unit, "vi")
        assert cells[2].value == pytest.approx(record["target"])
        assert cells[3].value == pytest.approx(record["current"] - record["target"])
    assert rows["Tỷ lệ rời mạng tháng"][1].number_format == "0.0%"
    assert rows[MEASURES["arpu"].label("vi")][1].number_format == '#,##0 "₫"'
    findings = book["Phát hiện chính"]
    assert findings["E8"].value == "Đường dẫn"  # title, note, then the header
    links = [row[4].value for row in findings.iter_rows(min_row=9) if row[4].value]
    assert len(links) == len(data.findings) and all(link.startswith("http://localhost:8501/") for link in links)
    assert findings["E9"].hyperlink.target == links[0]  # a link Excel opens
    english = load_workbook(io.BytesIO(build_workbook(reviews["en"], GENERATED)))
    assert english.sheetnames[1] == "Scorecard against targets"
    arpu = next(
        row for row in english["Scorecard against targets"].iter_rows(min_row=8) if row[0].value.startswith("ARPU")
    )
    assert arpu[1].number_format == '"₫"#,##0'


def test_sheet_names_are_valid():
    assert sheet_name("Theo miền và tỉnh/thành") == "Theo miền và tỉnh-thành"
    assert len(sheet_name("x" * 40)) == 31


def test_a_download_is_audited(reviews, demo_users, tmp_path):
    data = reviews["vi"]
    fetch = _pack_file(data, b"%PDF-1.7 test", "pdf", f"{pack_file_stem(data)}.pdf", 1.5)
    assert audit.read_events() == []  # nothing until the file is actually fetched
    assert fetch() == b"%PDF-1.7 test"
    (event,) = audit.read_events()
    assert event["event"] == "pack_download"
    assert event["detail"]["file"] == "crm-review-2026-10-vi.pdf"
    assert event["filters"]["start_month"] == "2026-10-01"
    assert event["description"] == data.description
