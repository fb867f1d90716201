"""Filters and language in the URL: a link reopens the same view; junk is reported, not fatal."""

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.frame.filter_options import FilterOptions, ProvinceOption, default_filters, month_range
from dashboard.frame.filter_text import describe_filters
from dashboard.frame.url_state import from_params, shown_text, to_params
from queries.filters import Filters, Scope
from tests.conftest import log_in

OPTIONS = FilterOptions(
    months=month_range(date(2023, 11, 1), date(2026, 10, 1)),
    provinces=(
        ProvinceOption("01", "Hà Nội", "Hanoi", "Bắc", 21.0, 105.7),
        ProvinceOption("31", "Hải Phòng", "Haiphong", "Bắc", 20.8, 106.6),
        ProvinceOption("48", "Đà Nẵng", "Da Nang", "Trung", 16.0, 108.1),
        ProvinceOption("79", "Hồ Chí Minh", "Ho Chi Minh", "Nam", 10.8, 106.7),
    ),
    data_through=date(2026, 10, 31),
)

FULL = Filters(
    start_month=date(2026, 1, 1),
    end_month=date(2026, 6, 1),
    comparison="last_year",
    regions=("Bắc",),
    provinces=("01", "31"),
    segments=("enterprise", "government"),
    age_bands=("25-34",),
    plans=("postpaid",),
    area_types=("urban", "rural"),
)


def test_defaults_are_the_last_complete_month_against_the_previous():
    state = from_params({}, OPTIONS)
    assert state.filters == Filters(date(2026, 10, 1), date(2026, 10, 1), "previous")
    assert state.lang == "vi"
    assert state.ignored == ()


@pytest.mark.parametrize("filters", [FULL, default_filters(OPTIONS), Filters(date(2024, 2, 1), date(2024, 2, 1))])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_round_trip(filters, lang):
    params = to_params(filters, lang)
    assert all(isinstance(value, str) and value.isascii() for value in params.values())
    state = from_params(params, OPTIONS)
    assert state.filters == filters
    assert state.lang == lang
    assert state.ignored == ()


def test_params_read_like_the_view():
    assert to_params(FULL, "en") == {
        "from": "2026-01",
        "to": "2026-06",
        "cmp": "last_year",
        "region": "bac",
        "province": "01,31",
        "segment": "enterprise,government",
        "age": "25-34",
        "plan": "postpaid",
        "area": "urban,rural",
        "lang": "en",
    }


def test_repeated_keys_are_accepted_like_a_list():
    state = from_params({"province": ["01", "79"], "segment": ["individual"]}, OPTIONS)
    assert state.filters.provinces == ("01", "79")
    assert state.filters.segments == ("individual",)


def test_junk_is_reported_and_the_rest_applies():
    params = {
        "from": "2026-13",  # no month 13
        "to": "2026-06",
        "cmp": "yesterday",
        "province": "01,99,<script>",
        "segment": "enterprise,aliens",
        "lang": "fr",
        "utm_source": "mail",
        "map": "churn_rate",  # a page parameter: kept for the page, not reported
    }
    state = from_params(params, OPTIONS)
    assert state.filters.start_month == date(2026, 6, 1) == state.filters.end_month
    assert state.filters.comparison == "previous"
    assert state.filters.provinces == ("01",)
    assert state.filters.segments == ("enterprise",)
    assert state.lang == "vi"
    assert set(state.ignored) == {
        "from=2026-13",
        "cmp=yesterday",
        "province=99",
        "province=<script>",
        "segment=aliens",
        "lang=fr",
        "utm_source=mail",
    }


def test_months_without_data_and_reversed_periods_fall_back_to_the_default():
    before_data = from_params({"from": "2019-01", "to": "2019-03"}, OPTIONS)
    assert before_data.filters == default_filters(OPTIONS)
    assert "from=2019-01" in before_data.ignored and "to=2019-03" in before_data.ignored
    reversed_period = from_params({"from": "2026-06", "to": "2026-01"}, OPTIONS)
    assert reversed_period.filters == default_filters(OPTIONS)
    assert len(reversed_period.ignored) == 2


def test_a_province_outside_the_chosen_region_is_dropped():
    state = from_params({"region": "nam", "province": "01,79"}, OPTIONS)
    assert state.filters.regions == ("Nam",)
    assert state.filters.provinces == ("79",)
    assert state.ignored == ("province=01",)


def test_a_province_outside_the_options_is_dropped():
    scoped = FilterOptions(OPTIONS.months, OPTIONS.provinces[:1], OPTIONS.data_through)
    state = from_params({"province": "01,79"}, scoped)
    assert state.filters.provinces == ("01",)
    assert state.ignored == ("province=79",)


def test_long_junk_is_shortened_in_the_notice():
    state = from_params({"x": "a" * 500}, OPTIONS)
    assert len(state.ignored[0]) < 60


def test_a_long_unknown_key_is_shortened_too():
    state = from_params({"k" * 5000: "v"}, OPTIONS)
    assert len(state.ignored) == 1 and len(state.ignored[0]) <= 2 * 40 + 1
    assert state.ignored[0].endswith("…=v")


# --- legacy province codes (the 63 provinces before 1 July 2025) -------------------------


def test_a_legacy_province_code_is_mapped_to_its_current_province():
    # 30 Hải Dương merged into 31 Hải Phòng; 74 Bình Dương into 79 Hồ Chí Minh.
    state = from_params({"province": "30,74,01"}, OPTIONS)
    assert state.filters.provinces == ("31", "79", "01")
    assert state.mapped == (("30", "31"), ("74", "79"))
    assert state.ignored == () and state.outside_scope == ()


def test_a_legacy_code_and_its_current_province_count_once():
    state = from_params({"province": "31,30"}, OPTIONS)
    assert state.filters.provinces == ("31",)
    assert state.mapped == (("30", "31"),)


def test_a_legacy_code_is_scope_checked_after_mapping():
    """The manager of Hà Nội + Hải Phòng: Hải Dương (30) is now Hải Phòng, his; Bình Dương (74)
    is now Hồ Chí Minh, not his: dropped as outside the scope, by the code the link held."""
    scoped = FilterOptions(OPTIONS.months, OPTIONS.provinces[:2], OPTIONS.data_through)
    state = from_params({"province": "30,74"}, scoped)
    assert state.filters.provinces == ("31",)
    assert state.mapped == (("30", "31"),)
    assert state.ignored == ("province=74",)
    assert state.outside_scope == ("province=74",)


def test_a_legacy_code_outside_the_chosen_region_is_dropped():
    state = from_params({"region": "nam", "province": "30"}, OPTIONS)
    assert state.filters.provinces == ()
    assert state.mapped == ()
    assert state.ignored == ("province=30",)


def test_links_map_legacy_codes_as_the_importer_does():
    """A link reads the codes with the csv module, the importer loads the same files as frames
    (both queries/reference.py): every code must come out the same."""
    from queries.reference import current_province_code, current_province_codes, legacy_provinces_frame, provinces_frame

    current = set(provinces_frame()["province_code"])
    assert current_province_codes() == current
    importer = {old: new for old, new in legacy_provinces_frame().select("old_code", "new_code").iter_rows()}
    for old, new in importer.items():
        assert current_province_code(old) == (old if old in current else new), old
    assert current_province_code("99") is None and current_province_code("") is None


# --- text from the link is shown without control or format characters --------------------


def _hidden_characters(text: str) -> list[str]:
    return [char for char in text if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")]


def test_bidi_and_control_characters_in_a_link_are_escaped_in_the_notice():
    params = {
        "province": "\u202e97",  # right-to-left override: would show "79" reversed
        "segment": "enter\u200bprise",  # zero-width space: looks like a valid value
        "utm\u2066x": "a\x00b\nc\u2028d",  # isolate in the key; NUL, newline, line separator
        "tag": "\U000e0041\U000e0042",  # tag characters: invisible text
    }
    state = from_params(params, OPTIONS)
    assert state.filters.provinces == () and state.filters.segments == ()
    for item in state.ignored:
        assert _hidden_characters(item) == [], repr(item)
    assert set(state.ignored) == {
        "province=\\u202e97",
        "segment=enter\\u200bprise",
        "utm\\u2066x=a\\u0000b\\u000ac\\u2028d",
        "tag=\\U000e0041\\U000e0042",
    }


def test_shown_text_caps_the_length_without_cutting_an_escape():
    assert shown_text("Nguyễn Văn An") == "Nguyễn Văn An"
    assert shown_text("a" * 41) == "a" * 39 + "…"
    shown = shown_text("\u202e" * 100)
    assert len(shown) <= 40 and shown.endswith("\\u202e…") and _hidden_characters(shown) == []
    assert shown_text("x" * 10**6, 10) == "x" * 9 + "…"


def test_filter_description():
    vi = describe_filters(
        Filters(date(2026, 1, 1), date(2026, 6, 1), "last_year", provinces=("01", "31"), segments=("enterprise",)),
        OPTIONS,
        "vi",
        Scope(),
    )
    assert vi == "Hà Nội, Hải Phòng · Doanh nghiệp · T1–T6/2026 so với cùng kỳ"
    en = describe_filters(FULL, OPTIONS, "en", Scope())
    assert en == (
        "Hanoi, Haiphong · Enterprise, Government · 25-34 years · Postpaid · Urban, Rural · "
        "Jan–Jun 2026 vs same period last year"
    )
    country = describe_filters(default_filters(OPTIONS), OPTIONS, "vi", Scope())
    assert country == "Toàn quốc · T10/2026 so với kỳ trước"
    region = describe_filters(Filters(date(2026, 10, 1), date(2026, 10, 1), regions=("Nam",)), OPTIONS, "vi", Scope())
    assert region.startswith("Miền Nam · ")


def test_description_names_the_scope_when_the_user_is_restricted():
    scope = Scope(role="regional", provinces=frozenset({"48", "79"}))
    text = describe_filters(default_filters(OPTIONS), OPTIONS, "en", scope)
    assert text.startswith("Da Nang, Ho Chi Minh · ")


# --- through the running app (AppTest) ---------------------------------------------

APP = str(Path(__file__).resolve().parents[3] / "dashboard" / "app.py")


@pytest.fixture()
def warehouse(duck_url, monkeypatch, demo_users) -> str:
    """The seeded warehouse, and the demo users (the app is opened as the executive)."""
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    return duck_url


def test_a_copied_link_reopens_the_same_view_in_a_new_session(warehouse):
    first = log_in(AppTest.from_file(APP, default_timeout=120)).run()
    first.select_slider(key="f_period").set_range(date(2026, 4, 1), date(2026, 9, 1))
    first.radio(key="f_comparison").set_value("last_year")
    first.multiselect(key="f_regions").set_value(["Bắc"])
    first.run()
    first.multiselect(key="f_provinces").set_value(["01", "31"])
    first.multiselect(key="f_segments").set_value(["enterprise", "household"])
    first.multiselect(key="f_age_bands").set_value(["35-44"])
    first.multiselect(key="f_plans").set_value(["postpaid"])
    first.multiselect(key="f_area_types").set_value(["urban"])
    first.radio(key="lang").set_value("en")
    first.run()
    chosen = first.session_state["_view"].filters
    assert chosen == Filters(
        date(2026, 4, 1), date(2026, 9, 1), "last_year", ("Bắc",), ("01", "31"), ("enterprise", "household"),
        ("35-44",), ("postpaid",), ("urban",),
    )  # fmt: skip
    link = dict(first.query_params)

    for page in (None, "../pages/debt/debt.py"):
        second = AppTest.from_file(APP, default_timeout=120)
        second.query_params.update(link)
        log_in(second).run()
        if page:
            second.switch_page(page).run()
        assert not second.exception and not second.warning
        assert second.session_state["_view"].filters == chosen
        assert second.session_state["_view"].lang == "en"
        assert second.multiselect(key="f_provinces").value == ["01", "31"]
        assert dict(second.query_params) == link


def test_junk_in_a_link_is_reported_and_ignored(warehouse):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"segment": "enterprise,martians", "from": "tomorrow", "utm_source": "zalo", "lang": "en"})
    log_in(app).run()
    assert not app.exception
    assert len(app.warning) == 1
    notice = app.warning[0].value
    assert notice.startswith("Ignored invalid parameters in the link:")
    for item in ("segment=martians", "from=tomorrow", "utm_source=zalo"):
        assert item in notice
    view = app.session_state["_view"]
    assert view.filters.segments == ("enterprise",)
    assert view.filters.start_month == view.filters.end_month == date(2026, 10, 1)
    assert "utm_source" not in app.query_params  # the link is cleaned
    assert app.query_params["segment"] == "enterprise"
    app.run()  # the notice is shown once, not on every rerun
    assert not app.warning


def test_a_legacy_code_in_a_link_opens_the_current_province_with_a_notice(warehouse):
    """The Hà Nội + Hải Phòng manager follows an old link: Hải Dương (30) opens Hải Phòng (31),
    Bình Dương (74, now Hồ Chí Minh) is dropped as outside his scope."""
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"province": "30,74", "lang": "en"})
    log_in(app, "manager").run()
    assert not app.exception and not app.error
    assert app.session_state["_view"].filters.provinces == ("31",)
    assert app.query_params["province"] == "31"  # the link now names the current code
    assert [item.value for item in app.info] == [
        "The link uses old province codes (from before the 2025 merger); they were mapped to the current "
        "provinces: province=30 → 31 Haiphong"
    ]
    assert [item.value for item in app.warning] == [
        "The link names provinces outside what you may see; they were dropped: province=74"
    ]
    assert all("Ho Chi Minh" not in item.value for item in [*app.info, *app.warning])


def test_a_right_to_left_override_in_a_link_is_not_shown_raw(warehouse):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({"segment": "\u202eesirpretne", "map": "\u202eorp", "lang": "en"})
    log_in(app).run()
    assert not app.exception
    notices = [item.value for item in app.warning]
    assert len(notices) == 2, notices
    for notice in notices:
        assert "\u202e" not in notice and "u202e" in notice, repr(notice)
        assert all(unicodedata.category(char) not in ("Cc", "Cf") for char in notice), repr(notice)


def test_a_link_with_many_junk_parameters_gives_a_short_notice(warehouse):
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params.update({f"junk{number}": "x" * 200 for number in range(50)})
    log_in(app).run()
    assert not app.exception
    assert len(app.warning) == 1
    notice = app.warning[0].value
    assert notice.endswith("và 40 mục khác")
    assert notice.count("junk") == 10
    assert len(notice) < 700
