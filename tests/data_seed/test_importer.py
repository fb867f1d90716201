"""The importer: good extracts load completely; every kind of bad extract is refused, row-numbered,
with nothing written (the target warehouse keeps its previous content, byte for byte in content).

Good input is made by exporting a small seeded warehouse to CSV and to Parquet, as an
operator's extract would look; each bad case breaks one thing in a copy of it.
"""

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine, func, select

from data_seed.importer import import_directory, validate_directory
from queries import tables as t
from queries.engine import PROJECT_ROOT
from tests.conftest import TEST_END_MONTH, TEST_SEED
from tests.warehouse_files import export_warehouse, read_table, warehouse_checksum

SMALL_CUSTOMERS = 2_000
SMALL_MONTHS = 12


@pytest.fixture(scope="module")
def source_url(tmp_path_factory) -> str:
    from data_seed import seed_warehouse

    url = f"duckdb:///{tmp_path_factory.mktemp('source') / 'source.duckdb'}"
    seed_warehouse(url, customers=SMALL_CUSTOMERS, months=SMALL_MONTHS, seed=TEST_SEED, end_month=TEST_END_MONTH)
    return url


@pytest.fixture(scope="module")
def csv_dir(source_url, tmp_path_factory) -> Path:
    return export_warehouse(source_url, tmp_path_factory.mktemp("csv"), "csv")


@pytest.fixture(scope="module")
def parquet_dir(source_url, tmp_path_factory) -> Path:
    return export_warehouse(source_url, tmp_path_factory.mktemp("parquet"), "parquet")


@pytest.fixture(scope="module")
def occupied(csv_dir, tmp_path_factory) -> tuple[str, dict]:
    """A warehouse already holding data, and its checksum; bad imports must leave it exactly as it is."""
    url = f"duckdb:///{tmp_path_factory.mktemp('occupied') / 'warehouse.duckdb'}"
    assert import_directory(csv_dir, url) == 0
    return url, warehouse_checksum(url)


@pytest.fixture()
def work_dir(csv_dir, tmp_path) -> Path:
    """A private copy of the good CSV extract, for one test to break."""
    return Path(shutil.copytree(csv_dir, tmp_path / "extract"))


def scalar(url: str, statement):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(statement).scalar_one()
    finally:
        engine.dispose()


def aggregates(url: str) -> dict[str, object]:
    return {
        "revenue": scalar(url, select(func.sum(t.revenue_monthly.c.revenue_vnd))),
        "billed": scalar(url, select(func.sum(t.bills.c.billed_vnd))),
        "paid": scalar(url, select(func.sum(t.bills.c.paid_vnd))),
        "churned": scalar(url, select(func.count()).where(t.customers.c.status == "churned")),
        "key_accounts": scalar(url, select(func.count()).where(t.customers.c.is_key_account)),
        "last_opened": scalar(url, select(func.max(t.complaints.c.opened_at))),
        "resolved": scalar(url, select(func.count(t.complaints.c.resolved_at))),
        "answered": scalar(url, select(func.sum(t.care_contacts_monthly.c.answered_within_60s))),
        "nps": scalar(url, select(func.sum(t.surveys.c.nps_score))),
        "targets": scalar(url, select(func.sum(t.kpi_targets.c.target_value))),
    }


def row_counts(url: str) -> dict[str, int]:
    return {name: scalar(url, select(func.count()).select_from(table)) for name, table in t.metadata.tables.items()}


def data_through(url: str) -> str:
    meta = t.warehouse_meta
    return scalar(url, select(meta.c.value).where(meta.c.key == "data_through"))


def assert_same_content(source_url: str, target_url: str) -> None:
    source_counts, target_counts = row_counts(source_url), row_counts(target_url)
    for name in t.metadata.tables:
        if name != "warehouse_meta":
            assert target_counts[name] == source_counts[name], name
    assert target_counts["customers"] == SMALL_CUSTOMERS
    target, source = aggregates(target_url), aggregates(source_url)
    # A float sum depends on summation order; everything else must match exactly.
    assert target.pop("targets") == pytest.approx(source.pop("targets"), rel=1e-12)
    assert target == source
    assert data_through(target_url) == date(2026, 10, 1).isoformat()


# --- good input -----------------------------------------------------------------------------


def test_csv_extract_imports_completely(source_url, csv_dir, empty_duck_url, capsys):
    assert import_directory(csv_dir, empty_duck_url) == 0
    assert_same_content(source_url, empty_duck_url)
    output = capsys.readouterr().out
    assert f"customers: {SMALL_CUSTOMERS:,} rows" in output
    assert "data through 2026-10-01" in output
    source = scalar(empty_duck_url, select(t.warehouse_meta.c.value).where(t.warehouse_meta.c.key == "source"))
    assert source == f"import:{csv_dir}"


def test_parquet_extract_imports_completely(source_url, parquet_dir, empty_duck_url):
    assert import_directory(parquet_dir, empty_duck_url) == 0
    assert_same_content(source_url, empty_duck_url)
    # Parquet keeps types, so the rows themselves must round-trip exactly.
    assert read_table(empty_duck_url, "complaints").equals(read_table(source_url, "complaints"))


@pytest.mark.postgres
def test_csv_extract_imports_into_postgresql(source_url, csv_dir, empty_pg_url):
    assert import_directory(csv_dir, empty_pg_url) == 0
    assert_same_content(source_url, empty_pg_url)


def test_missing_optional_files_mean_empty_tables(csv_dir, tmp_path, empty_duck_url, capsys):
    extract = tmp_path / "only_customers"
    extract.mkdir()
    # Churn and port-in details live in other files; keep customers self-consistent without them.
    shutil.copy(csv_dir / "customers.csv", extract / "customers.csv")
    assert import_directory(extract, empty_duck_url) == 0
    output = capsys.readouterr().out
    assert "complaints: no file, the table will be empty" in output
    counts = row_counts(empty_duck_url)
    assert counts["customers"] == SMALL_CUSTOMERS and counts["complaints"] == 0 and counts["provinces"] == 34


def test_legacy_province_codes_land_in_their_new_province(work_dir, empty_duck_url, capsys):
    customers = read_strings(work_dir / "customers.csv")
    # 02 Hà Giang merged into 08 Tuyên Quang; 77 Bà Rịa - Vũng Tàu into 79 Hồ Chí Minh.
    customers = set_cells(customers, "province_code", {0: "02", 1: "77", 2: "01"})
    customers.write_csv(work_dir / "customers.csv")
    # A care-contact row of the old province adds to the new province's row for the same month.
    contacts = read_strings(work_dir / "care_contacts_monthly.csv")
    tuyen_quang = contacts.filter(pl.col("province_code") == "08").head(1)
    contacts = pl.concat([contacts, tuyen_quang.with_columns(province_code=pl.lit("02"))])
    contacts.write_csv(work_dir / "care_contacts_monthly.csv")

    assert import_directory(work_dir, empty_duck_url) == 0
    assert "legacy province codes mapped" in capsys.readouterr().out
    imported = read_table(empty_duck_url, "customers").head(3).get_column("province_code").to_list()
    assert imported == ["08", "79", "01"]
    key = tuyen_quang.row(0, named=True)
    merged = read_table(empty_duck_url, "care_contacts_monthly").filter(
        (pl.col("contact_month") == date.fromisoformat(key["contact_month"]))
        & (pl.col("province_code") == "08")
        & (pl.col("channel") == key["channel"])
    )
    assert merged.height == 1
    assert merged.item(0, "contacts_offered") == 2 * int(key["contacts_offered"])


# --- bad input: refused, row-numbered, nothing written -----------------------------------------


def read_strings(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def set_cells(frame: pl.DataFrame, column: str, values: dict[int, str | None]) -> pl.DataFrame:
    """Replace cells by data-row index (0 = first data row = line 2 of the CSV)."""
    cells = frame.get_column(column).to_list()
    for index, value in values.items():
        cells[index] = value
    return frame.with_columns(pl.Series(column, cells, dtype=pl.String))


def first_index(frame: pl.DataFrame, condition: pl.Expr) -> int:
    return frame.with_row_index("i").filter(condition).item(0, "i")


def refused(work_dir: Path, occupied: tuple[str, dict], capsys) -> str:
    url, before = occupied
    capsys.readouterr()
    assert import_directory(work_dir, url) == 1
    assert warehouse_checksum(url) == before
    captured = capsys.readouterr()
    assert "nothing was written" in captured.err
    return captured.err


def break_cell(work_dir: Path, table: str, column: str, value: str | None, where: pl.Expr | None = None) -> int:
    """Set one cell; returns the row number the user sees (CSV line)."""
    frame = read_strings(work_dir / f"{table}.csv")
    index = first_index(frame, where) if where is not None else 5
    set_cells(frame, column, {index: value}).write_csv(work_dir / f"{table}.csv")
    return index + 2


def test_wrong_type_is_reported_with_its_line(work_dir, occupied, capsys):
    line = break_cell(work_dir, "customers", "birth_year", "19x0")
    report = refused(work_dir, occupied, capsys)
    assert f"customers.csv, row {line}, column birth_year, value '19x0': cannot be read as a whole number" in report


def test_bad_timestamp_and_boolean_are_reported(work_dir, occupied, capsys):
    line = break_cell(work_dir, "complaints", "opened_at", "31/01/2026 10:00")
    other = break_cell(work_dir, "complaints", "escalated", "yes", pl.col("complaint_id") != "0")
    report = refused(work_dir, occupied, capsys)
    assert (
        f"complaints.csv, row {line}, column opened_at, value '31/01/2026 10:00': cannot be read as a local timestamp"
        in report
    )
    assert f"complaints.csv, row {other}, column escalated, value 'yes': cannot be read as true or false" in report


def test_parquet_value_that_would_change_on_cast_is_reported(parquet_dir, tmp_path, occupied, capsys):
    extract = Path(shutil.copytree(parquet_dir, tmp_path / "extract"))
    customers = pl.read_parquet(extract / "customers.parquet")
    years = customers.get_column("birth_year").cast(pl.Float64).scatter(3, 1980.5)
    customers.with_columns(years).write_parquet(extract / "customers.parquet")
    report = refused(extract, occupied, capsys)
    # Parquet rows count from 1 (no header line); 1980.0 elsewhere is accepted as a whole number.
    assert "customers.parquet, row 4, column birth_year, value '1980.5': cannot be read as a whole number" in report
    assert report.count("cannot be read") == 1


def test_row_numbers_count_line_breaks_inside_quoted_values(work_dir, occupied, capsys):
    customers = read_strings(work_dir / "customers.csv")
    customers = set_cells(customers, "full_name", {1: "Nguyễn Văn A\n(chủ hộ)"})
    set_cells(customers, "birth_year", {5: "19x0"}).write_csv(work_dir / "customers.csv")
    report = refused(work_dir, occupied, capsys)
    # Data row 6 starts on line 8: the header, five rows before it, one of them two lines long.
    assert "customers.csv, row 8, column birth_year, value '19x0'" in report


def test_malformed_csv_lines_are_named(work_dir, occupied, capsys):
    lines = (work_dir / "staff.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].rstrip("\n") + ",extra\n"  # line 4: a comma in an unquoted value
    (work_dir / "staff.csv").write_text("".join(lines), encoding="utf-8")
    surveys = (work_dir / "surveys.csv").read_bytes().split(b"\n")
    surveys[2] = surveys[2] + "é".encode("cp1258")  # line 3 saved in a Windows code page
    (work_dir / "surveys.csv").write_bytes(b"\n".join(surveys))
    report = refused(work_dir, occupied, capsys)
    extra = lines[3].rstrip("\n")
    assert f"staff.csv, row 4, value '{extra}': too many fields (5 of 4): a comma in an unquoted value?" in report
    # The byte is named with its row and column, and the field as an editor shows it.
    last = surveys[0].decode().split(",")[-1]
    field = surveys[2].split(b",")[-1][:-1].decode() + "\ufffd"
    assert (
        f"surveys.csv, row 3, column {last}, value 'byte 0xe9': not UTF-8 text (the field reads '{field}'): "
        "save the file as 'CSV UTF-8'"
    ) in report


def test_empty_file_and_repeated_header_are_refused(work_dir, occupied, capsys):
    (work_dir / "training.csv").write_text("", encoding="utf-8")
    header, *rest = (work_dir / "campaigns.csv").read_text(encoding="utf-8").splitlines()
    (work_dir / "campaigns.csv").write_text(
        "\n".join([header + ",name", *(line + ",x" for line in rest)]) + "\n", encoding="utf-8"
    )
    report = refused(work_dir, occupied, capsys)
    assert "training.csv: empty file: a header row with the column names is needed" in report
    assert "campaigns.csv, column name: column appears twice" in report


def test_unknown_category_is_refused(work_dir, occupied, capsys):
    line = break_cell(work_dir, "complaints", "category", "weather")
    report = refused(work_dir, occupied, capsys)
    assert f"complaints.csv, row {line}, column category, value 'weather': must be one of coverage, billing" in report


def test_unknown_province_code_is_refused(work_dir, occupied, capsys):
    line = break_cell(work_dir, "customers", "province_code", "99")
    report = refused(work_dir, occupied, capsys)
    assert f"customers.csv, row {line}, column province_code, value '99': unknown province code" in report


def test_resolved_before_opened_is_refused(work_dir, occupied, capsys):
    line = break_cell(
        work_dir,
        "complaints",
        "resolved_at",
        "2000-01-01 00:00:00",
        pl.col("resolved_at").is_not_null(),
    )
    report = refused(work_dir, occupied, capsys)
    assert (
        f"complaints.csv, row {line}, column resolved_at, value '2000-01-01 00:00:00': must be on or after opened_at ("
        in report
    )


def test_negative_billed_amount_is_refused(work_dir, occupied, capsys):
    line = break_cell(work_dir, "bills", "billed_vnd", "-5000")
    report = refused(work_dir, occupied, capsys)
    assert f"bills.csv, row {line}, column billed_vnd, value '-5000': must be ≥ 0" in report


def test_a_credit_month_imports_as_negative_net_revenue(work_dir, empty_duck_url):
    # Refunds and credits larger than the month's charges leave net revenue below zero.
    break_cell(work_dir, "revenue_monthly", "revenue_vnd", "-5000")
    assert import_directory(work_dir, empty_duck_url) == 0
    engine = create_engine(empty_duck_url)
    with engine.connect() as connection:
        lowest = connection.execute(select(func.min(t.revenue_monthly.c.revenue_vnd))).scalar_one()
    engine.dispose()
    assert lowest == -5000


def test_duplicate_id_is_refused_naming_the_first_row(work_dir, occupied, capsys):
    customers = read_strings(work_dir / "customers.csv")
    # A second customer with the id of the first one, appended at the end of the file.
    twin = customers.head(1).with_columns(full_name=pl.lit("Người Khác"))
    pl.concat([customers, twin]).write_csv(work_dir / "customers.csv")
    report = refused(work_dir, occupied, capsys)
    first_id = customers.item(0, "customer_id")
    where = f"customers.csv, row {customers.height + 2}, column customer_id, value '{first_id}'"
    assert f"{where}: duplicate customer_id (first on row 2)" in report


def test_dangling_customer_reference_is_refused(work_dir, occupied, capsys):
    line = break_cell(work_dir, "complaints", "customer_id", "987654321")
    report = refused(work_dir, occupied, capsys)
    where = f"complaints.csv, row {line}, column customer_id, value '987654321'"
    assert f"{where}: no customers row with customer_id = 987654321" in report


def test_missing_required_column_is_refused(work_dir, occupied, capsys):
    read_strings(work_dir / "customers.csv").drop("segment").write_csv(work_dir / "customers.csv")
    report = refused(work_dir, occupied, capsys)
    assert "customers.csv, column segment: required column is missing" in report


def test_unknown_column_is_refused(work_dir, occupied, capsys):
    frame = read_strings(work_dir / "complaints.csv")
    frame.rename({"resolved_at": "resolved_time"}).write_csv(work_dir / "complaints.csv")
    report = refused(work_dir, occupied, capsys)
    assert "complaints.csv, column resolved_time: unknown column for complaints" in report


def test_missing_customers_file_is_refused(work_dir, occupied, capsys):
    (work_dir / "customers.csv").unlink()
    report = refused(work_dir, occupied, capsys)
    assert "customers.csv: missing: this file is required" in report


def test_unknown_file_is_refused(work_dir, occupied, capsys):
    (work_dir / "provinces.csv").write_text("province_code\n01\n", encoding="utf-8")
    (work_dir / "notes.txt").write_text("hello", encoding="utf-8")
    report = refused(work_dir, occupied, capsys)
    assert "provinces.csv: unknown file" in report and "reference data" in report
    assert "notes.txt: unknown file" in report


def test_report_is_capped_with_a_count_of_the_rest(work_dir, occupied, capsys):
    bills = read_strings(work_dir / "bills.csv")
    # Nothing paid, so paid ≤ billed is not broken as well: one problem per row.
    bills = bills.with_columns(billed_vnd=pl.lit("-1"), paid_vnd=pl.lit("-1"), paid_on=pl.lit(None, pl.String))
    bills.write_csv(work_dir / "bills.csv")
    report = refused(work_dir, occupied, capsys)
    assert report.count(": must be ≥ 0\n") == 50
    assert f"bills.csv, billed_vnd: must be ≥ 0: {bills.height:,} rows" in report
    assert f"… and {2 * bills.height - 50:,} more" in report
    assert "bills.csv, row 2, column billed_vnd" in report  # the first rows come first


# --- hostile values: NUL bytes, misshapen rows, dates to come, formulas behind spaces --------------


def test_short_row_is_one_line_not_one_per_missing_field(work_dir, occupied, capsys):
    customers = read_strings(work_dir / "customers.csv")
    customers = set_cells(customers, "full_name", {1: "Nguyễn Văn A\n(chủ hộ)"})  # data row 2 spans two lines
    customers.write_csv(work_dir / "customers.csv")
    lines = (work_dir / "customers.csv").read_text(encoding="utf-8").split("\n")
    short = ",".join(lines[7].split(",")[:3])  # data row 6, on line 8 (after the two-line row)
    lines[7] = short
    (work_dir / "customers.csv").write_text("\n".join(lines), encoding="utf-8")
    report = refused(work_dir, occupied, capsys)
    assert f"customers.csv, row 8, value '{short}': too few fields (3 of {customers.width})" in report
    assert report.count("customers.csv, row 8") == 1
    assert "must not be empty" not in report


def test_empty_line_is_one_line(work_dir, occupied, capsys):
    lines = (work_dir / "staff.csv").read_text(encoding="utf-8").split("\n")
    lines.insert(4, "")  # a blank line 5
    (work_dir / "staff.csv").write_text("\n".join(lines), encoding="utf-8")
    report = refused(work_dir, occupied, capsys)
    assert "staff.csv, row 5: empty row: no field is filled (delete the line)" in report
    assert report.count("staff.csv, row 5") == 1 and "must not be empty" not in report


def test_short_row_in_a_file_whose_last_column_is_mostly_empty(work_dir, occupied, capsys):
    # bills.terminated_on, the last column, is empty on almost every row: a row cut after
    # paid_vnd must still be told apart from a row whose blocks and termination are empty.
    bills = read_strings(work_dir / "bills.csv")
    assert bills.columns[-1] == "terminated_on" and bills.get_column("terminated_on").null_count() > 0
    lines = (work_dir / "bills.csv").read_text(encoding="utf-8").split("\n")
    lines[9] = ",".join(lines[9].split(",")[:6])
    (work_dir / "bills.csv").write_text("\n".join(lines), encoding="utf-8")
    report = refused(work_dir, occupied, capsys)
    assert f"bills.csv, row 10, value '{lines[9]}': too few fields (6 of {bills.width})" in report
    assert report.count("bills.csv, row") == 1


def test_nul_byte_is_refused_with_file_row_and_column(work_dir, occupied, capsys):
    name_line = break_cell(work_dir, "customers", "full_name", "Nguyễn\x00Văn A")
    year_line = break_cell(work_dir, "customers", "birth_year", "19\x0080", pl.col("customer_id") != "0")
    report = refused(work_dir, occupied, capsys)
    nul = "contains a NUL byte (\\x00): remove it, it is not text"
    assert f"customers.csv, row {name_line}, column full_name, value 'Nguyễn\\x00Văn A': {nul}" in report
    assert f"customers.csv, row {year_line}, column birth_year, value '19\\x0080': {nul}" in report
    assert "cannot be read" not in report  # the NUL is the problem, said once


def test_nul_byte_in_parquet_text_is_refused(parquet_dir, tmp_path, occupied, capsys):
    extract = Path(shutil.copytree(parquet_dir, tmp_path / "extract"))
    campaigns = pl.read_parquet(extract / "campaigns.parquet")
    names = campaigns.get_column("name").scatter(0, "Giữ chân\x00")
    campaigns.with_columns(names).write_parquet(extract / "campaigns.parquet")
    report = refused(extract, occupied, capsys)
    assert "campaigns.parquet, row 1, column name, value 'Giữ chân\\x00': contains a NUL byte" in report


def break_cells(work_dir: Path, table: str, column: str, values: list[str], where: pl.Expr) -> list[int]:
    """Set the cell of the first rows matching ``where``, one value each; their CSV lines."""
    frame = read_strings(work_dir / f"{table}.csv")
    indexes = frame.with_row_index("i").filter(where).get_column("i").head(len(values)).to_list()
    set_cells(frame, column, dict(zip(indexes, values, strict=True))).write_csv(work_dir / f"{table}.csv")
    return [index + 2 for index in indexes]


def future_dates_report(work_dir: Path, today: date) -> str:
    validated = validate_directory(work_dir, today=today)
    return validated.problems.render()


def test_dates_in_the_future_are_refused(work_dir):
    today = date(2026, 11, 15)  # after every date of the extract (data through October 2026)
    active = pl.col("churned_on").is_null()
    tomorrow, kept = break_cells(work_dir, "customers", "activated_on", ["2026-11-16", "2026-11-15"], active)
    # closed_at has nothing after it, so only the future-date rule can object.
    closed = break_cell(work_dir, "complaints", "closed_at", "2099-01-01 08:00:00", pl.col("closed_at").is_not_null())
    month = break_cell(work_dir, "revenue_monthly", "revenue_month", "2026-12-01")
    report = future_dates_report(work_dir, today)
    rule = "must not be in the future (today in Vietnam: 2026-11-15)"
    assert f"customers.csv, row {tomorrow}, column activated_on, value '2026-11-16': {rule}" in report
    assert f"complaints.csv, row {closed}, column closed_at, value '2099-01-01 08:00:00': {rule}" in report
    assert f"revenue_monthly.csv, row {month}, column revenue_month, value '2026-12-01': {rule}" in report
    assert f"row {kept}," not in report  # today itself is fine
    assert report.count(rule) == 3


def test_end_of_today_and_the_current_month_are_not_the_future(work_dir):
    today = date(2026, 11, 15)
    break_cell(work_dir, "complaints", "closed_at", "2026-11-15 23:59:59", pl.col("closed_at").is_not_null())
    break_cell(work_dir, "revenue_monthly", "revenue_month", "2026-11-01")
    assert future_dates_report(work_dir, today) == ""


def test_targets_bills_and_campaigns_may_lie_ahead_within_their_limits(work_dir):
    today = date(2026, 11, 15)
    unblocked = pl.col("one_way_block_on").is_null()
    break_cell(work_dir, "kpi_targets", "target_month", "2099-01-01")  # targets are plans: no limit
    due = [(today + timedelta(days=days)).isoformat() for days in (62, 63)]
    _, late_bill = break_cells(work_dir, "bills", "due_on", due, unblocked)
    break_cell(work_dir, "campaigns", "ended_on", (today + timedelta(days=366)).isoformat())
    report = future_dates_report(work_dir, today)
    assert report == (
        f"bills.csv, row {late_bill}, column due_on, value '{due[1]}': "
        "must not be more than 62 days in the future (today in Vietnam: 2026-11-15)"
    )


def test_future_date_refused_through_the_whole_import(work_dir, occupied, capsys):
    line = break_cell(work_dir, "customers", "activated_on", "2099-01-01", pl.col("churned_on").is_null())
    report = refused(work_dir, occupied, capsys)
    assert f"customers.csv, row {line}, column activated_on, value '2099-01-01': must not be in the future" in report


def test_leading_spaces_of_free_text_are_kept_codes_and_numbers_are_trimmed(work_dir, empty_duck_url):
    # Stripping " =2+2" would turn a harmless name into a live spreadsheet formula.
    customers = read_strings(work_dir / "customers.csv")
    customers = set_cells(customers, "full_name", {0: " =2+2", 1: "Trần Thị B  ", 2: "   "})
    customers = set_cells(customers, "segment", {0: " individual "})
    customers = set_cells(customers, "birth_year", {0: " 1980\r"})
    customers = set_cells(customers, "province_code", {0: " 01"})
    # Row 3 has a blank name: blank is empty, and an extract may lack names (they stay unknown).
    customers.write_csv(work_dir / "customers.csv")
    assert import_directory(work_dir, empty_duck_url) == 0
    first = read_table(empty_duck_url, "customers").filter(
        pl.col("customer_id") == int(customers.item(0, "customer_id"))
    )
    assert first.select("full_name", "segment", "birth_year", "province_code").row(0) == (
        " =2+2",
        "individual",
        1980,
        "01",
    )
    second = read_table(empty_duck_url, "customers").filter(
        pl.col("customer_id") == int(customers.item(1, "customer_id"))
    )
    assert second.item(0, "full_name") == "Trần Thị B"  # trailing spaces carry nothing
    third = read_table(empty_duck_url, "customers").filter(
        pl.col("customer_id") == int(customers.item(2, "customer_id"))
    )
    assert third.item(0, "full_name") is None


def test_cli_imports_and_refuses(csv_dir, tmp_path, empty_duck_url):
    def run(directory: Path) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "data_seed", "import", str(directory), "--url", empty_duck_url]
        return subprocess.run(
            command, cwd=PROJECT_ROOT, capture_output=True, text=True, env=dict(os.environ), timeout=300
        )

    good = run(csv_dir)
    assert good.returncode == 0, good.stderr
    assert f"customers: {SMALL_CUSTOMERS:,} rows" in good.stdout
    broken = Path(shutil.copytree(csv_dir, tmp_path / "broken"))
    (broken / "customers.csv").unlink()
    bad = run(broken)
    assert bad.returncode == 1
    assert "customers.csv: missing: this file is required" in bad.stderr
    assert row_counts(empty_duck_url)["customers"] == SMALL_CUSTOMERS
