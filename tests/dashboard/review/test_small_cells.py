"""Small-cell protection (queries/disclosure.py, issue 13 item 4): a regional manager never
sees a country figure whose part outside their provinces comes from fewer than k customers
(or complaints, survey answers, calls), on the Review page, in its tables or in the meeting
pack; with a wide filter the country is shown and equals an independent computation; a role
that sees the whole country still sees the small figure.

The seeded test warehouse holds, in October 2026, exactly one household, postpaid, remote,
65+ customer, outside Hà Nội and Hải Phòng (the manager's provinces hold none): the same
situation as the demo's foreign/postpaid/remote/65+ customer in Phú Thọ. Every premise
about counts is computed here from the raw tables, not taken from the code under test."""

import io
from dataclasses import replace
from datetime import date, datetime

import polars as pl
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from dashboard.frame.filter_options import load_filter_options
from dashboard.frame.filter_text import describe_filters
from dashboard.frame.session import View
from dashboard.frame.warehouse import run
from dashboard.review.data import load_review
from dashboard.review.pack_excel import build_workbook, sheet_name
from dashboard.review.pack_pdf import build_pdf
from dashboard.review.tables import breakdown_table, findings_table, shown_frame
from dashboard.text.formatting import format_value
from dashboard.text.strings import t
from queries.disclosure import MIN_UNITS, MONEY_BASES, hide_small_cells, too_few
from queries.filters import UNRESTRICTED, Filters, Scope
from queries.metrics import MEASURES
from queries.review import country_filters, period_values_select, review_period
from tests.measure_reference import as_ts, load_raw, make_context, next_month, reference_value, with_dims
from tests.page_helpers import assert_clean, open_page, table_with

MANAGER = Scope(role="regional_manager", provinces=frozenset({"01", "31"}), user="manager")
OCTOBER = date(2026, 10, 1)
GENERATED = datetime(2026, 11, 24, 9, 30)
# One customer outside the manager's provinces, none inside (the case).
NARROW = {"segments": ("household",), "plans": ("postpaid",), "area_types": ("remote",), "age_bands": ("65+",)}
NARROW_PARAMS = {"segment": "household", "plan": "postpaid", "area": "remote", "age": "65+"}
# 11–12 customers in the country, 4 of them the manager's own: ≥ k in all, < k outside.
OVERLAP = {"segments": ("enterprise",), "plans": ("prepaid",), "area_types": ("urban",), "age_bands": ("55-64",)}
MARK = {"vi": "ẩn (< 10)", "en": "hidden (< 10)"}
NOTE = {"vi": "ít hơn 10 khách hàng", "en": "fewer than 10 customers"}
PERIODS = ("current", "previous", "last_year")
REVIEW = "../pages/review/review.py"


@pytest.fixture()
def warehouse(duck_url, monkeypatch) -> str:
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    return duck_url


def review(scope: Scope, filters: Filters, lang: str = "vi", kind: str = "month"):
    options = load_filter_options(scope)
    return load_review(View(filters, scope, lang, options, describe_filters(filters, options, lang, scope)), kind)


def periods_of(data) -> dict[str, Filters]:
    """The review's three periods over the whole country (no province filter)."""
    return {name: country_filters(period.filters(data.filters)) for name, period in data.period.comparisons().items()}


def customers_in(raw: dict, filters: Filters, scope: Scope) -> int:
    """Customers in view (filters ∩ scope) who were customers at some time in the period."""
    start, stop = filters.start_month, next_month(filters.end_month)
    customers = make_context(raw, filters, scope).cust
    return customers.filter(
        (pl.col("activated_on") < stop) & (pl.col("churned_on").is_null() | (pl.col("churned_on") >= start))
    ).height


def outside(count, raw: dict, filters: Filters) -> float:
    """count(raw, filters, scope) over the country minus over the manager's provinces."""
    return count(raw, filters, UNRESTRICTED) - count(raw, filters, MANAGER)


def resolved_in(raw: dict, filters: Filters, scope: Scope) -> int:
    """Complaints of customers in view resolved in the period (the SLA share's units)."""
    start, stop = as_ts(filters.start_month), as_ts(next_month(filters.end_month))
    rows = raw["complaints"].filter((pl.col("resolved_at") >= start) & (pl.col("resolved_at") < stop))
    return with_dims(make_context(raw, filters, scope), rows).height


def answers_in(raw: dict, filters: Filters, scope: Scope) -> int:
    """Survey answers of customers in view in the period (NPS's units)."""
    start, stop = filters.start_month, next_month(filters.end_month)
    rows = raw["surveys"].filter((pl.col("surveyed_on") >= start) & (pl.col("surveyed_on") < stop))
    return with_dims(make_context(raw, filters, scope), rows).height


def calls_in(raw: dict, filters: Filters, scope: Scope) -> float:
    """Call-centre calls offered in the period (the call answer rate's units; no customer)."""
    start, stop = filters.start_month, next_month(filters.end_month)
    rows = raw["care_contacts_monthly"].filter(
        (pl.col("channel") == "call_centre") & (pl.col("contact_month") >= start) & (pl.col("contact_month") < stop)
    )
    if scope.provinces is not None:
        rows = rows.filter(pl.col("province_code").is_in(sorted(scope.provinces)))
    return float(rows["contacts_offered"].sum())


def reference(raw: dict, name: str, filters: Filters, scope: Scope = UNRESTRICTED) -> float | None:
    return reference_value(raw, name, filters, scope, ())["value"][0]


def country_rows(data) -> dict[str, dict]:
    return {row["measure"]: row for row in data.breakdown.filter(pl.col("level") == "country").iter_rows(named=True)}


def customer_measures(data) -> list[str]:
    return [name for name in data.scorecard["measure"].to_list() if MEASURES[name].customer_filters]


# --- the pack, read back ---------------------------------------------------------------------------


def workbook_country_rows(data) -> tuple[dict[str, dict], list[str]]:
    """The workbook's "by region and province" sheet: {indicator label: {header: cell}} of the
    country rows, and the sheet's notes (text in column A above the header)."""
    lang = data.lang
    book = load_workbook(io.BytesIO(build_workbook(data, GENERATED)))
    sheet = book[sheet_name(t("review_breakdown", lang))]
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(index for index, row in enumerate(rows) if row[0] == t("indicator", lang))
    header = rows[header_at]
    country = t("review_level_country", lang)
    found = {
        row[0]: dict(zip(header, row, strict=True))
        for row in rows[header_at + 1 :]
        if row[1] == country and row[0] is not None
    }
    notes = [row[0] for row in rows[:header_at] if isinstance(row[0], str)]
    return found, notes


def workbook_numbers(data) -> list[float]:
    """Every number anywhere in the pack's workbook."""
    book = load_workbook(io.BytesIO(build_workbook(data, GENERATED)))
    return [
        float(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]


def pdf_text(data) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(build_pdf(data, GENERATED))).pages)


def pdf_country_line(text: str, lang: str) -> str:
    """The area matrix's country row: 'Toàn quốc <one value per measure>'."""
    (line,) = [line for line in text.splitlines() if line.startswith(t("review_level_country", lang) + " ")]
    return line


# --- the rule itself ---------------------------------------------------------------------------------


def long_frame(rows: list[tuple[str, str, float | None, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"measure": pl.String, "period": pl.String, "value": pl.Float64, "base": pl.Float64}, orient="row"
    ).with_columns(pl.col("value").alias("numerator"))


def test_the_rule_counts_what_lies_outside_the_scope():
    assert MIN_UNITS == 10
    assert [too_few(units) for units in (None, 0, 1, 9, 9.4, 10, 11, 5000)] == [
        *(False, False, True, True, True),
        *(False, False, False),
    ]
    country = long_frame(
        [
            ("active_customers", "current", 12.0, None),  # 12 customers, 4 own: 8 outside
            ("active_customers", "previous", 40.0, None),  # 40 customers, 4 own: 36 outside
            ("sla_share", "previous", 0.5, 14.0),  # 36 customers outside, but 14 - 6 = 8 complaints
            ("collection_rate", "previous", 0.9, 5_000_000.0),  # a money base counts no one
            ("call_answer_rate", "current", 0.8, 500.0),  # no customers: only its calls, 500 - 60
            ("call_answer_rate", "previous", 0.8, 66.0),  # 66 - 60 = 6 calls outside
            ("nps", "last_year", 20.0, 30.0),  # nothing outside: the country is the user's own figure
        ]
    )
    own = long_frame(
        [
            ("active_customers", "current", 4.0, None),
            ("active_customers", "previous", 4.0, None),
            ("sla_share", "previous", 0.5, 6.0),
            ("collection_rate", "previous", 0.9, 4_999_000.0),
            ("call_answer_rate", "current", 0.8, 60.0),
            ("call_answer_rate", "previous", 0.8, 60.0),
            ("nps", "last_year", 20.0, 30.0),
        ]
    )
    customers = pl.DataFrame({"period": PERIODS, "customers": [12.0, 40.0, 7.0]})
    own_customers = pl.DataFrame({"period": PERIODS, "customers": [4.0, 4.0, 7.0]})
    result = hide_small_cells(country, own, customers, own_customers)
    assert result["hidden"].to_list() == [True, False, True, False, False, True, False]
    hidden = result.filter(pl.col("hidden"))
    assert hidden.select("value", "base", "numerator").null_count().row(0) == (3, 3, 3)
    assert result.filter(~pl.col("hidden"))["value"].to_list() == [40.0, 0.9, 0.8, 20.0]


def test_money_bases_are_exactly_the_measures_whose_base_is_money(warehouse):
    """A base in VND is thousands of times the customers; a count of anyone is not."""
    raw = load_raw(warehouse)  # before the dashboard opens the file (DuckDB: one configuration per file)
    filters = Filters(OCTOBER, OCTOBER)
    frame = run(period_values_select(list(MEASURES), {"current": filters}, UNRESTRICTED), UNRESTRICTED)
    customers = customers_in(raw, filters, UNRESTRICTED)
    money = {row["measure"] for row in frame.iter_rows(named=True) if (row["base"] or 0) > 1000 * customers}
    assert money == MONEY_BASES


# --- the review and its pack ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_narrow_filter_hides_the_country_everywhere_for_a_manager(warehouse, lang):
    raw = load_raw(warehouse)
    data = review(MANAGER, Filters(OCTOBER, OCTOBER, **NARROW), lang)
    periods = periods_of(data)
    for name, filters in periods.items():  # the premise, from the raw tables
        assert 1 <= outside(customers_in, raw, filters) < MIN_UNITS, name
        assert customers_in(raw, filters, MANAGER) == 0, name
    # What the country row held before: one customer's figures (the executive still sees them).
    everyone = country_rows(review(UNRESTRICTED, Filters(OCTOBER, OCTOBER, provinces=("01", "31"), **NARROW)))
    assert everyone["active_customers"]["current"] == 1
    assert everyone["arpu"]["current"] == pytest.approx(reference(raw, "arpu", periods["current"]))
    names = customer_measures(data)
    assert {"active_customers", "arpu", "outstanding_debt", "churn_rate"} <= set(names)

    rows = country_rows(data)
    for name in names:
        row = rows[name]
        for period in PERIODS:
            assert row[f"{period}_hidden"] is True, (name, period)
            assert row[period] is None and row[f"{period}_base"] is None and row[f"{period}_numerator"] is None
        assert row["status"] is None and row["gap"] is None, name
    # The call answer rate has no customer: its calls outside the provinces are many, so it shows.
    calls = rows["call_answer_rate"]
    assert outside(calls_in, raw, periods["current"]) >= MIN_UNITS
    assert calls["current_hidden"] is False
    assert calls["current"] == pytest.approx(reference(raw, "call_answer_rate", periods["current"]))
    # The manager's own rows are untouched.
    assert not data.breakdown.filter(pl.col("level") != "country")["current_hidden"].any()

    # The page's table (the same ReviewTable the pack uses).
    table = breakdown_table(data)
    assert NOTE[lang] in table.note
    shown = shown_frame(table, lang).filter(pl.col(t("review_level", lang)) == t("review_level_country", lang))
    for column in ("review_actual", "review_previous", "review_vs_previous", "review_last_year", "review_gap"):
        texts = shown[t(column, lang)].to_list()
        assert texts.count(MARK[lang]) == len(names), (column, texts)

    # The workbook: the mark as text, never a number, and the note above the table.
    found, notes = workbook_country_rows(data)
    assert any(NOTE[lang] in note for note in notes), notes
    for name in names:
        cells = found[MEASURES[name].label(lang)]
        for column in ("review_actual", "review_previous", "review_last_year", "review_gap", "review_vs_previous"):
            assert cells[t(column, lang)] == MARK[lang], (name, column, cells)
    small = [
        everyone[name][period]
        for name in ("arpu", "outstanding_debt")
        for period in PERIODS
        if everyone[name][period]  # a zero could be anything
    ]
    assert small, "the narrow filter's country has figures to hide"
    numbers = workbook_numbers(data)
    for value in small:
        assert not any(number == pytest.approx(value) for number in numbers), value

    # The PDF: the area matrix's country row holds the mark for every customer measure.
    text = pdf_text(data)
    line = pdf_country_line(text, lang)
    assert line.count(MARK[lang]) == len(names), line
    assert NOTE[lang] in " ".join(text.split())
    for value in small:
        for compact in (False, True):
            assert format_value(value, "vnd", lang, compact=compact) not in text, value

    # Findings never carry the country: none names another province or a hidden figure.
    assert all(finding.province_code in (None, *MANAGER.provinces) for finding in data.findings)
    for row in findings_table(data).rows:
        for value in small:
            assert format_value(value, "vnd", lang) not in row["text"]


def test_what_counts_is_the_part_outside_the_scope(warehouse):
    """12 customers in the country is ≥ k, but 4 are the manager's own: the other 8 would
    come out by subtraction, so the country is hidden; an executive sees it."""
    raw = load_raw(warehouse)
    filters = Filters(OCTOBER, OCTOBER, **OVERLAP)
    data = review(MANAGER, filters)
    current = periods_of(data)["current"]
    assert customers_in(raw, current, UNRESTRICTED) >= MIN_UNITS
    assert customers_in(raw, current, MANAGER) > 0
    assert 1 <= outside(customers_in, raw, current) < MIN_UNITS
    rows = country_rows(data)
    assert rows["active_customers"]["current_hidden"] and rows["active_customers"]["current"] is None
    assert rows["arpu"]["current"] is None
    own = data.breakdown.filter((pl.col("level") == "selection") & (pl.col("measure") == "active_customers"))
    assert own["current"][0] == reference(raw, "active_customers", filters, MANAGER) > 0  # their own: shown

    executive = country_rows(review(UNRESTRICTED, replace(filters, provinces=("01", "31"))))
    assert executive["active_customers"]["current"] == reference(raw, "active_customers", current)
    assert executive["arpu"]["current"] == pytest.approx(reference(raw, "arpu", current))
    assert not any(row["current_hidden"] for row in executive.values())


def test_an_executive_still_sees_the_small_figure_everywhere(warehouse):
    raw = load_raw(warehouse)
    data = review(UNRESTRICTED, Filters(OCTOBER, OCTOBER, provinces=("01", "31"), **NARROW))
    current = periods_of(data)["current"]
    rows = country_rows(data)
    assert rows["active_customers"]["current"] == reference(raw, "active_customers", current) == 1
    arpu = rows["arpu"]["current"]
    assert arpu == pytest.approx(reference(raw, "arpu", current)) and arpu > 0
    assert not data.breakdown["current_hidden"].any()
    assert breakdown_table(data).note == ""
    found, _ = workbook_country_rows(data)
    assert found[MEASURES["arpu"].label("vi")][t("review_actual", "vi")] == pytest.approx(arpu)
    line = pdf_country_line(pdf_text(data), "vi")
    assert MARK["vi"] not in line and format_value(arpu, "vnd", "vi", compact=True) in line


def test_a_wide_filter_shows_the_country_equal_to_an_independent_computation(warehouse):
    """A quarter, no customer filter: every unit outside the manager's provinces is ≥ k."""
    raw = load_raw(warehouse)
    data = review(MANAGER, Filters(OCTOBER, OCTOBER), "vi", "quarter")
    assert data.period == review_period("quarter", OCTOBER)
    periods = periods_of(data)
    for name, filters in periods.items():
        for count in (customers_in, resolved_in, answers_in, calls_in):
            assert outside(count, raw, filters) >= MIN_UNITS, (name, count.__name__)
    rows = country_rows(data)
    assert set(rows) == set(data.scorecard["measure"].to_list())
    for name, row in rows.items():
        for period, filters in periods.items():
            assert row[f"{period}_hidden"] is False, (name, period)
            expected = reference(raw, name, filters)
            assert (row[period] is None) if expected is None else row[period] == pytest.approx(expected, rel=1e-9)
    assert breakdown_table(data).note == ""
    found, notes = workbook_country_rows(data)
    assert not any(NOTE["vi"] in note for note in notes)
    for name, row in rows.items():
        cell = found[MEASURES[name].label("vi")][t("review_actual", "vi")]
        assert cell == pytest.approx(row["current"]), name
    text = pdf_text(data)
    line = pdf_country_line(text, "vi")
    assert MARK["vi"] not in text
    for name, row in rows.items():
        assert format_value(row["current"], MEASURES[name].unit, "vi", compact=True) in line, name


def test_a_measure_is_hidden_on_its_own_units(warehouse):
    """Thousands of customers outside the provinces, but fewer than k complaints resolved
    there: the SLA share of the country is hidden, the customer figures are not."""
    raw = load_raw(warehouse)
    data = review(MANAGER, Filters(OCTOBER, OCTOBER, segments=("individual",)))
    current = periods_of(data)["current"]
    assert outside(customers_in, raw, current) >= 1000
    assert 1 <= outside(resolved_in, raw, current) < MIN_UNITS
    rows = country_rows(data)
    assert rows["sla_share"]["current_hidden"] and rows["sla_share"]["current"] is None
    assert rows["sla_share"]["status"] is None
    for name in ("active_customers", "arpu", "churn_rate"):
        assert rows[name]["current_hidden"] is False
        assert rows[name]["current"] == pytest.approx(reference(raw, name, current)), name
    table = breakdown_table(data, "sla_share")
    country = [row for row in table.rows if row["level"] == "country"]
    assert shown_frame(replace(table, rows=tuple(country)), "vi")[t("review_actual", "vi")].to_list() == [MARK["vi"]]


def page_country_cells(app, lang: str) -> list[str]:
    """The page's breakdown table (a pandas frame in AppTest): the country row's actual value."""
    table = table_with(app, t("review_level", lang))
    return table[table[t("review_level", lang)] == t("review_level_country", lang)][t("review_actual", lang)].tolist()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_review_page_shows_the_mark_to_the_manager_and_the_figure_to_the_executive(warehouse, demo_users, lang):
    params = {"lang": lang, **NARROW_PARAMS}
    app = open_page(REVIEW, params, "manager")
    assert_clean(app)
    assert page_country_cells(app, lang) == [MARK[lang]]  # the first indicator: active customers
    assert any(NOTE[lang] in caption.value for caption in app.main.caption)

    executive = open_page(REVIEW, {**params, "province": "01,31"}, "executive")
    assert_clean(executive)
    assert page_country_cells(executive, lang) == ["1"]
    assert not any(NOTE[lang] in caption.value for caption in executive.main.caption)
