"""The Review page in a real browser: one click builds the meeting pack, both files download,
open and read back in Vietnamese, and no request leaves the machine."""

import io
import json

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.e2e.conftest import open_as
from tests.e2e.test_browser import assert_no_error, assert_only_local_requests, wait_until_drawn, wait_until_idle

pytestmark = pytest.mark.e2e

LOAD_MS = 60_000


def test_the_pack_downloads_both_files(page, app_url, screenshots_dir, e2e_var_dir, tmp_path):
    open_as(page, f"{app_url}/review?lang=vi&review=month")
    wait_until_drawn(page, "review")
    assert_no_error(page)
    page.get_by_text("Bảng điểm so với mục tiêu").first.wait_for(timeout=LOAD_MS)
    page.get_by_role("button", name="Tạo tài liệu họp (PDF + Excel)").click()
    pdf_button = page.get_by_role("button", name="Tải PDF")
    pdf_button.wait_for(timeout=LOAD_MS)
    wait_until_idle(page)
    assert page.get_by_text("Đã tạo trong").count() == 1

    files = {}
    for name, suffix in (("Tải PDF", "pdf"), ("Tải Excel", "xlsx")):
        with page.expect_download(timeout=LOAD_MS) as download:
            page.get_by_role("button", name=name).click()
        target = tmp_path / f"pack.{suffix}"
        download.value.save_as(target)
        assert download.value.suggested_filename == f"crm-review-2026-10-vi.{suffix}"
        files[suffix] = target.read_bytes()

    text = "\n".join(page_.extract_text() for page_ in PdfReader(io.BytesIO(files["pdf"])).pages)
    assert "Đánh giá hiệu quả CRM định kỳ — T10/2026" in text and "Dữ liệu đến hết 31/10/2026" in text
    book = load_workbook(io.BytesIO(files["xlsx"]))
    assert book.sheetnames[1] == "Bảng điểm so với mục tiêu"
    assert book["Bảng điểm so với mục tiêu"]["A1"].value == "Đánh giá hiệu quả CRM định kỳ — T10/2026"

    page.screenshot(path=str(screenshots_dir / "vi_review_pack.png"), full_page=True)
    assert_no_error(page)
    assert_only_local_requests(page)
    events = [json.loads(line) for line in (e2e_var_dir / "audit.log").read_text().splitlines()]
    downloads = [event for event in events if event["event"] == "pack_download" and event["user"] == "executive"]
    assert {event["detail"]["format"] for event in downloads} >= {"pdf", "xlsx"}
