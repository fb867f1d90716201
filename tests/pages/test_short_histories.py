"""Short histories: every page over a warehouse of 1, 2 and 13 months of data.

A new operator's first load holds one month; the dashboard must then say what it cannot
show instead of drawing it badly. Each warehouse is seeded by data_seed.seed_warehouse (the
CLI's function) with 2,000 customers, once for the module. The pages are opened in the
real app (AppTest) and their figures read back from the Plotly specs they sent:
- a chart over months has its ticks on those months, labelled as months (never Plotly's
  reading of one date as a range of milliseconds);
- a value axis of rates, counts or money starts at 0 and never shows a negative value;
- counted nouns agree with their number ("1 month"), the "what changed" panel says when
  there is no earlier period, cohorts say they need more months, the Debt page says no
  bill has fallen due yet;
- the survival curve is Kaplan–Meier: it never rises, and equals an independent
  computation from the raw customers table.
"""

import json
import re
from datetime import date

import polars as pl
import pytest

from dashboard.charts.axes import count_axis, month_axis, month_ticks, value_axis
from dashboard.text.formatting import count_text, format_date
from pages.churn import data as churn_data
from queries.filters import Filters, Scope, add_months
from tests import customers_churn_reference as ref
from tests.conftest import TEST_END_MONTH, seed
from tests.dashboard.access.test_access_pages import PAGES
from tests.page_helpers import open_page, read_tables
from tests.pages.test_customers_page import make_view

CUSTOMERS = 2_000
HISTORIES = (1, 2, 13)
EVERYONE = Scope(role="executive", user="executive")
MONTH_TEXT = {"vi": re.compile(r"^T\d{1,2}/\d{4}$"), "en": re.compile(r"^[A-Z][a-z]{2} \d{4}$")}
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


@pytest.fixture(scope="module")
def histories(tmp_path_factory) -> dict[int, tuple[str, dict[str, pl.DataFrame]]]:
    """{months of data: (warehouse URL, its raw customers, provinces and bills)}."""
    made = {}
    for months in HISTORIES:
        url = f"duckdb:///{tmp_path_factory.mktemp(f'history_{months}') / 'warehouse.duckdb'}"
        seed(url, customers=CUSTOMERS, months=months)
        made[months] = (url, read_tables(url, ("customers", "provinces", "bills")))
    return made


@pytest.fixture()
def on_history(histories, demo_users, monkeypatch):
    """Point the app at the warehouse of `months` months; returns its raw tables."""

    def use(months: int) -> dict[str, pl.DataFrame]:
        url, raw = histories[months]
        monkeypatch.setenv("WAREHOUSE_URL", url)
        return raw

    return use


def data_months(months: int) -> list[date]:
    return [add_months(TEST_END_MONTH, offset) for offset in range(-(months - 1), 1)]


def figures(app) -> list[dict]:
    return [json.loads(item.proto.spec) for item in app.get("plotly_chart")]


def title_of(figure: dict) -> str:
    title = figure.get("layout", {}).get("title", {})
    return title.get("text", "") if isinstance(title, dict) else str(title)


def day(text: str) -> date:
    return date.fromisoformat(text[:10])


def month_positions(figure: dict) -> list[date]:
    """The months the figure draws along x (traces whose x are dates)."""
    positions = []
    for trace in figure.get("data", []):
        xs = trace.get("x") or []
        if xs and all(isinstance(x, str) and ISO_DAY.match(x) for x in xs):
            positions.extend(day(x) for x in xs)
    return positions


def assert_month_axis(figure: dict, months: list[date], lang: str) -> None:
    """x ticks on first days of months of the data, labelled as months, the latest one named,
    every month named when there are at most 12; the range leaves room either side."""
    drawn = month_positions(figure)
    if not drawn:
        return
    name = title_of(figure)
    axis = figure["layout"]["xaxis"]
    assert "tickvals" in axis and "range" in axis, f"{name}: Plotly would choose the ticks of a date axis"
    ticks = [day(value) for value in axis["tickvals"]]
    assert all(tick.day == 1 for tick in ticks) and set(ticks) <= set(months), (name, ticks)
    assert all(MONTH_TEXT[lang].match(text) for text in axis["ticktext"]), (name, axis["ticktext"])
    assert len(ticks) == len(axis["ticktext"]) <= 12, name
    assert ticks[-1] == max(drawn), name
    if len(set(drawn)) <= 12:
        assert ticks == sorted(set(drawn)), (name, ticks)
    low, high = (day(value) for value in axis["range"])
    assert low < min(drawn) and high > max(drawn), (name, axis["range"])


def value_axes(figure: dict) -> list[tuple[str, dict, list[float]]]:
    """(axis name, axis, values drawn along it) of the value axes: y of vertical traces, x of
    horizontal bars."""
    layout, found = figure.get("layout", {}), []
    for name, key, horizontal in (("yaxis", "y", False), ("xaxis", "x", True)):
        values = []
        for trace in figure.get("data", []):
            if trace.get("type") not in ("scatter", "bar") or (trace.get("orientation") == "h") != horizontal:
                continue
            drawn = [v for v in trace.get(key) or [] if isinstance(v, int | float)]
            values.extend(drawn)
            errors = trace.get(f"error_{key}") or {}  # an interval reaches as far as its ends
            values.extend(v + e for v, e in zip(drawn, errors.get("array") or [], strict=False))
            values.extend(v - e for v, e in zip(drawn, errors.get("arrayminus") or [], strict=False))
        if values and name in layout and layout[name].get("tickformat"):
            found.append((name, layout[name], values))
    return found


def assert_zero_based(figure: dict) -> None:
    """A value axis starts at 0 and shows nothing below it unless a value is negative."""
    for name, axis, values in value_axes(figure):
        where = f"{title_of(figure)} {name}"
        if min(values) < 0:
            assert axis.get("rangemode") == "tozero", where
            continue
        assert "range" in axis, f"{where}: Plotly would centre a lone value or zeros on the axis"
        assert axis["range"][0] == 0 and axis["range"][1] >= max(values), (where, axis["range"])


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("months", HISTORIES)
def test_every_page_draws_a_short_history(on_history, months, lang):
    on_history(months)
    shown = data_months(months)
    for path, _ in PAGES:
        app = open_page(path, {"lang": lang})
        assert not app.exception, (path, [item.value for item in app.exception])
        assert not app.error, (path, [item.value for item in app.error])
        assert [item.value for item in app.title], path
        for figure in figures(app):
            assert_month_axis(figure, shown, lang)
            assert_zero_based(figure)
        texts = [item.value for item in (*app.main.caption, *app.markdown, *app.info)]
        assert not [text for text in texts if re.search(r"\b1 (months|rows|areas)\b", text)], path
        if months == 1:
            # a trend over the one month of data is no wider than the chosen month
            assert not [text for text in texts if "wider than" in text or "rộng hơn kỳ" in text], path


def test_one_month_ticks_the_month_and_starts_rates_at_zero(on_history):
    """The tester's two findings on the Churn page with one month: the trend's only tick is
    the month, and the churn-by-plan rate axis runs from 0 (not −50 % … 100 %)."""
    on_history(1)
    app = open_page("../pages/churn/churn.py", {"lang": "en"})
    by_title = {title_of(figure): figure for figure in figures(app)}
    by_plan = by_title["Monthly churn rate by plan"]
    assert by_plan["layout"]["xaxis"]["tickvals"] == ["2026-10-01"]
    assert by_plan["layout"]["xaxis"]["ticktext"] == ["Oct 2026"]
    low, high = by_plan["layout"]["yaxis"]["range"]
    rates = [value for trace in by_plan["data"] for value in trace["y"]]
    assert low == 0 and max(rates) <= high <= max(rates) * 1.5


@pytest.mark.parametrize("months", HISTORIES)
def test_cohorts_say_when_the_data_is_too_short(on_history, months):
    on_history(months)
    held = {"en": "1 month" if months == 1 else f"{months} months", "vi": f"{months} tháng"}
    notes = {
        "en": f"Cohorts need at least 3 months of data to be followed; the data up to Oct 2026 holds {held['en']}.",
        "vi": "Cần ít nhất 3 tháng dữ liệu để theo dõi khách hàng theo tháng kích hoạt; dữ liệu đến hết "
        f"T10/2026 có {held['vi']}.",
    }
    heat_titles = {"en": "Share still active N months after the activation month", "vi": "Tỷ lệ còn hoạt động"}
    for lang, note in notes.items():
        app = open_page("../pages/churn/churn.py", {"lang": lang})
        infos = [item.value for item in app.info]
        heat = [figure for figure in figures(app) if title_of(figure).startswith(heat_titles[lang])]
        if months < 3:
            assert note in infos, infos
            assert not heat, "no heat map of one or two cells"
        else:
            assert note not in infos
            assert len(heat) == 1 and len(heat[0]["data"][0]["y"]) == months, "a row per activation month"


def test_counted_nouns_agree_with_their_number():
    assert count_text("n_months", 1, "en") == "1 month"
    assert count_text("n_months", 2, "en") == "2 months"
    assert count_text("n_months", 1, "vi") == "1 tháng"  # no plural in Vietnamese
    assert count_text("n_months", 13, "vi") == "13 tháng"
    assert count_text("n_rows", 1_250, "vi") == "1.250 dòng"
    assert count_text("n_areas", 1, "en") == "1 area"


def test_two_months_say_how_wide_the_trends_are(on_history):
    on_history(2)
    for lang, wider in (
        ("en", "2 months to Oct 2026 (wider than the chosen period)"),
        ("vi", "2 tháng đến hết T10/2026 (rộng hơn kỳ đã chọn)"),
    ):
        app = open_page("../pages/churn/churn.py", {"lang": lang})
        assert any(caption.value.startswith(wider) for caption in app.main.caption), lang
    whole = open_page("../pages/churn/churn.py", {"lang": "en", "from": "2026-09", "to": "2026-10"})
    assert not any("wider than" in caption.value for caption in whole.main.caption), "the period is the data"


@pytest.mark.parametrize(
    ("months", "params", "expected"),
    [
        (
            1,
            {},
            "There is no earlier period to compare with: the data starts in Oct 2026 and the comparison "
            "period is Sep 2026.",
        ),
        (
            2,
            {"cmp": "last_year"},
            "There is no earlier period to compare with: the data starts in Sep 2026 and "
            "the comparison period is Oct 2025.",
        ),
        (2, {}, None),
        (13, {"cmp": "last_year"}, None),
    ],
)
def test_what_changed_says_when_there_is_nothing_to_compare(on_history, months, params, expected):
    on_history(months)
    app = open_page("../pages/overview/overview.py", {"lang": "en", **params})
    texts = [item.value for item in app.markdown]
    said = [text for text in texts if "earlier period" in text]
    if expected is None:
        assert not said, said
        assert [text for text in texts if text.startswith("1. ") or text.startswith("No notable change")]
    else:
        assert said == [expected]
        assert not [text for text in texts if text.startswith("No notable change")]
    if months == 1:
        vi = open_page("../pages/overview/overview.py", {"lang": "vi"})
        assert "Chưa có kỳ trước để so sánh: dữ liệu bắt đầu từ T10/2026, còn kỳ so sánh là T9/2026." in [
            item.value for item in vi.markdown
        ]


def test_debt_says_no_bill_has_fallen_due_yet(on_history):
    raw = on_history(1)
    first_due = raw["bills"]["due_on"].min()
    assert first_due > date(2026, 10, 31), "one month of data: its bills fall due the month after"
    app = open_page("../pages/debt/debt.py", {"lang": "en"})
    assert [item.value for item in app.info] == [
        f"No bill had fallen due by the end of Oct 2026: the earliest bill in the data falls due on "
        f"{format_date(first_due, 'en')}. Debt and collection figures start with the month the first bill falls due."
    ]
    assert first_due.strftime("%d/%m/%Y") in app.info[0].value


def survival_traces(app, lang: str) -> dict[str, list[tuple[int, float]]]:
    """{segment label: [(months after activation, survival)]} of the drawn survival chart."""
    title = "Survival curves by segment" if lang == "en" else "Đường sống sót theo nhóm khách hàng"
    figure = next(figure for figure in figures(app) if title_of(figure) == title)
    return {trace["name"]: list(zip(trace["x"], trace["y"], strict=True)) for trace in figure["data"]}


def assert_never_rises(curve: list[tuple[int, float]], what: str) -> None:
    values = [value for _, value in sorted(curve)]
    assert all(later <= earlier for earlier, later in zip(values, values[1:], strict=False)), what


def test_the_survival_curve_is_kaplan_meier(on_history):
    """The drawn curves equal Kaplan–Meier computed here from the raw customers table
    (activation cohorts of the 13 months, censored at the end of the data), and never rise."""
    raw = on_history(13)
    app = open_page("../pages/churn/churn.py", {"lang": "en"})
    drawn = survival_traces(app, "en")
    filters = Filters(TEST_END_MONTH, TEST_END_MONTH)
    expected = ref.kaplan_meier(raw, filters, EVERYONE, 13, "segment")
    labels = churn_data.segment_series_labels("en")
    assert set(drawn) == {labels[segment] for segment, _ in expected}
    for segment, label in labels.items():
        curve = drawn.get(label, [])
        assert_never_rises(curve, label)
        assert dict(curve) == pytest.approx(
            {age: value for (member, age), value in expected.items() if member == segment}
        )
        assert [age for age, _ in curve] == list(range(len(curve))), label
    assert max(age for curve in drawn.values() for age, _ in curve) == 12, "13 cohorts: ages 0 … 12"
    captions = [item.value for item in app.main.caption if item.value.startswith("Kaplan–Meier")]
    assert len(captions) == 1 and "activated in Oct 2025–Oct 2026" in captions[0], captions


def test_survival_is_censored_at_the_period_end(on_history):
    """For an earlier period the cohorts and the censoring stop at its end month."""
    raw = on_history(13)
    filters = Filters(date(2026, 6, 1), date(2026, 6, 1))
    view = make_view(filters, EVERYONE, "en")
    frame = churn_data.survival_frame(view)
    expected = ref.kaplan_meier(raw, filters, EVERYONE, 9, "segment")  # Oct 2025 … Jun 2026
    assert {(segment, age): value for segment, age, _, _, value in frame.iter_rows()} == pytest.approx(expected)
    for _, curve in frame.group_by("series"):
        assert_never_rises(list(curve.select("months_after", "value").iter_rows()), "survival")


def test_axis_helpers():
    months = data_months(36)
    assert month_ticks(months)[-1] == TEST_END_MONTH and len(month_ticks(months)) == 12
    assert month_ticks(months[:2]) == months[:2]
    one = month_axis([TEST_END_MONTH], "vi")
    assert one["tickvals"] == [TEST_END_MONTH] and one["ticktext"] == ["T10/2026"]
    assert one["range"][0] < TEST_END_MONTH < one["range"][1]
    assert value_axis("percent", [0.0, 0.0])["range"] == [0, 0.01]
    assert value_axis("percent", [None, 0.02])["range"] == [0, pytest.approx(0.022)]
    assert value_axis("percent", [0.99, 1.0])["range"] == [0, 1.05], "no room up to 110 %"
    assert value_axis("count", [-3.0, 5.0]) == {"tickformat": ",.0f", "rangemode": "tozero"}
    assert count_axis([0, 1])["dtick"] == 1 and count_axis(range(36))["dtick"] == 3


def test_one_month_draws_no_empty_comparison(on_history):
    """With one month there is no comparison period: the mix chart draws this period only,
    with no legend entry for bars that cannot exist."""
    on_history(1)
    app = open_page("../pages/customers/customers.py", {"lang": "en"})
    mix = next(figure for figure in figures(app) if title_of(figure).startswith("Active customers at period end"))
    assert [trace["name"] for trace in mix["data"]] == ["This period"]
    assert sum(mix["data"][0]["x"]) > 0
