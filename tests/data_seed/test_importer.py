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

from data_seed.import_files import IMPORTED_TABLES
from data_seed.import_warnings import month_row_counts
from data_seed.importer import import_directory, validate_directory
from queries import tables as t
from queries.engine import PROJECT_ROOT
from queries.metrics import MEASURES
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


def test_missing_optional_files_mean_empty_tables_and_a_warning_naming_the_pages(
    csv_dir, tmp_path, empty_duck_url, capsys
):
    extract = tmp_path / "customers_and_churn"
    extract.mkdir()
    # Churned customers need their churn events (churned ⇔ an event); everything else is absent.
    for name in ("customers", "churn_events"):
        shutil.copy(csv_dir / f"{name}.csv", extract / f"{name}.csv")
    validated = validate_directory(extract)
    assert not validated.problems, validated.problems.render()
    warnings = {problem.file: problem for problem in validated.warnings.sample}
    assert all(problem.severity == "warning" for problem in warnings.values())
    # One per missing table, and none for the two given ones.
    missing = {table.name for table in IMPORTED_TABLES} - {"customers", "churn_events"}
    assert set(warnings) == missing
    revenue = warnings["revenue_monthly"].message
    lead = "no file, the table will be empty; these will show nothing:\n  - "
    assert revenue.startswith(lead)
    pages = dict(part.split(": ", 1) for part in revenue.removeprefix(lead).split("\n  - "))
    label = {name: measure.label_en for name, measure in MEASURES.items()}
    # Of the Overview's nine figures only these two read revenue; active customers, churn … stay.
    assert pages["Tổng quan/Overview"] == f"{label['arpu']}, {label['revenue']}"
    assert pages["Khách hàng/Customers"].startswith(f"{label['revenue']}, {label['arpu']}, {label['revenue_share']}")
    # The complaint rate counts customer-months from revenue, so it goes blank as well.
    assert pages["Khiếu nại/Complaints"] == label["complaint_rate"]
    assert "Rời mạng/Churn" not in pages
    assert "Nợ cước/Debt: the whole page" in warnings["bills"].message
    assert "Rời mạng/Churn: refused port-out requests" in warnings["port_out_requests"].message
    assert "Tổng quan/Overview" not in warnings["port_out_requests"].message

    assert import_directory(extract, empty_duck_url) == 0
    output = capsys.readouterr().out
    assert "Warnings:\n" in output
    assert f"revenue_monthly: {revenue}" in output
    counts = row_counts(empty_duck_url)
    assert counts["customers"] == SMALL_CUSTOMERS and counts["complaints"] == 0 and counts["provinces"] == 34
    assert counts["churn_events"] == scalar(
        empty_duck_url, select(func.count()).where(t.customers.c.status == "churned")
    )


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
    first_id = customers.item(0, "customer_key")
    where = f"customers.csv, row {customers.height + 2}, column customer_key, value '{first_id}'"
    assert f"{where}: duplicate customer_key (first on row 2)" in report


def test_dangling_customer_reference_is_refused(work_dir, occupied, capsys):
    line = break_cell(work_dir, "complaints", "customer_key", "987654321")
    report = refused(work_dir, occupied, capsys)
    where = f"complaints.csv, row {line}, column customer_key, value '987654321'"
    assert f"{where}: unknown customer: no customer with this customer_key in the customers file" in report


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
    year_line = break_cell(work_dir, "customers", "birth_year", "19\x0080", pl.col("customer_key") != "0")
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
        pl.col("customer_id") == int(customers.item(0, "customer_key"))
    )
    assert first.select("full_name", "segment", "birth_year", "province_code").row(0) == (
        " =2+2",
        "individual",
        1980,
        "01",
    )
    second = read_table(empty_duck_url, "customers").filter(
        pl.col("customer_id") == int(customers.item(1, "customer_key"))
    )
    assert second.item(0, "full_name") == "Trần Thị B"  # trailing spaces carry nothing
    third = read_table(empty_duck_url, "customers").filter(
        pl.col("customer_id") == int(customers.item(2, "customer_key"))
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


# --- churned ⇔ a churn event, churn before activation, duplicates: across files ------------------


def churned_customer(work_dir: Path, index: int = 0) -> tuple[int, str]:
    """(CSV line, customer_id) of a churned customer in customers.csv."""
    customers = read_strings(work_dir / "customers.csv").with_row_index("i")
    row = customers.filter(pl.col("status") == "churned").row(index, named=True)
    return row["i"] + 2, row["customer_key"]


def test_churned_customer_without_a_churn_event_is_refused(work_dir, occupied, capsys):
    line, customer = churned_customer(work_dir)
    churn = read_strings(work_dir / "churn_events.csv")
    churn.filter(pl.col("customer_key") != customer).write_csv(work_dir / "churn_events.csv")
    report = refused(work_dir, occupied, capsys)
    where = f"customers.csv, row {line}, column status, value 'churned'"
    assert f"{where}: churned customer without a churn event: no churn_events row with customer_id = {customer}" in (
        report
    )


def test_churn_extract_missing_says_the_file_is_missing(csv_dir, tmp_path):
    extract = tmp_path / "only_customers"
    extract.mkdir()
    shutil.copy(csv_dir / "customers.csv", extract / "customers.csv")
    validated = validate_directory(extract)
    churned = read_strings(csv_dir / "customers.csv").filter(pl.col("status") == "churned").height
    assert (
        validated.problems.by_rule[
            ("customers.csv", "status: must have a churn_events row with the same customer_id when status = 'churned'")
        ]
        == churned
    )
    assert "(there is no churn_events file)" in validated.problems.sample[0].message
    # The warnings are reported too, after the errors.
    assert any(problem.file == "revenue_monthly" for problem in validated.warnings.sample)


def test_churn_event_of_an_active_customer_is_refused(work_dir, occupied, capsys):
    customers = read_strings(work_dir / "customers.csv")
    active = customers.filter(pl.col("status") == "active").row(0, named=True)
    churn = read_strings(work_dir / "churn_events.csv")
    # A well-formed event, dated after the activation, for a customer the extract calls active.
    event = churn.head(1).with_columns(
        customer_key=pl.lit(active["customer_key"]),
        churned_on=pl.lit("2026-10-15"),
        won_back_on=pl.lit(None, pl.String),
    )
    pl.concat([churn, event]).write_csv(work_dir / "churn_events.csv")
    report = refused(work_dir, occupied, capsys)
    where = f"churn_events.csv, row {churn.height + 2}, column customer_key, value '{active['customer_key']}'"
    assert (
        f"{where}: churn event of a customer not churned: the customers row with customer_id = "
        f"{active['customer_key']} has status = 'active'"
    ) in report
    assert "must equal customers.churned_on" not in report  # one broken row, one line


def test_churn_before_activation_is_refused(work_dir, occupied, capsys):
    _, customer = churned_customer(work_dir)
    activated = (
        read_strings(work_dir / "customers.csv").filter(pl.col("customer_key") == customer).item(0, "activated_on")
    )
    before = (date.fromisoformat(activated) - timedelta(days=1)).isoformat()
    line = break_cell(work_dir, "churn_events", "churned_on", before, pl.col("customer_key") == customer)
    report = refused(work_dir, occupied, capsys)
    where = f"churn_events.csv, row {line}, column churned_on, value '{before}'"
    assert (
        f"{where}: churn before activation: must be on or after customers.activated_on ({activated}, "
        f"customer_id {customer})"
    ) in report


def test_revenue_of_an_unknown_customer_is_refused(work_dir, occupied, capsys):
    line = break_cell(work_dir, "revenue_monthly", "customer_key", "424242424")
    report = refused(work_dir, occupied, capsys)
    where = f"revenue_monthly.csv, row {line}, column customer_key, value '424242424'"
    assert f"{where}: unknown customer: no customer with this customer_key in the customers file" in report


def test_duplicate_composite_key_names_both_rows(work_dir, occupied, capsys):
    revenue = read_strings(work_dir / "revenue_monthly.csv")
    twin = revenue.slice(3, 1).with_columns(revenue_vnd=pl.lit("1"))
    pl.concat([revenue, twin]).write_csv(work_dir / "revenue_monthly.csv")
    report = refused(work_dir, occupied, capsys)
    key = f"{revenue.item(3, 'customer_key')}, {revenue.item(3, 'revenue_month')}"
    where = f"revenue_monthly.csv, row {revenue.height + 2}, column customer_key, revenue_month, value '{key}'"
    assert f"{where}: duplicate customer_id, revenue_month (first on row 5)" in report


def test_old_extract_birth_years_are_judged_in_its_own_year(csv_dir, tmp_path, empty_duck_url):
    """An extract of 2015: aged 119 then (born 1896) is plausible, though 130 today."""
    extract = tmp_path / "old"
    extract.mkdir()
    customers = read_strings(csv_dir / "customers.csv").filter(pl.col("status") == "active").head(3)
    customers = customers.with_columns(activated_on=pl.Series(["2014-03-02", "2015-06-30", "2015-12-20"]))
    set_cells(customers, "birth_year", {0: "1896", 1: "2001"}).write_csv(extract / "customers.csv")
    assert import_directory(extract, empty_duck_url) == 0
    imported = dict(read_table(empty_duck_url, "customers").select("customer_id", "birth_year").iter_rows())
    ids = [int(value) for value in customers.get_column("customer_key")]
    assert (imported[ids[0]], imported[ids[1]]) == (1896, 2001)

    set_cells(customers, "birth_year", {0: "1894", 1: "2002"}).write_csv(extract / "customers.csv")
    report = validate_directory(extract).problems.render()
    plausible = "must give an age of 14 to 120 in the year of the data (2015: born 1895 to 2001)"
    assert f"customers.csv, row 2, column birth_year, value '1894': {plausible}" in report
    assert f"customers.csv, row 3, column birth_year, value '2002': {plausible}" in report


# --- warnings: loaded anyway, said out loud ---------------------------------------------------------


def warning_lines(validated) -> list[str]:
    return [problem.line() for problem in validated.warnings.sample]


def test_unknown_values_are_counted_in_a_warning(work_dir, empty_duck_url, capsys):
    break_cells(work_dir, "customers", "area_type", ["unknown"] * 3, pl.col("area_type").is_not_null())
    ported = pl.col("ported_to").is_not_null()
    break_cells(work_dir, "churn_events", "ported_to", ["unknown"] * 2, ported)
    customers = read_strings(work_dir / "customers.csv")
    destinations = read_strings(work_dir / "churn_events.csv").filter(ported).height
    validated = validate_directory(work_dir)
    assert not validated.problems
    share = 3 / customers.height
    assert (
        f"customers.csv, column area_type: 3 of {customers.height:,} values ({share:.1%}) are 'unknown' "
        "(allowed: the extract does not record it); figures by area_type cannot place these rows"
    ) in warning_lines(validated)
    assert any(
        line.startswith(f"churn_events.csv, column ported_to: 2 of {destinations:,} values")
        for line in warning_lines(validated)
    )
    assert import_directory(work_dir, empty_duck_url) == 0  # warnings never stop an import
    assert "column area_type: 3 of" in capsys.readouterr().out


def test_a_month_much_thinner_than_the_previous_is_a_warning(work_dir):
    revenue = read_strings(work_dir / "revenue_monthly.csv")
    october = revenue.filter(pl.col("revenue_month") == "2026-10-01").height
    bills = read_strings(work_dir / "bills.csv").filter(pl.col("bill_month") == "2026-10-01").height
    previous = {"revenue_monthly": 2 * october + 1, "bills": 2 * bills, "complaints": 0}
    validated = validate_directory(work_dir, previous_month_rows=previous)
    assert not validated.problems
    thin = [line for line in warning_lines(validated) if "previous month" in line]
    assert thin == [
        f"revenue_monthly.csv: only {october:,} rows for 2026-10, fewer than 50% of the previous month's "
        f"{2 * october + 1:,}: a cut-short or partial extract? The import goes ahead."
    ]  # bills at exactly half are fine; a table with no rows before is not compared


def test_month_row_counts_are_what_the_next_import_compares_with(work_dir):
    validated = validate_directory(work_dir)
    counts = month_row_counts(validated.frames)
    revenue = read_strings(work_dir / "revenue_monthly.csv")
    assert counts["revenue_monthly"] == revenue.filter(pl.col("revenue_month") == "2026-10-01").height
    assert set(counts) == {"revenue_monthly", "bills", "care_contacts_monthly"}
    # Fed back unchanged, nothing is thin.
    again = validate_directory(work_dir, previous_month_rows=counts)
    assert not [line for line in warning_lines(again) if "previous month" in line]


def test_optional_column_not_given_is_a_warning(work_dir):
    read_strings(work_dir / "customers.csv").drop("phone").write_csv(work_dir / "customers.csv")
    validated = validate_directory(work_dir)
    assert not validated.problems
    assert "customers.csv, column phone: optional column not given: it will be empty" in warning_lines(validated)


def test_warnings_follow_the_errors_in_a_refused_import(work_dir, occupied, capsys):
    (work_dir / "surveys.csv").unlink()
    break_cell(work_dir, "complaints", "category", "weather")
    report = refused(work_dir, occupied, capsys)
    errors, warnings = report.split("Warnings (these alone would not stop the import):\n")
    assert "value 'weather': must be one of" in errors
    assert warnings.startswith(
        "surveys: no file, the table will be empty; these will show nothing:\n  - Tổng quan/Overview: NPS\n"
    )
