"""Findings: computed from the numbers, ranked by size, worded in both languages, linked.

The planted outage (docs/data.md: Thanh Hóa, end month − 5 = May 2026) must come out as
the top complaint finding for Thanh Hóa when May 2026 is reviewed. Complaints are rare,
so, like tests/pages/test_behaviours.py, this module seeds its own larger warehouse: 100,000
customers, seed 7 (the demo's seed; its outage month holds ≈ 20 complaints in Thanh Hóa
against 1–3 in the months around it).
"""

from dataclasses import replace
from datetime import date

import polars as pl
import pytest

from dashboard.frame.filter_options import FilterOptions, ProvinceOption, load_filter_options
from dashboard.frame.filter_text import describe_filters
from dashboard.frame.session import View
from dashboard.review.data import load_review
from dashboard.review.findings import (
    Driver,
    Finding,
    FindingInputs,
    compute_findings,
    dominant,
    finding_link,
    finding_text,
    is_noise_miss,
    is_noise_move,
)
from queries.filters import UNRESTRICTED, Filters
from queries.metrics import MEASURES
from tests.conftest import TEST_END_MONTH, TEST_MONTHS

OUTAGE_PROVINCE = "38"
OUTAGE_MONTH = date(2026, 5, 1)
CUSTOMERS = 100_000
SEED = 7


@pytest.fixture(scope="module")
def outage_url(tmp_path_factory) -> str:
    from data_seed import seed_warehouse

    url = f"duckdb:///{tmp_path_factory.mktemp('findings') / 'warehouse.duckdb'}"
    seed_warehouse(url, CUSTOMERS, TEST_MONTHS, SEED, TEST_END_MONTH)
    return url


def review(url: str, monkeypatch, month: date, provinces: tuple[str, ...] = (), lang: str = "vi"):
    monkeypatch.setenv("WAREHOUSE_URL", url)
    options = load_filter_options(UNRESTRICTED)
    filters = Filters(month, month, provinces=provinces)
    view = View(filters, UNRESTRICTED, lang, options, describe_filters(filters, options, lang, UNRESTRICTED))
    return load_review(view, "month")


def test_the_outage_is_the_top_complaint_finding_for_its_province(outage_url, monkeypatch):
    data = review(outage_url, monkeypatch, OUTAGE_MONTH)
    complaints = [finding for finding in data.findings if finding.topic == "complaints"]
    in_thanh_hoa = [finding for finding in complaints if finding.province_code == OUTAGE_PROVINCE]
    assert in_thanh_hoa, [finding_text(finding, data.options, "en") for finding in data.findings]
    top = in_thanh_hoa[0]
    assert (top.kind, top.measure) == ("deterioration", "complaint_rate")
    assert top.current > 4 * top.reference  # ≈ × 9 in the planted event
    assert Driver in {type(driver) for driver in top.drivers}
    assert [driver.member for driver in top.drivers if driver.dimension == "category"] == ["coverage"]
    # It is the largest complaint finding of the whole country that month, too.
    assert complaints[0] == top
    text = finding_text(top, data.options, "vi")
    assert text.startswith("Tỷ lệ khiếu nại (trên 100 khách hàng/quý) ở Thanh Hóa tăng ")
    assert "chủ yếu về vùng phủ sóng, chất lượng mạng" in text
    english = finding_text(top, data.options, "en")
    assert " in Thanh Hoa rose by " in english and "mainly about coverage and network quality" in english
    link = finding_link(top, "vi")
    assert link.startswith("complaints?") and "province=38" in link and "from=2026-05&to=2026-05" in link


def test_the_outage_also_floods_the_call_centre(outage_url, monkeypatch):
    data = review(outage_url, monkeypatch, OUTAGE_MONTH, provinces=(OUTAGE_PROVINCE,))
    assert data.findings[0].measure == "complaint_rate"  # Thanh Hóa's own review leads with it
    calls = [finding for finding in data.findings if finding.measure == "call_answer_rate"]
    assert calls and calls[0].kind == "deterioration"
    (volume,) = [driver for driver in calls[0].drivers if driver.dimension == "volume"]
    assert volume.change > 1.0  # the province's calls more than doubled (planted × 3)
    assert "khi lượng cuộc gọi đến tăng" in finding_text(calls[0], data.options, "vi")


def test_a_quiet_month_has_no_outage_finding(outage_url, monkeypatch):
    data = review(outage_url, monkeypatch, date(2026, 3, 1))
    assert not any(
        finding.province_code == OUTAGE_PROVINCE
        and finding.measure == "complaint_rate"
        and finding.kind != "improvement"
        for finding in data.findings
    )


# --- the wording and the rules on frames built by hand ---------------------------------------------

OPTIONS = FilterOptions(
    months=(date(2026, 9, 1), date(2026, 10, 1)),
    provinces=(
        ProvinceOption("01", "Hà Nội", "Hanoi", "Bắc", 21.0, 105.8),
        ProvinceOption("48", "Đà Nẵng", "Da Nang", "Trung", 16.0, 108.2),
    ),
    data_through=date(2026, 10, 31),
)
OCTOBER = Filters(date(2026, 10, 1), date(2026, 10, 1))


def province_row(code: str, before: float, after: float, base: float, measure: str = "churn_rate", **more) -> dict:
    return {
        "measure": measure,
        "province_code": code,
        "current": after,
        "previous": before,
        "target": more.get("target"),
        "status": more.get("status"),
        "current_base": base,
        "previous_base": base,
        "current_numerator": after * base,
        "previous_numerator": before * base,
    }


def mix(rows: list[tuple[str, str, str | None, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"period": pl.String, "province_code": pl.String, "member": pl.String, "value": pl.Float64},
        orient="row",
    )


def test_the_sentence_of_the_issue():
    """ "Tỷ lệ rời mạng ở Đà Nẵng tăng 0,8 điểm %, chủ yếu cước trả trước, 18–24 tuổi, sang MobiFone"."""
    provinces = pl.DataFrame([province_row("48", 0.021, 0.029, 20_000), province_row("01", 0.022, 0.0222, 60_000)])
    selection = pl.DataFrame(
        [{k: v for k, v in province_row("", 0.0218, 0.0239, 80_000).items() if k != "province_code"}]
    )
    mixes = {
        "plan": mix(
            [
                ("previous", "48", "prepaid", 380),
                ("current", "48", "prepaid", 540),
                ("previous", "48", "postpaid", 40),
                ("current", "48", "postpaid", 40),
            ]
        ),  # fmt: skip
        "age_band": mix(
            [
                ("previous", "48", "18-24", 90),
                ("current", "48", "18-24", 200),
                ("previous", "48", "45-54", 60),
                ("current", "48", "45-54", 70),
            ]
        ),  # fmt: skip
        "competitor": mix(
            [
                ("previous", "48", "mobifone", 10),
                ("current", "48", "mobifone", 110),
                ("previous", "48", None, 400),
                ("current", "48", None, 450),
            ]
        ),  # fmt: skip
        "reason": mix(
            [
                ("previous", "48", "price", 200),
                ("current", "48", "price", 250),
                ("previous", "48", "other", 220),
                ("current", "48", "other", 330),
            ]
        ),  # fmt: skip
    }
    findings = compute_findings(FindingInputs(OCTOBER, selection, provinces, mixes))
    da_nang = next(finding for finding in findings if finding.province_code == "48")
    assert finding_text(da_nang, OPTIONS, "vi") == (
        "Tỷ lệ rời mạng tháng ở Đà Nẵng tăng 0,8 điểm % so với kỳ trước (2,1% → 2,9%), "
        "chủ yếu cước trả trước, 18–24 tuổi, sang MobiFone."
    )
    assert finding_text(da_nang, OPTIONS, "en") == (
        "Monthly churn rate in Da Nang rose by 0.8 pp against the previous period (2.1% → 2.9%), "
        "mainly prepaid lines, aged 18–24, to MobiFone."
    )
    # The country's move came from Đà Nẵng, and says so.
    national = next(finding for finding in findings if finding.province_code is None)
    assert [(driver.dimension, driver.member) for driver in national.drivers][:1] == [("province", "48")]


def test_a_driver_must_account_for_half_the_change():
    assert dominant({"prepaid": 60.0, "postpaid": 40.0}, 1.0) == ("prepaid", 60.0)
    assert dominant({"a": 40.0, "b": 35.0, "c": 25.0}, 1.0) is None
    assert dominant({"mobifone": 30.0, None: 70.0}, 1.0) is None  # the unnamed (not ported) majority
    assert dominant({"other": 90.0, "price": 10.0}, 1.0) is None  # "other" explains nothing
    assert dominant({"a": -80.0, "b": -10.0}, -1.0) == ("a", -80.0)
    assert dominant({"a": 5.0, "b": -5.0}, 1.0) is None  # no net change to explain


def test_noise_is_not_a_finding():
    churn = MEASURES["churn_rate"]
    assert is_noise_move(churn, province_row("01", 0.02, 0.03, 40))  # base under MIN_BASE
    assert is_noise_move(churn, province_row("01", 0.020, 0.024, 1_000))  # 20 → 24 churners: chance
    assert not is_noise_move(churn, province_row("01", 0.020, 0.030, 10_000))  # 200 → 300: real
    complaints = MEASURES["complaint_rate"]
    small = province_row("01", 0.003, 0.006, 2_000, measure="complaint_rate", target=0.0025)
    small |= {"current_numerator": 4.0, "previous_numerator": 2.0}  # 2 → 4 complaints
    assert is_noise_move(complaints, small) and is_noise_miss(complaints, small)
    big = small | {"current_numerator": 40.0, "current": 0.06}
    assert not is_noise_move(complaints, big) and not is_noise_miss(complaints, big)


def test_a_miss_explained_by_a_move_is_one_finding_and_caps_keep_variety():
    rows = [
        province_row("01", 0.020, 0.030, 60_000, target=0.021, status="red"),
        province_row("48", 0.020, 0.021, 20_000, target=0.019, status="red"),
    ]
    findings = compute_findings(
        FindingInputs(OCTOBER, pl.DataFrame(schema={"measure": pl.String}), pl.DataFrame(rows), {})
    )
    hanoi = [finding for finding in findings if finding.province_code == "01"]
    assert [(finding.kind, finding.target) for finding in hanoi] == [("deterioration", 0.021)]
    assert "; chưa đạt mục tiêu 2,1%" in finding_text(hanoi[0], OPTIONS, "vi")
    assert [finding.kind for finding in findings if finding.province_code == "48"] == ["off_target"]
    many = [province_row(f"{code:02d}", 0.02, 0.03, 50_000, status="red", target=0.01) for code in range(1, 20)]
    capped = compute_findings(
        FindingInputs(OCTOBER, pl.DataFrame(schema={"measure": pl.String}), pl.DataFrame(many), {})
    )
    assert len(capped) <= 2  # one measure: at most MAX_PER_MEASURE of a kind


def test_links_open_the_finding_on_its_page():
    finding = Finding("deterioration", "churn_rate", "48", 0.029, 0.021, 1.0, replace(OCTOBER, provinces=("48",)))
    assert finding.page == "churn"
    assert finding_link(finding, "en") == "churn?from=2026-10&to=2026-10&cmp=previous&province=48&lang=en"
    debt = Finding("off_target", "outstanding_debt", None, 2.0, 1.0, 1.0, OCTOBER)
    assert debt.page == "debt" and finding_link(debt, "vi").startswith("debt?from=2026-10")
