"""The worked example of docs/import.md: the extract and mapping in docs/examples/telco/.

The example names customers by the operator's key (customerID → customer_key) in every file;
the warehouse assigns its own customer_id. The mapping layer's import-format frames are
checked against an independent read of the files, then the example is imported for real.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from data_seed.importer import import_directory
from data_seed.mapped_files import find_mapped_files, map_extract
from data_seed.mapping_file import read_mapping
from queries import tables as t
from queries.contracts import ROW
from queries.engine import PROJECT_ROOT
from queries.import_report import ProblemLog
from tests.warehouse_files import read_table

EXAMPLE = PROJECT_ROOT / "docs" / "examples" / "telco"
TODAY = date(2026, 11, 15)


@pytest.fixture(scope="module")
def mapped() -> tuple[dict[str, pl.DataFrame], list[str], ProblemLog]:
    problems, notes = ProblemLog(), []
    mapping = read_mapping(EXAMPLE / "mapping.toml", problems)
    assert mapping is not None, problems.render()
    paths = find_mapped_files(EXAMPLE, mapping, problems)
    frames = {}
    for name, path in paths.items():
        extract = map_extract(t.metadata.tables[name], path, mapping.tables[name], problems, notes)
        assert extract is not None, problems.render()
        frames[name] = extract.frame
        notes.extend(counted.note() for counted in extract.not_mapped)
    return frames, notes, problems


def raw_rows(name: str, encoding: str, delimiter: str) -> list[dict[str, str]]:
    """The extract read independently of the importer: Python's codecs and csv modules."""
    text = unicodedata.normalize("NFC", (EXAMPLE / name).read_bytes().decode(encoding))
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_the_example_maps_without_a_problem(mapped):
    frames, _notes, problems = mapped
    assert not problems, problems.render()
    assert set(frames) == {"customers", "churn_events", "revenue_monthly"}


def test_customers_from_the_utf16_extract(mapped):
    frames, _notes, _problems = mapped
    customers = frames["customers"].sort(ROW)
    raw = raw_rows("KH_2026_10.txt", "utf-16", "\t")
    # Keys, names and codes pass through as the extract writes them (Vietnamese intact).
    assert customers.get_column("customer_key").to_list() == [row["customerID"] for row in raw]
    assert customers.get_column("full_name").to_list() == [row["HoTen"] for row in raw]
    assert customers.get_column("full_name").to_list()[0] == "Nguyễn Thị Hồng"
    assert customers.get_column("province_code").to_list() == [row["MaTinh"] for row in raw]
    first = customers.row(0, named=True)
    assert {key: first[key] for key in ("gender", "activated_on", "has_mobile", "has_home_internet", "status")} == {
        "gender": "female",
        "activated_on": "2023-12-14",  # 14/12/2023
        "has_mobile": "false",  # PhoneService No
        "has_home_internet": "true",  # DSL
        "status": "active",
    }
    # InternetService "No" is no home internet; StreamingTV "No internet service" is no TV.
    no_internet = customers.filter(pl.col("customer_key") == "9763-GRSKD").row(0, named=True)
    assert (no_internet["has_home_internet"], no_internet["has_tv"]) == ("false", "false")
    churned = customers.filter(pl.col("status") == "churned")
    assert churned.get_column("customer_key").to_list() == [row["customerID"] for row in raw if row["Churn"] == "Yes"]
    assert churned.get_column("churned_on").to_list() == ["2026-09-12", "2026-10-03", "2026-08-20", "2026-09-28",
                                                          "2026-10-05"]  # fmt: skip
    # Constants, and the skipped Telco columns are gone.
    assert customers.select("segment", "area_type", "plan").unique().rows() == [("individual", "unknown", "postpaid")]
    assert not {"SeniorCitizen", "tenure", "Contract"} & set(customers.columns)


def test_churn_events_from_the_windows_1258_extract(mapped):
    frames, _notes, _problems = mapped
    churn = frames["churn_events"].sort(ROW)
    raw = raw_rows("RoiMang_2026_10.csv", "cp1258", ";")
    # The operator's wording is kept as written, beside the code the dashboard counts.
    assert churn.get_column("reason_text").to_list() == [row["LyDo"] for row in raw]
    assert churn.select("customer_key", "churn_type", "reason", "reason_text", "ported_to").rows() == [
        ("3668-QPYBK", "voluntary", "price", "Giá cước cao", "mobifone"),
        ("9237-HQITU", "voluntary", "network_quality", "Sóng yếu", "unknown"),
        ("9305-CDSKC", "involuntary", "non_payment", "Nợ cước quá hạn", None),
        ("7892-POOKP", "voluntary", "other", "Lý do cá nhân", "unknown"),
        ("0280-XJGEX", "voluntary", "competitor_promotion", "Đối thủ khuyến mãi", "vinaphone"),
    ]


def test_unknowns_and_defaults_are_listed(mapped):
    _frames, notes, _problems = mapped
    assert "churn_events.ported_to: 2 values mapped to unknown ('Đối thủ khác' ×2)" in notes
    assert "churn_events.reason: 1 value not in the value map, mapped to other (its default) ('Lý do cá nhân' ×1)" in (
        notes
    )


def test_revenue_from_the_decimal_comma_extract(mapped):
    frames, _notes, _problems = mapped
    revenue = frames["revenue_monthly"].sort(ROW)
    raw = raw_rows("DoanhThu_2026_10.csv", "utf-8-sig", ";")
    amounts = [Decimal(row["MonthlyCharges"].replace(".", "").replace(",", ".")) for row in raw]
    assert [int(value) for value in revenue.get_column("revenue_vnd")] == amounts
    months = {row["Thang"]: f"{row['Thang'][3:]}-{row['Thang'][:2]}-01" for row in raw}
    assert revenue.get_column("revenue_month").to_list() == [months[row["Thang"]] for row in raw]


def test_the_example_imports_as_the_docs_say(tmp_path, capsys):
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    assert import_directory(EXAMPLE, url, mapping=EXAMPLE / "mapping.toml") == 0, capsys.readouterr().err
    customers = read_table(url, "customers")
    raw = raw_rows("KH_2026_10.txt", "utf-16", "\t")
    assert sorted(customers.get_column("customer_key").to_list()) == sorted(row["customerID"] for row in raw)
    assert customers.get_column("customer_id").n_unique() == len(raw)  # text keys get ids of their own
    churn = read_table(url, "churn_events").join(customers.select("customer_id", "customer_key"), on="customer_id")
    assert churn.filter(pl.col("ported_to") == "unknown").height == 2
    assert churn.filter(pl.col("customer_key") == "7892-POOKP").select("reason", "reason_text").row(0) == (
        "other",
        "Lý do cá nhân",
    )
    revenue = raw_rows("DoanhThu_2026_10.csv", "utf-8-sig", ";")
    total = sum(Decimal(row["MonthlyCharges"].replace(".", "").replace(",", ".")) for row in revenue)
    assert read_table(url, "revenue_monthly").get_column("revenue_vnd").sum() == total


def test_the_example_files_are_what_the_docs_say(tmp_path):
    """UTF-16 with a byte order mark, windows-1258 (not valid UTF-8), UTF-8 with a mark."""
    assert (EXAMPLE / "KH_2026_10.txt").read_bytes().startswith(codecs.BOM_UTF16_LE)
    churn = (EXAMPLE / "RoiMang_2026_10.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        churn.decode("utf-8")
    assert (EXAMPLE / "DoanhThu_2026_10.csv").read_bytes().startswith(codecs.BOM_UTF8)
    assert len(raw_rows("KH_2026_10.txt", "utf-16", "\t")) == 12
    assert Path(EXAMPLE / "mapping.toml").is_file()
