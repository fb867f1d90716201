"""Importing an operator's own extract through a mapping file: every mapping feature read into
the warehouse's types, every mistake in the mapping or the extract reported with its file,
row, column and value, and nothing written on any problem.

The extracts are written here, byte for byte, the way the operator's tools save them
(Excel's UTF-8 with a byte order mark, its UTF-16 "Unicode text", an old Windows program's
windows-1258 with its decomposed Vietnamese letters).

The extracts name customers only by the operator's text key (SoThueBao → customer_key), in
the customers extract and in the fact extracts alike, as the import format does; the warehouse
gives the ids (data_seed/customer_keys.py), and the tests work those out from the rule itself
(``ids_in_an_empty_warehouse``) or compare by customer_key.
"""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from data_seed.import_files import import_column_names
from data_seed.importer import Validated, import_directory, validate_directory
from data_seed.mapped_files import find_mapped_files, map_extract
from data_seed.mapping_file import read_mapping
from queries import tables as t
from queries.contracts import ROW
from queries.engine import PROJECT_ROOT
from queries.import_report import ProblemLog
from tests.data_seed.windows_1258 import encode_windows_1258
from tests.warehouse_files import read_table, warehouse_checksum

TODAY = date(2026, 11, 15)

CUSTOMER_HEADER = (
    "SoThueBao",
    "HoTen",
    "GioiTinh",
    "NamSinh",
    "MaTinh",
    "LoaiVung",
    "NgayHoaMang",
    "DiDong",
    "Internet",
    "TruyenHinh",
    "TrangThai",
    "NgayRoiMang",
)
CUSTOMER_ROWS = (
    ("KH-0001", "Nguyễn Thị Hồng", "Nữ", "1992", "01", "Thành thị", "14/12/2023", "Có", "Không", "Không",
     "Đang hoạt động", ""),
    ("KH-0002", "Trần Văn Đức", "Nam", "1985", "79", "Nông thôn", "02/01/2022", "Có", "Có", "Không",
     "Đã rời mạng", "03/10/2026"),
    ("KH-0003", "Lê Hoàng Yến", "Không rõ", "1979", "48", "Miền núi", "03/01/2021", "Không", "Có", "Có",
     "Đang hoạt động", ""),
    ("KH-0004", "Đặng Quốc Bảo", "Nam", "1988", "31", "Hải đảo", "09/10/2024", "Có", "Có", "Có",
     "Đã rời mạng", "20/08/2026"),
    ("KH-0005", "Phan Thị Mỹ Duyên", "Nữ", "2001", "92", "Miền núi", "14/09/2025", "Có", "Không", "Không",
     "Đang hoạt động", ""),
)  # fmt: skip
CHURN_HEADER = ("SoThueBao", "NgayRoiMang", "LoaiRoiMang", "LyDo", "ChuyenSang")
CHURN_ROWS = (
    ("KH-0002", "03/10/2026", "Tự nguyện", "Giá cước cao", "Đối thủ khác"),
    ("KH-0004", "20/08/2026", "Tự nguyện", "Lý do cá nhân", "MobiFone"),
)
REVENUE_HEADER = ("SoThueBao", "DoanhThu")
REVENUE_ROWS = (("KH-0001", "189.000,00"), ("KH-0003", "1.020.500"), ("KH-0005", "49.000"))

MAPPING = """
[defaults]
date_format = "%d/%m/%Y"
true_words = ["Có"]
false_words = ["Không"]

[tables.customers]
file = "KH_*.csv"
encoding = "{encoding}"
delimiter = "{delimiter}"

[tables.customers.columns]
SoThueBao = "customer_key"
HoTen = "full_name"
GioiTinh = "gender"
NamSinh = "birth_year"
MaTinh = "province_code"
LoaiVung = "area_type"
NgayHoaMang = "activated_on"
DiDong = "has_mobile"
Internet = "has_home_internet"
TruyenHinh = "has_tv"
TrangThai = "status"
NgayRoiMang = "churned_on"

[tables.customers.constants]
segment = "individual"
plan = "postpaid"
has_enterprise_solutions = false
is_key_account = false

[tables.customers.values.gender]
map = {{ "Nữ" = "female", Nam = "male", "Không rõ" = "" }}

[tables.customers.values.area_type]
map = {{ "Thành thị" = "urban", "Nông thôn" = "rural" }}
default = "unknown"

[tables.customers.values.status]
map = {{ "Đang hoạt động" = "active", "Đã rời mạng" = "churned" }}

[tables.churn_events]
file = "RoiMang.csv"
encoding = "windows-1258"
delimiter = ";"

[tables.churn_events.columns]
SoThueBao = "customer_key"
NgayRoiMang = "churned_on"
LoaiRoiMang = "churn_type"
LyDo = ["reason", "reason_text"]
ChuyenSang = "ported_to"

[tables.churn_events.values.churn_type]
map = {{ "Tự nguyện" = "voluntary", "Nợ cước" = "involuntary" }}

[tables.churn_events.values.reason]
map = {{ "Giá cước cao" = "price", "Nợ cước quá hạn" = "non_payment" }}
default = "other"

[tables.churn_events.values.ported_to]
map = {{ MobiFone = "mobifone", Vinaphone = "vinaphone" }}
default = "unknown"

[tables.revenue_monthly]
file = "DoanhThu_*.csv"
encoding = "utf-8"
delimiter = ";"
decimal = ","
thousands = "."

[tables.revenue_monthly.columns]
SoThueBao = "customer_key"
DoanhThu = "revenue_vnd"

[tables.revenue_monthly.constants]
revenue_month = 2026-10-01
"""

WRITERS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16 LE with BOM": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16 BE with BOM": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-16-le without BOM": lambda text: text.encode("utf-16-le"),
    "windows-1258": encode_windows_1258,
    "windows-1252": lambda text: text.encode("cp1252"),
    # macOS and some web forms write Vietnamese decomposed (e + combining marks) in UTF-8.
    "utf-8 decomposed": lambda text: unicodedata.normalize("NFD", text).encode("utf-8"),
}


def csv_text(header, rows, delimiter: str) -> str:
    return "\r\n".join(delimiter.join(row) for row in [header, *rows]) + "\r\n"


def write_extract(
    directory: Path,
    customers_writer: str = "utf-8",
    encoding: str = "utf-8",
    delimiter: str = ",",
    customers: tuple = CUSTOMER_ROWS,
    mapping: str = MAPPING,
) -> Path:
    """The three extracts and their mapping in ``directory``; returns the mapping file."""
    directory.mkdir(parents=True, exist_ok=True)
    text = csv_text(CUSTOMER_HEADER, customers, delimiter)
    (directory / "KH_2026_10.csv").write_bytes(WRITERS[customers_writer](text))
    (directory / "RoiMang.csv").write_bytes(encode_windows_1258(csv_text(CHURN_HEADER, CHURN_ROWS, ";")))
    revenue = csv_text(REVENUE_HEADER, REVENUE_ROWS, ";")
    (directory / "DoanhThu_2026_10.csv").write_bytes(codecs.BOM_UTF8 + revenue.encode("utf-8"))
    path = directory / "mapping.toml"
    toml_delimiter = delimiter.replace("\t", "\\t")  # a tab is written \t in TOML
    path.write_text(mapping.format(encoding=encoding, delimiter=toml_delimiter), encoding="utf-8")
    return path


def validate(directory: Path, mapping: Path) -> Validated:
    return validate_directory(directory, today=TODAY, mapping=mapping)


def clean(validated: Validated) -> Validated:
    assert not validated.problems, validated.problems.render()
    assert validated.contents_checked
    return validated


def rows_of(validated: Validated, table: str, *columns: str) -> list[tuple]:
    return validated.frames[table].sort(ROW).select(columns).rows()


def ids_in_an_empty_warehouse(keys: list[str]) -> dict[str, int]:
    """The ids an empty warehouse gives these keys, worked out here from the rule of the
    import format (as data_seed/customer_keys.py states it), not by its code: a key that is a plain whole
    number (no leading zero) keeps that number; every other key gets the next id above the
    highest, in the order the keys first appear."""
    keys = list(dict.fromkeys(keys))
    numbers = {key: int(key) for key in keys if key.isascii() and key.isdigit() and not key.startswith("0")}
    next_id = max(numbers.values(), default=0) + 1
    ids = {}
    for key in keys:
        if key in numbers:
            ids[key] = numbers[key]
        else:
            ids[key] = next_id
            next_id += 1
    return ids


KEYS = [row[0] for row in CUSTOMER_ROWS]
NAMES = ["Nguyễn Thị Hồng", "Trần Văn Đức", "Lê Hoàng Yến", "Đặng Quốc Bảo", "Phan Thị Mỹ Duyên"]


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("writer", "encoding", "delimiter"),
    [
        ("utf-8", "utf-8", ","),
        ("utf-8 with BOM", "utf-8", ";"),  # Excel's "CSV UTF-8"
        ("utf-8 with BOM", "utf-8-sig", ","),
        ("utf-8", "utf-8-sig", ","),  # utf-8-sig without the mark is plain UTF-8
        ("utf-16 LE with BOM", "utf-16", "\t"),  # Excel's "Unicode text"
        ("utf-16 BE with BOM", "utf-16", "\t"),
        ("utf-16-le without BOM", "utf-16-le", "\t"),
        ("windows-1258", "windows-1258", ";"),
        ("windows-1258", "cp1258", "|"),
        ("utf-8 decomposed", "utf-8", ","),
    ],
)
def test_vietnamese_text_is_read_correctly_in_every_encoding(tmp_path, writer, encoding, delimiter):
    mapping = write_extract(tmp_path, writer, encoding, delimiter)
    validated = clean(validate(tmp_path, mapping))
    customers = validated.frames["customers"].sort(ROW)
    # Every name equals the Vietnamese text itself, in the one form (NFC) the warehouse stores.
    assert customers.get_column("full_name").to_list() == NAMES
    # Value maps written with precomposed letters match the extract's letters, whatever their form.
    assert customers.get_column("gender").to_list() == ["female", "male", None, "male", "female"]
    assert customers.get_column("status").to_list() == ["active", "churned", "active", "churned", "active"]


def test_windows_1252_extract(tmp_path):
    # Windows-1252 holds "José Müller", "Nông thôn" and "Có", not most Vietnamese letters.
    rows = tuple(
        (row[0], "José Müller", "Nam", *row[3:5], "Nông thôn", row[6], "Có", "Có", "Không", "Active", "")
        for row in CUSTOMER_ROWS
    )
    mapping = MAPPING.replace('"Đang hoạt động" = "active"', '"Đang hoạt động" = "active", Active = "active"')
    mapping_path = write_extract(tmp_path, "windows-1252", "windows-1252", ";", customers=rows, mapping=mapping)
    (tmp_path / "RoiMang.csv").unlink()  # nobody left in this extract
    validated = clean(validate(tmp_path, mapping_path))
    customers = validated.frames["customers"]
    assert set(customers.get_column("full_name")) == {"José Müller"}
    assert set(customers.get_column("area_type")) == {"rural"}


def test_a_byte_order_mark_wins_over_the_declared_code_page(tmp_path):
    mapping = write_extract(tmp_path, "utf-16 LE with BOM", "windows-1258", ";")
    validated = clean(validate(tmp_path, mapping))
    assert validated.frames["customers"].sort(ROW).get_column("full_name").to_list() == NAMES
    assert (
        "KH_2026_10.csv: starts with a UTF-16 byte order mark, read as such (the mapping says windows-1258)"
        in validated.notes
    )


def test_utf8_extract_declared_as_a_code_page_is_refused_before_it_turns_to_mojibake(tmp_path):
    mapping = write_extract(tmp_path, "utf-8", "windows-1258", ",")
    report = validate(tmp_path, mapping).problems.render()
    assert (
        "KH_2026_10.csv: is UTF-8 text, not windows-1258 as the mapping says "
        "(read that way 'Nguyễn' would become 'Nguyá»…n'): set encoding = \"utf-8\""
    ) in report


# --- columns, constants, value maps -------------------------------------------------------------


def test_renames_constants_and_value_maps_reach_their_columns(tmp_path):
    validated = clean(validate(tmp_path, write_extract(tmp_path)))
    customers = validated.frames["customers"].sort(ROW)
    assert customers.get_column(ROW).to_list() == [2, 3, 4, 5, 6]  # lines of the extract
    first = customers.row(0, named=True)
    assert {name: first[name] for name in ("customer_key", "birth_year", "province_code")} == {
        "customer_key": "KH-0001",
        "birth_year": 1992,
        "province_code": "01",
    }
    # Constants fill every row, in the column's type.
    assert customers.select(pl.col("segment").unique()).to_series().to_list() == ["individual"]
    assert customers.select(pl.col("has_enterprise_solutions").unique()).to_series().to_list() == [False]
    # Value map with a default: unlisted words become unknown.
    assert customers.get_column("area_type").to_list() == ["urban", "rural", "unknown", "unknown", "unknown"]
    # Optional columns the mapping does not give stay empty, as in the import format.
    assert customers.get_column("phone").null_count() == customers.height


def test_one_column_feeds_the_code_and_keeps_the_operators_wording(tmp_path):
    validated = clean(validate(tmp_path, write_extract(tmp_path)))
    assert rows_of(validated, "churn_events", "customer_key", "reason", "reason_text", "ported_to") == [
        ("KH-0002", "price", "Giá cước cao", "unknown"),
        ("KH-0004", "other", "Lý do cá nhân", "mobifone"),
    ]


def test_the_key_column_names_customers_in_every_extract_and_the_warehouse_gives_the_ids(tmp_path):
    # Keys as operators write them: text, numbers, and a subscriber number with its leading zero.
    keys = ["KH-0001", "42", "0912345678", "7", "KH-0005"]
    rows = tuple((key, *row[1:]) for key, row in zip(keys, CUSTOMER_ROWS, strict=True))
    mapping = write_extract(tmp_path, customers=rows)
    churn = csv_text(CHURN_HEADER, (("42", *CHURN_ROWS[0][1:]), ("7", *CHURN_ROWS[1][1:])), ";")
    (tmp_path / "RoiMang.csv").write_bytes(encode_windows_1258(churn))
    revenue = (("KH-0001", "189.000,00"), ("0912345678", "1.020.500"), ("KH-0005", "49.000"))
    (tmp_path / "DoanhThu_2026_10.csv").write_text(csv_text(REVENUE_HEADER, revenue, ";"), encoding="utf-8")
    validated = clean(validate(tmp_path, mapping))
    ids = ids_in_an_empty_warehouse(keys)
    # The key is kept as written (the leading zero too), and each customer has the id the rule gives.
    assert rows_of(validated, "customers", "customer_key", "customer_id") == [(key, ids[key]) for key in keys]
    # Fact extracts name customers by the same key and carry that customer's id beside it.
    assert rows_of(validated, "churn_events", "customer_id", "customer_key", "churned_on") == [
        (ids["42"], "42", date(2026, 10, 3)),
        (ids["7"], "7", date(2026, 8, 20)),
    ]
    assert rows_of(validated, "revenue_monthly", "customer_id", "customer_key") == [
        (ids[key], key) for key, _revenue in revenue
    ]


def test_values_mapped_to_unknown_or_by_default_are_counted_in_the_notes(tmp_path):
    rows = (*CUSTOMER_ROWS, ("KH-0006", "Vũ Thị Lan", "N", "1990", "01", "Chưa rõ", "01/02/2020", "Có",
                             "Có", "Có", "Đang hoạt động", ""))  # fmt: skip
    # A word mapped to unknown on purpose is counted with those that fell to the default.
    explicit = MAPPING.replace('"Nông thôn" = "rural"', '"Nông thôn" = "rural", "Chưa rõ" = "unknown"')
    mapping = write_extract(tmp_path, customers=rows, mapping=explicit)
    validated = validate(tmp_path, mapping)
    notes = validated.notes
    assert "customers.area_type: 4 values mapped to unknown ('Miền núi' ×2, 'Chưa rõ' ×1, 'Hải đảo' ×1)" in notes
    assert "churn_events.ported_to: 1 value mapped to unknown ('Đối thủ khác' ×1)" in notes
    assert "churn_events.reason: 1 value not in the value map, mapped to other (its default) ('Lý do cá nhân' ×1)" in (
        notes
    )
    # Without a default, an unlisted word is kept as written, counted, and its column's check judges it.
    assert "customers.gender: 1 value not in the value map, kept as written ('N' ×1)" in notes
    assert "KH_2026_10.csv, row 7, column GioiTinh → gender, value 'N': must be one of male, female" in (
        validated.problems.render()
    )


def test_many_unmapped_words_are_summarised(tmp_path):
    words = [f"Vùng {index}" for index in range(8)]
    rows = tuple((*row[:5], words[index % 8], *row[6:]) for index, row in enumerate(CUSTOMER_ROWS * 2))
    rows = tuple((f"KH-{index + 1:04}", *row[1:]) for index, row in enumerate(rows))
    notes = validate(tmp_path, write_extract(tmp_path, customers=rows)).notes
    assert (
        "customers.area_type: 10 values mapped to unknown ('Vùng 0' ×2, 'Vùng 1' ×2, 'Vùng 2' ×1, 'Vùng 3' ×1, "
        "'Vùng 4' ×1, … 3 other values)"
    ) in notes


def test_header_spaces_are_ignored_and_skipped_columns_dropped(tmp_path):
    header = tuple(f" {name} " for name in CUSTOMER_HEADER) + ("SeniorCitizen",)
    rows = tuple((*row, "0") for row in CUSTOMER_ROWS)
    mapping = write_extract(tmp_path)
    (tmp_path / "KH_2026_10.csv").write_text(csv_text(header, rows, ","), encoding="utf-8")
    text = mapping.read_text(encoding="utf-8").replace('delimiter = ","', 'delimiter = ","\nskip = ["SeniorCitizen"]')
    mapping.write_text(text, encoding="utf-8")
    clean(validate(tmp_path, mapping))


def test_file_patterns_ignore_case_and_the_mapping_may_sit_in_the_directory(tmp_path):
    mapping = write_extract(tmp_path)
    (tmp_path / "KH_2026_10.csv").rename(tmp_path / "kh_2026_10.CSV")
    validated = clean(validate(tmp_path, mapping))
    assert validated.given == {"customers", "churn_events", "revenue_monthly"}


# --- formats --------------------------------------------------------------------------------


def test_dates_numbers_booleans_and_a_constant_month_are_read(tmp_path):
    validated = clean(validate(tmp_path, write_extract(tmp_path)))
    assert rows_of(validated, "customers", "activated_on", "churned_on", "has_mobile", "has_home_internet") == [
        (date(2023, 12, 14), None, True, False),
        (date(2022, 1, 2), date(2026, 10, 3), True, True),
        (date(2021, 1, 3), None, False, True),
        (date(2024, 10, 9), date(2026, 8, 20), True, True),
        (date(2025, 9, 14), None, True, False),
    ]
    # '189.000,00' and '1.020.500': decimal comma, digits grouped by points, ',00' is whole.
    assert rows_of(validated, "revenue_monthly", "customer_key", "revenue_month", "revenue_vnd") == [
        ("KH-0001", date(2026, 10, 1), 189_000),
        ("KH-0003", date(2026, 10, 1), 1_020_500),
        ("KH-0005", date(2026, 10, 1), 49_000),
    ]


def test_values_not_in_the_declared_formats_are_refused_with_row_column_and_value(tmp_path):
    rows = list(CUSTOMER_ROWS)
    rows[1] = (*rows[1][:6], "2022-01-02", "Co", *rows[1][8:])  # ISO date, 'Co' without its accent
    mapping = write_extract(tmp_path, customers=tuple(rows))
    revenue = csv_text(REVENUE_HEADER, (("KH-0001", "29.85"), ("KH-0003", "12.345,50"), ("KH-0005", "1,234")), ";")
    (tmp_path / "DoanhThu_2026_10.csv").write_text(revenue, encoding="utf-8")
    validated = validate(tmp_path, mapping)
    report = validated.problems.render()
    assert (
        "KH_2026_10.csv, row 3, column NgayHoaMang → activated_on, value '2022-01-02': "
        "cannot be read as a date written %d/%m/%Y (date_format of the mapping)"
    ) in report
    assert (
        "KH_2026_10.csv, row 3, column DiDong → has_mobile, value 'Co': "
        "cannot be read as one of the boolean words of the mapping (true: Có; false: Không)"
    ) in report
    number = "cannot be read as a whole number written with decimal ',', digits grouped by '.' (the mapping's number"
    # '29.85' would be read as 2,985 with '.' grouping thousands: refused, as is a fraction of a dong.
    assert f"DoanhThu_2026_10.csv, row 2, column DoanhThu → revenue_vnd, value '29.85': {number}" in report
    assert f"DoanhThu_2026_10.csv, row 3, column DoanhThu → revenue_vnd, value '12.345,50': {number}" in report
    assert f"DoanhThu_2026_10.csv, row 4, column DoanhThu → revenue_vnd, value '1,234': {number}" in report
    assert validated.problems.total == 5
    assert not validated.contents_checked


def test_timestamps_in_the_declared_format_become_iso_text(tmp_path):
    (tmp_path / "KhieuNai.csv").write_text(
        "MaKN;NhanLuc\n1;14/12/2023 08:05\n2;01/02/2024 17:30:15\n3;2024-02-01 17:30\n", encoding="utf-8"
    )
    (tmp_path / "mapping.toml").write_text(
        '[tables.complaints]\nfile = "KhieuNai.csv"\ndelimiter = ";"\n'
        'timestamp_format = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"]\n'
        '[tables.complaints.columns]\nMaKN = "complaint_id"\nNhanLuc = "opened_at"\n',
        encoding="utf-8",
    )
    problems, notes = ProblemLog(), []
    mapping = read_mapping(tmp_path / "mapping.toml", problems)
    mapped = map_extract(t.complaints, tmp_path / "KhieuNai.csv", mapping.tables["complaints"], problems, notes)
    assert mapped.frame.get_column("opened_at").to_list() == ["2023-12-14 08:05:00", "2024-02-01 17:30:15", None]
    assert problems.render().endswith(
        "KhieuNai.csv, row 4, column NhanLuc → opened_at, value '2024-02-01 17:30': cannot be read as a timestamp "
        "written %d/%m/%Y %H:%M or %d/%m/%Y %H:%M:%S (timestamp_format of the mapping)"
    )


# --- mistakes in the mapping itself ---------------------------------------------------------------


def mapping_report(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    problems = ProblemLog()
    assert read_mapping(path, problems) is None
    return problems.render()


GOOD_TABLE = '[tables.customers]\nfile = "KH.csv"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[tables.customers]\nfile = "KH.csv"\nencoding = utf-8\n',
            "mapping.toml: not valid TOML: Invalid value (at line 3, column 12)",
        ),
        ("[defaults]\n", "mapping.toml: maps no table: add a [tables.<table>] section for each file"),
        (GOOD_TABLE + "[extra]\nx = 1\n", "mapping.toml: unknown section [extra]: a mapping has [defaults] and"),
        (
            '[tables.custmers]\nfile = "KH.csv"\n',
            "mapping.toml: [tables.custmers] unknown table (no such table); tables: ",
        ),
        ('[tables.provinces]\nfile = "T.csv"\n', "[tables.provinces] unknown table (it comes from reference data)"),
        (
            GOOD_TABLE + "delimeter = ';'\n",
            "mapping.toml: [tables.customers] unknown setting 'delimeter' (settings here: file, encoding, delimiter",
        ),
        (
            GOOD_TABLE + '[tables.customers.columns]\ncustomerID = "customer_kee"\n',
            "mapping.toml: [tables.customers.columns] 'customerID': 'customer_kee' is not a column of customers "
            "(its columns: customer_key, segment,",
        ),
        (
            GOOD_TABLE + '[tables.customers.constants]\nsegmnt = "individual"\n',
            "[tables.customers.constants] constant: 'segmnt' is not a column of customers",
        ),
        (
            GOOD_TABLE + '[tables.customers.values.gendr]\nmap = { Nam = "male" }\n',
            "mapping.toml: [tables.customers.values.gendr] value map on a column that does not exist: 'gendr' is not "
            "a column of customers",
        ),
        (
            GOOD_TABLE + '[tables.customers.constants]\nsegment = "individual"\n'
            '[tables.customers.values.segment]\nmap = { A = "individual" }\n',
            "[tables.customers.values.segment] value map on segment, a constant: write the constant as it is",
        ),
        (
            GOOD_TABLE + "[tables.customers.values.gender]\nmapping = { Nam = 'male' }\n",
            "[tables.customers.values.gender] unknown setting 'mapping' (settings here: map, default)",
        ),
        (
            GOOD_TABLE + 'encoding = "windows-1285"\n',
            "mapping.toml: [tables.customers] encoding 'windows-1285' is not one the importer reads; use one of "
            "utf-8, utf-8-sig, utf-16, utf-16-le, utf-16-be, windows-1258, windows-1252",
        ),
        ('[defaults]\nencoding = "rot13"\n' + GOOD_TABLE, "[defaults] encoding 'rot13' is not one the importer reads"),
        (GOOD_TABLE + 'delimiter = ";;"\n', "[tables.customers] delimiter ';;' must be one character"),
        (
            GOOD_TABLE + 'date_format = "%d/%m/%Q"\n',
            "[tables.customers] date_format '%d/%m/%Q' cannot be read: use strftime codes with a year and a month",
        ),
        (GOOD_TABLE + 'date_format = "%d/%m"\n', "date_format '%d/%m' cannot be read"),
        (
            GOOD_TABLE + 'decimal = ","\nthousands = ","\n',
            "[tables.customers] decimal and thousands are both ',': they must differ",
        ),
        (GOOD_TABLE + 'decimal = ";"\n', 'decimal \';\' must be "." or ","'),
        (
            GOOD_TABLE + 'true_words = ["Có", "x"]\nfalse_words = ["X"]\n',
            "x cannot be both a true word and a false word",
        ),
        (
            GOOD_TABLE + 'skip = ["SoThueBao"]\n[tables.customers.columns]\nSoThueBao = "customer_key"\n',
            "'SoThueBao' is both skipped and renamed",
        ),
        (
            GOOD_TABLE + '[tables.customers.columns]\nA = "full_name"\nB = "full_name"\n',
            "[tables.customers.columns] full_name is the target of 2 columns (A, B): give one",
        ),
        (
            GOOD_TABLE + '[tables.customers.columns]\nA = "segment"\n[tables.customers.constants]\nsegment = "x"\n',
            "[tables.customers.constants] segment is a constant and also a renamed column: keep one",
        ),
        ('[tables.customers]\nfile = "data/KH.csv"\n', "file 'data/KH.csv' must be a file name pattern inside DIR"),
        (GOOD_TABLE + "[tables.customers.columns]\nA = []\n", "[tables.customers.columns] 'A' = []: name the column"),
        (
            GOOD_TABLE + "[tables.customers.values.gender]\nmap = { Nam = 2026-01-01 }\n",
            "[tables.customers.values.gender] map 'Nam' = date: the value must be text, a number or true/false",
        ),
        (GOOD_TABLE + "[tables.customers.values.gender]\n", "a value map needs map = "),
    ],
)
def test_mapping_mistakes_are_named_with_their_section(tmp_path, text, expected):
    assert expected in mapping_report(tmp_path, text)


def test_every_mapping_mistake_is_reported_at_once(tmp_path):
    report = mapping_report(
        tmp_path,
        '[tables.customers]\nencoding = "latin-9"\n[tables.customers.columns]\nx = "y"\n[tables.bill]\n',
    )
    assert report.count("mapping.toml:") == 3


def test_mapping_file_not_utf8_or_missing(tmp_path):
    (tmp_path / "mapping.toml").write_bytes(encode_windows_1258('[tables.customers]\nfile = "Khách hàng.csv"\n'))
    problems = ProblemLog()
    assert read_mapping(tmp_path / "mapping.toml", problems) is None
    assert "mapping.toml: not UTF-8 text (byte 0xe1): save the mapping file as UTF-8" in problems.render()
    problems = ProblemLog()
    assert read_mapping(tmp_path / "nothing.toml", problems) is None
    assert "nothing.toml: cannot be read: No such file or directory" in problems.render()


# --- the mapping against the files ------------------------------------------------------------


def test_mapping_and_files_that_do_not_fit_are_named(tmp_path):
    mapping = write_extract(tmp_path)
    (tmp_path / "KH_2026_11.csv").write_bytes((tmp_path / "KH_2026_10.csv").read_bytes())
    (tmp_path / "RoiMang.csv").unlink()
    (tmp_path / "churn_events.csv").write_text("customer_key\n", encoding="utf-8")
    (tmp_path / "ghi_chu.txt").write_text("hello", encoding="utf-8")
    report = validate(tmp_path, mapping).problems.render()
    assert "KH_2026_10.csv: customers is given 2 times (KH_2026_10.csv, KH_2026_11.csv)" in report
    assert "churn_events.csv: unknown file: the mapping reads churn_events from 'RoiMang.csv'" in report
    assert (
        "ghi_chu.txt: unknown file: matches no file of the mapping ('KH_*.csv', 'RoiMang.csv', 'DoanhThu_*.csv')"
        in (report)
    )
    for path in tmp_path.glob("KH_*.csv"):
        path.unlink()
    report = validate(tmp_path, mapping).problems.render()
    assert "KH_*.csv: missing: this file is required (it holds customers)" in report


def test_columns_the_mapping_names_must_be_in_the_file(tmp_path):
    mapping = write_extract(tmp_path)
    text = (tmp_path / "KH_2026_10.csv").read_text(encoding="utf-8").replace("TrangThai", "Trang thai")
    (tmp_path / "KH_2026_10.csv").write_text(text, encoding="utf-8")
    # A column renamed to a name the file also has would make two columns of one.
    churn = csv_text((*CHURN_HEADER, "churn_type"), ((*row, "voluntary") for row in CHURN_ROWS), ";")
    (tmp_path / "RoiMang.csv").write_bytes(encode_windows_1258(churn))
    report = validate(tmp_path, mapping).problems.render()
    assert (
        "KH_2026_10.csv, column TrangThai: named in the mapping ([tables.customers.columns]) but not in the file; "
        "its columns: SoThueBao, HoTen,"
    ) in report
    assert (
        "RoiMang.csv, column churn_type: 2 columns of the file would become churn_type (LoaiRoiMang, churn_type): "
        "skip or rename"
    ) in report


def test_a_constant_the_file_also_has_and_an_unmapped_column_are_refused(tmp_path):
    mapping = write_extract(tmp_path)
    header = (*CUSTOMER_HEADER, "segment", "GhiChu")
    rows = tuple((*row, "individual", "") for row in CUSTOMER_ROWS)
    (tmp_path / "KH_2026_10.csv").write_text(csv_text(header, rows, ","), encoding="utf-8")
    report = validate(tmp_path, mapping).problems.render()
    assert (
        "KH_2026_10.csv, column segment: is a column of the file and a constant of the mapping: skip the column or "
        "drop the constant"
    ) in report
    header = (*CUSTOMER_HEADER, "GhiChu")
    rows = tuple((*row, "") for row in CUSTOMER_ROWS)
    (tmp_path / "KH_2026_10.csv").write_text(csv_text(header, rows, ","), encoding="utf-8")
    # The usual column check, unchanged: the mapping layer does not decide what is valid.
    assert (
        "KH_2026_10.csv, column GhiChu: unknown column for customers" in validate(tmp_path, mapping).problems.render()
    )


def test_a_value_map_on_a_column_the_file_does_not_give(tmp_path):
    mapping = write_extract(tmp_path)
    text = mapping.read_text(encoding="utf-8") + '\n[tables.customers.values.phone]\nmap = { x = "y" }\n'
    mapping.write_text(text, encoding="utf-8")
    report = validate(tmp_path, mapping).problems.render()
    assert (
        "KH_2026_10.csv, column phone: has a value map in the mapping, but the file has no column phone nor one "
        "renamed to it"
    ) in report


def test_a_misshapen_row_in_a_mapped_extract_names_its_separator(tmp_path):
    mapping = write_extract(tmp_path, delimiter=";")
    lines = (tmp_path / "KH_2026_10.csv").read_bytes().decode("utf-8").split("\r\n")
    lines[2] += ";thừa"
    lines[4] = ";".join(lines[4].split(";")[:3])
    (tmp_path / "KH_2026_10.csv").write_bytes("\r\n".join(lines).encode("utf-8"))
    report = validate(tmp_path, mapping).problems.render()
    assert "KH_2026_10.csv, row 3, value '" in report
    assert "too many fields (13 of 12): a semicolon in an unquoted value?" in report
    assert "KH_2026_10.csv, row 5, value '" in report and "too few fields (3 of 12)" in report


def test_a_short_row_alone_in_a_decoded_extract_is_one_line(tmp_path):
    # Polars reads a short row (it fills nulls), so pyarrow re-reads the decoded UTF-16 text.
    mapping = write_extract(tmp_path, "utf-16 LE with BOM", "utf-16", "\t")
    lines = (tmp_path / "KH_2026_10.csv").read_bytes().decode("utf-16").split("\r\n")
    lines[3] = "\t".join(lines[3].split("\t")[:3])
    (tmp_path / "KH_2026_10.csv").write_bytes(codecs.BOM_UTF16_LE + "\r\n".join(lines).encode("utf-16-le"))
    report = validate(tmp_path, mapping).problems.render()
    assert report == f"KH_2026_10.csv, row 4, value {lines[3]!r}: too few fields (3 of 12)"


# --- bytes that are not text: row, column and byte ------------------------------------------------


def test_bytes_not_valid_in_the_declared_encoding_are_named_by_row_column_and_byte(tmp_path):
    # A windows-1258 extract declared as UTF-8: each Vietnamese letter is a bad byte.
    mapping = write_extract(tmp_path, "windows-1258", "utf-8", ";")
    report = validate(tmp_path, mapping).problems.render()
    assert (
        "KH_2026_10.csv, row 2, column HoTen, value 'bytes 0xea 0xde 0xf2 0xf4 0xcc': not utf-8 text "
        "(the field reads 'Nguy��n Thi� H��ng'): fix the byte, or set the file's real encoding in the mapping"
    ) in report
    assert (
        "KH_2026_10.csv, row 2, column GioiTinh, value 'bytes 0xfd 0xde': not utf-8 text (the field reads 'N��')"
        in (report)
    )


def test_an_undefined_windows_1258_byte_is_named(tmp_path):
    mapping = write_extract(tmp_path)
    churn = encode_windows_1258(csv_text(CHURN_HEADER, CHURN_ROWS, ";")).replace(b"MobiFone", b"Mobi\x81Fone")
    (tmp_path / "RoiMang.csv").write_bytes(churn)
    report = validate(tmp_path, mapping).problems.render()
    assert "RoiMang.csv, row 3, column ChuyenSang, value 'byte 0x81': not windows-1258 text (the field reads " in (
        report
    )


def test_a_broken_utf16_file_is_named_by_row_and_column(tmp_path):
    mapping = write_extract(tmp_path, "utf-16 LE with BOM", "utf-16", "\t")
    data = (tmp_path / "KH_2026_10.csv").read_bytes()
    # A lone high surrogate in place of the 'L' of "Lê Hoàng Yến" (data row 3, line 4).
    data = data.replace("Lê".encode("utf-16-le"), b"\x00\xd8" + "ê".encode("utf-16-le"))
    (tmp_path / "KH_2026_10.csv").write_bytes(data)
    report = validate(tmp_path, mapping).problems.render()
    assert "KH_2026_10.csv, row 4, column HoTen, value 'bytes 0x00 0xd8': not utf-16 text (the field reads '�" in (
        report
    )


# --- nothing written on any problem; the command line ---------------------------------------------


@pytest.fixture(scope="module")
def occupied(tmp_path_factory) -> tuple[str, dict]:
    """A warehouse loaded from the good mapped extract, and its checksum."""
    directory = tmp_path_factory.mktemp("good")
    url = f"duckdb:///{tmp_path_factory.mktemp('occupied') / 'warehouse.duckdb'}"
    assert import_directory(directory, url, mapping=write_extract(directory)) == 0
    return url, warehouse_checksum(url)


def test_a_mapped_extract_imports_into_the_warehouse(occupied):
    url, _checksum = occupied
    customers = read_table(url, "customers")
    ids = ids_in_an_empty_warehouse(KEYS)
    assert customers.select("customer_id", "customer_key", "full_name").rows() == [
        (ids[key], key, name) for key, name in zip(KEYS, NAMES, strict=True)
    ]
    assert customers.get_column("area_type").to_list() == ["urban", "rural", "unknown", "unknown", "unknown"]
    churn = read_table(url, "churn_events")
    assert churn.select("customer_id", "reason", "reason_text").rows() == [
        (ids["KH-0002"], "price", "Giá cước cao"),
        (ids["KH-0004"], "other", "Lý do cá nhân"),
    ]
    assert read_table(url, "revenue_monthly").select("customer_id", "revenue_vnd").rows() == [
        (ids["KH-0001"], 189_000),
        (ids["KH-0003"], 1_020_500),
        (ids["KH-0005"], 49_000),
    ]


def break_mapping(directory: Path, mapping: Path) -> None:
    mapping.write_text(mapping.read_text(encoding="utf-8").replace('default = "unknown"', "default = unknown"))


def break_bytes(directory: Path, mapping: Path) -> None:
    data = (directory / "DoanhThu_2026_10.csv").read_bytes().replace(b"189", b"1\xff9")
    (directory / "DoanhThu_2026_10.csv").write_bytes(data)


def break_date(directory: Path, mapping: Path) -> None:
    text = (directory / "KH_2026_10.csv").read_text(encoding="utf-8").replace("14/12/2023", "2023-12-14")
    (directory / "KH_2026_10.csv").write_text(text, encoding="utf-8")


def break_column(directory: Path, mapping: Path) -> None:
    text = (directory / "RoiMang.csv").read_bytes().replace(b"ChuyenSang", b"Chuyen sang")
    (directory / "RoiMang.csv").write_bytes(text)


def break_contract(directory: Path, mapping: Path) -> None:
    # Every word is mapped, but "Nợ cước quá hạn" is non-payment while the type says voluntary.
    text = encode_windows_1258(csv_text(CHURN_HEADER, CHURN_ROWS, ";").replace("Giá cước cao", "Nợ cước quá hạn"))
    (directory / "RoiMang.csv").write_bytes(text)


@pytest.mark.parametrize(
    ("breaking", "expected"),
    [
        (break_mapping, "mapping.toml: not valid TOML: Invalid value (at line "),
        (break_bytes, "DoanhThu_2026_10.csv, row 2, column DoanhThu, value 'byte 0xff': not utf-8 text"),
        (break_date, "KH_2026_10.csv, row 2, column NgayHoaMang → activated_on, value '2023-12-14': cannot be read"),
        (break_column, "RoiMang.csv, column ChuyenSang: named in the mapping ([tables.churn_events.columns])"),
        (
            break_contract,
            "RoiMang.csv, row 2, column LoaiRoiMang → churn_type, value 'voluntary': churn_type must be 'involuntary' "
            "when reason = 'non_payment'",
        ),
    ],
)
def test_nothing_is_written_on_any_problem(occupied, tmp_path, capsys, breaking, expected):
    url, before = occupied
    mapping = write_extract(tmp_path)
    breaking(tmp_path, mapping)
    capsys.readouterr()
    assert import_directory(tmp_path, url, mapping=mapping) == 1
    assert warehouse_checksum(url) == before
    report = capsys.readouterr().err
    assert "nothing was written" in report
    assert expected in report


def test_command_line_takes_a_mapping(tmp_path, empty_duck_url):
    def run(directory: Path, mapping: Path) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "data_seed", "import", str(directory), "--url", empty_duck_url]
        return subprocess.run(
            [*command, "--mapping", str(mapping)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=300,
        )

    good = run(tmp_path / "good", write_extract(tmp_path / "good"))
    assert good.returncode == 0, good.stderr
    assert "customers.area_type: 3 values mapped to unknown ('Miền núi' ×2, 'Hải đảo' ×1)" in good.stdout
    assert "customers: 5 rows" in good.stdout
    bad_mapping = write_extract(tmp_path / "bad")
    break_mapping(tmp_path / "bad", bad_mapping)
    bad = run(tmp_path / "bad", bad_mapping)
    assert bad.returncode == 1
    assert "mapping.toml: not valid TOML" in bad.stderr
    assert len(read_table(empty_duck_url, "customers")) == 5


def test_the_mapping_layer_accepts_whatever_the_import_format_names(tmp_path):
    """The targets allowed come from the import format (import_column_names), never from the
    mapping layer: given a format in which churn files name customers by a subscriber number,
    the same extract maps to it, and the real format refuses that target."""

    def by_subscriber_number(table):
        names = import_column_names(table)
        if table is not t.churn_events:
            return names
        return tuple("subscriber_number" if name == "customer_key" else name for name in names)

    by_number = MAPPING.replace(
        'SoThueBao = "customer_key"\nNgayRoiMang', 'SoThueBao = "subscriber_number"\nNgayRoiMang'
    )
    mapping_path = write_extract(tmp_path, mapping=by_number)
    problems = ProblemLog()
    mapping = read_mapping(mapping_path, problems, by_subscriber_number)
    assert mapping is not None, problems.render()
    paths = find_mapped_files(tmp_path, mapping, problems)
    mapped = map_extract(t.churn_events, paths["churn_events"], mapping.tables["churn_events"], problems, [])
    assert mapped.frame.columns == [
        ROW,
        "subscriber_number",
        "churned_on",
        "churn_type",
        "reason",
        "reason_text",
        "ported_to",
    ]
    assert mapped.frame.get_column("subscriber_number").to_list() == ["KH-0002", "KH-0004"]
    assert not problems
    # The real import format has no such column: the same mapping is refused against it.
    assert read_mapping(mapping_path, problems) is None
    assert (
        "mapping.toml: [tables.churn_events.columns] 'SoThueBao': 'subscriber_number' is not a column of "
        "churn_events (its columns: customer_key,"
    ) in problems.render()


# --- the plain import (no mapping) names bad bytes by column too -----------------------------------


def plain_extract(tmp_path: Path) -> Path:
    """The good customers extract in the import format itself, as a plain import takes it."""
    validated = clean(validate(tmp_path / "mapped", write_extract(tmp_path / "mapped")))
    directory = tmp_path / "plain"
    directory.mkdir()
    # The frame is in warehouse shape; the file names customers by customer_key alone.
    validated.frames["customers"].drop(ROW, "customer_id").write_csv(directory / "customers.csv")
    return directory


def test_plain_import_names_the_row_column_and_bytes_not_utf8(tmp_path, occupied, capsys):
    directory = plain_extract(tmp_path)
    data = (directory / "customers.csv").read_bytes()
    # One name saved by a Windows program in its code page, inside an otherwise UTF-8 file.
    data = data.replace("Trần Văn Đức".encode(), encode_windows_1258("Trần Văn Đức"))
    (directory / "customers.csv").write_bytes(data)
    url, before = occupied
    capsys.readouterr()
    assert import_directory(directory, url) == 1
    assert warehouse_checksum(url) == before
    report = capsys.readouterr().err
    assert (
        "customers.csv, row 3, column full_name, value 'bytes 0xe2 0xcc 0xe3 0xd0 0xfd 0xec': not UTF-8 text "
        "(the field reads 'Tr��n V�n ���c'): save the file as 'CSV UTF-8'"
    ) in report
    assert report.count("customers.csv, row") == 1


def test_plain_import_recognises_utf16(tmp_path):
    directory = plain_extract(tmp_path)
    text = (directory / "customers.csv").read_text(encoding="utf-8")
    (directory / "customers.csv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    report = validate_directory(directory, today=TODAY).problems.render()
    assert report == (
        "customers.csv: UTF-16 text (Excel's 'Unicode text'): save it as 'CSV UTF-8', "
        'or import it with a mapping file that says encoding = "utf-16" (docs/import.md)'
    )
