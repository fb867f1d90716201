"""Who sees what, through the running app (AppTest) and through the query layer.

- Before login nothing but the login form is drawn and the warehouse is not touched.
- For each role, every page in the navigation: what it can and cannot see.
- The regional manager of Hà Nội + Hải Phòng never sees another province's name in any
  element of any page: text, captions, notices, widget options, chart specs, table cells.
- A link naming a province outside the scope is dropped with a notice, never widened.
- Two users with different scopes in one process never get each other's cached numbers.
- Login through the form, lockout after repeated failures, session expiry, logout, a
  narrowed account taking effect at the next click, downloads writing audit lines.
- Every measure of the registry honours the scope in the query layer.
"""

import ast
import csv
import json
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from google.protobuf import text_format
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard.access import audit
from dashboard.access.users import User, add_user, remove_user
from dashboard.text.strings import t
from queries.engine import duckdb_path, make_engine
from queries.filters import Filters, Scope
from queries.metrics import MEASURES, measure_select
from queries.run import run
from tests.conftest import log_in

PROJECT_ROOT = Path(__file__).resolve().parents[3]
APP = str(PROJECT_ROOT / "dashboard" / "app.py")
TIMEOUT = 120
MANAGER_PROVINCES = ("01", "31")


def navigation_pages() -> list[tuple[str, str]]:
    """(page file relative to the app, title key) of every page in the frame's navigation,
    read from dashboard/app.py's PAGES (importing the app would run it)."""
    tree = ast.parse(Path(APP).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", "") == "PAGES" for target in node.targets):
            return [(f"../pages/{file}", key) for file, key, _ in ast.literal_eval(node.value)]
    raise AssertionError("PAGES not found in dashboard/app.py")


PAGES = navigation_pages()


def province_names() -> dict[str, tuple[str, str]]:
    with (PROJECT_ROOT / "queries" / "reference_data" / "provinces_2025.csv").open(encoding="utf-8") as handle:
        return {row["code"]: (row["name_vi"], row["name_en"]) for row in csv.DictReader(handle)}


NAMES = province_names()
FOREIGN = {code: names for code, names in NAMES.items() if code not in MANAGER_PROVINCES}
# Word-bounded and case-sensitive: "Hue" must not match "Huế" or "hue"; Vietnamese names keep their accents.
FOREIGN_PATTERNS = [
    (code, re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")) for code, names in FOREIGN.items() for name in names
]
# Customer names can hold a province's English name without accents ("Nguyễn Thanh Hoa" vs
# Thanh Hóa): a cell of a table that starts with a family name is a person, not a place.
FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
                "Ngô", "Dương", "Lý", "Trương", "Đinh", "Mai", "Cao")  # fmt: skip
PHONE = re.compile(r"(?<!\d)0\d{9}(?!\d)")
MASKED_PHONE = re.compile(r"(?<!\d)0\d\d\*+\d{3}(?!\d)")


# --- reading everything an AppTest drew ------------------------------------------------


def _leaves(node):
    children = getattr(node, "children", None)
    if children:
        for child in children.values():
            yield from _leaves(child)
    else:
        yield node


def element_texts(app: AppTest) -> list[str]:
    """Every piece of text the run sent to the browser: each element's message (labels,
    bodies, options, help, placeholders), chart specs with their JSON unescaped, and the
    cells of every table."""
    texts = []
    for element in _leaves(app._tree):
        proto = getattr(element, "proto", None)
        if proto is None:
            continue
        if getattr(element, "type", None) == "dataframe":
            texts.extend(_table_cells(element.value))
            continue
        texts.append(text_format.MessageToString(proto, as_utf8=True))
        spec = getattr(proto, "spec", "")
        if isinstance(spec, str) and spec.startswith("{"):
            texts.append(json.dumps(json.loads(spec), ensure_ascii=False))
    return texts


def _table_cells(frame) -> list[str]:
    cells = [str(column) for column in frame.columns]
    for column in frame.columns:
        for value in frame[column].tolist():
            text = str(value)
            if not text.startswith(FAMILY_NAMES):
                cells.append(text)
    return cells


def leaked_provinces(app: AppTest) -> dict[str, str]:
    """{code: the text it appeared in} for every province outside the manager's scope."""
    found = {}
    for text in element_texts(app):
        for code, pattern in FOREIGN_PATTERNS:
            if code not in found and pattern.search(text):
                found[code] = text[:300]
    return found


def table_texts(app: AppTest) -> list[str]:
    return [
        str(value)
        for element in _leaves(app._tree)
        if getattr(element, "type", None) == "dataframe"
        for column in element.value.columns
        for value in element.value[column].tolist()
    ]


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]


def metric_values(app: AppTest) -> list[tuple[str, str, str]]:
    return [(metric.label, metric.value, metric.delta) for metric in app.metric]


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture()
def users(demo_users, duck_url, monkeypatch) -> dict:
    """The demo users (CRM_VAR_DIR=tmp_path) and the seeded warehouse."""
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    return demo_users


def open_app(username: str | None, params: dict | None = None, page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params.update(params or {})
    if username:
        log_in(app, username)
    app.run()
    if page and page != PAGES[0][0]:
        app.switch_page(page).run()
    return app


@pytest.fixture()
def downloads(monkeypatch) -> dict:
    """Deferred download callables registered during runs: {file_id: callable}. Calling one
    is what the browser's click on the button does."""
    captured: dict = {}
    original = MediaFileManager.add_deferred

    def recording(self, data_callable, *args, **kwargs):
        file_id = original(self, data_callable, *args, **kwargs)
        captured[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)
    return captured


# --- before login ------------------------------------------------------------------------


def test_nothing_but_the_login_form_before_login(demo_users, monkeypatch, tmp_path):
    # A warehouse that does not exist: if anything touched it, the page would say so.
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{tmp_path / 'nowhere.duckdb'}")
    for page in (None, "../pages/debt/debt.py"):
        app = AppTest.from_file(APP, default_timeout=TIMEOUT)
        app.query_params.update({"province": "79", "lang": "en"})
        app.run()
        if page:
            app.switch_page(page).run()
        assert_clean(app)
        assert not app.warning and not app.metric and not app.title and not app.dataframe
        assert [item.value for item in app.subheader] == ["Log in"]
        assert app.text_input(key="login_username") and app.text_input(key="login_password")
        assert "_view" not in app.session_state
        assert not leaked_provinces(app)


# --- every role, every page ------------------------------------------------------------


ROLE_LABELS = {"executive": "Lãnh đạo", "analyst": "Chuyên viên phân tích", "viewer": "Người xem",
               "admin": "Quản trị", "manager": "Quản lý khu vực"}  # fmt: skip


def active_customers(duck_url: str, provinces: tuple[str, ...] = ()) -> str:
    """Active customers at the end of October 2026, counted in the file, as a card shows it."""
    sql = (
        "select count(*) from customers where activated_on < date '2026-11-01'"
        " and (churned_on is null or churned_on >= date '2026-11-01')"
    )
    if provinces:
        sql += " and province_code in (" + ",".join(f"'{code}'" for code in provinces) + ")"
    with duckdb.connect(str(duckdb_path(duck_url)), read_only=True) as connection:
        count = connection.execute(sql).fetchone()[0]
    return f"{count:,}".replace(",", ".")


@pytest.fixture(scope="module")
def counts(duck_url) -> dict[str, str]:
    """Read before any app opens the file (DuckDB allows one configuration per process)."""
    return {"country": active_customers(duck_url), "manager": active_customers(duck_url, MANAGER_PROVINCES)}


@pytest.mark.parametrize("role", ["executive", "analyst", "viewer", "admin"])
def test_country_wide_roles_on_every_page(counts, users, role):
    for page, title_key in PAGES:
        app = open_app(role, page=page)
        assert_clean(app)
        assert [item.value for item in app.title] == [t(title_key, "vi")], page
        sidebar = " ".join(item.value for item in app.sidebar.markdown)
        assert f"**{users[role].name}** · {ROLE_LABELS[role]}" in sidebar
        assert len(app.multiselect(key="f_provinces").options) == 34, page
        assert app.multiselect(key="f_regions").options == ["Miền Bắc", "Miền Trung", "Miền Nam"]
        cells = table_texts(app)
        if role in ("viewer", "admin"):  # aggregates only: no customer's phone, masked or not
            assert not [cell for cell in cells if PHONE.search(cell) or MASKED_PHONE.search(cell)], page
        if role == "analyst":  # lists, but personal data masked
            assert not [cell for cell in cells if PHONE.search(cell)], page
        if page.endswith("overview/overview.py"):
            assert len(app.metric) == 9
            assert app.metric[0].value == counts["country"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_regional_manager_never_sees_another_province(users, lang):
    own = {"vi": ["Hà Nội", "Hải Phòng"], "en": ["Hanoi", "Haiphong"]}[lang]
    for page, _ in PAGES:
        # The default view (every scoped province on the map and in "what changed") in both
        # languages; a filtered view once (it costs a run per page).
        variants = [{"lang": lang}] + (
            [{"lang": lang, "province": "31", "segment": "enterprise"}] if lang == "vi" else []
        )
        for params in variants:
            app = open_app("manager", params, page)
            assert_clean(app)
            assert leaked_provinces(app) == {}, (page, params)
            assert app.multiselect(key="f_provinces").options == own
            assert app.multiselect(key="f_regions").options == [{"vi": "Miền Bắc", "en": "North"}[lang]]
            scope = app.session_state["_view"].scope
            assert scope.provinces == frozenset(MANAGER_PROVINCES) and scope.user == "manager"
            captions = [item.value for item in app.main.caption]
            assert captions and all(not caption.startswith(("Toàn quốc", "Whole country")) for caption in captions)
            if page.endswith("overview/overview.py"):
                picker = app.selectbox(key="overview_map_province")
                assert picker.options[1:] == own
                spec = json.loads(
                    next(e for e in _leaves(app._tree) if getattr(e, "type", "") == "plotly_chart").proto.spec
                )
                codes = {point[0] for trace in spec["data"] for point in trace.get("customdata") or []}
                assert codes == set(MANAGER_PROVINCES)


def test_the_manager_numbers_are_the_manager_provinces(counts, users):
    assert open_app("manager").metric[0].value == counts["manager"]


# --- links -------------------------------------------------------------------------------


def test_a_link_cannot_widen_the_scope(users):
    baseline = open_app("manager", {"lang": "en"})
    tampered = open_app("manager", {"lang": "en", "province": "79"})
    assert_clean(tampered)
    assert [item.value for item in tampered.warning] == [
        "The link names provinces outside what you may see; they were dropped: province=79"
    ]
    assert tampered.session_state["_view"].filters.provinces == ()
    assert metric_values(tampered) == metric_values(baseline)
    assert "province" not in tampered.query_params  # the link is rewritten to what applies
    assert leaked_provinces(tampered) == {}

    mixed = open_app("manager", {"lang": "en", "province": "01,79,48", "region": "nam"})
    notices = [item.value for item in mixed.warning]
    assert len(notices) == 1 and "region=nam" in notices[0] and "province=79" in notices[0]
    assert "province=48" in notices[0]
    assert mixed.session_state["_view"].filters.provinces == ("01",)
    assert metric_values(mixed) == metric_values(open_app("manager", {"lang": "en", "province": "01"}))
    assert leaked_provinces(mixed) == {}


# --- caches ------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [("manager", "executive"), ("executive", "manager")])
def test_cached_results_never_cross_scopes(users, order):
    import streamlit as st

    together = {}
    for username in order:  # one process, one cache, the same filters
        together[username] = metric_values(open_app(username, {"segment": "household"}))
    alone = {}
    for username in order:
        st.cache_data.clear()
        alone[username] = metric_values(open_app(username, {"segment": "household"}))
    assert together == alone
    assert together["manager"] != together["executive"]


# --- login, lockout, expiry, logout ---------------------------------------------------


def submit_login(app: AppTest, username: str, password: str) -> AppTest:
    app.text_input(key="login_username").input(username)
    app.text_input(key="login_password").input(password)
    return app.button[0].click().run()


def test_logging_in_through_the_form(users):
    app = open_app(None, {"lang": "en"})
    submit_login(app, "manager", "manager-demo")
    assert_clean(app)
    assert len(app.metric) == 9
    assert app.session_state["_view"].scope.provinces == frozenset(MANAGER_PROVINCES)
    assert [event["event"] for event in audit.read_events()] == ["login"]


def test_repeated_failures_lock_the_name_even_for_the_right_password(users):
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.secrets["crm_auth"] = {"lock_after_failures": 3, "delay_after_failures": 3, "lock_minutes": 15}
    app.query_params["lang"] = "en"
    app.run()
    for _ in range(2):
        submit_login(app, "manager", "wrong-password")
        assert [item.value for item in app.error] == ["Wrong username or password."]
    submit_login(app, "manager", "wrong-password")
    assert [item.value for item in app.error] == ["Too many failed attempts. Try again in 15 minutes."]
    submit_login(app, "manager", "manager-demo")
    assert [item.value for item in app.error] == ["Too many failed attempts. Try again in 15 minutes."]
    assert not app.metric and "_view" not in app.session_state
    events = [event["event"] for event in audit.read_events()]
    assert events == ["login_failed", "login_failed", "login_failed", "lockout", "login_failed"]


def test_an_idle_session_expires_on_the_next_run(users):
    app = open_app("manager", {"lang": "en"})
    assert app.metric
    app.session_state["auth"]["last_seen_at"] -= timedelta(minutes=31)
    app.run()
    assert_clean(app)
    assert not app.metric and not app.title
    assert [item.value for item in app.info] == ["Your session has expired. Please log in again."]
    assert audit.read_events()[-1]["event"] == "session_expired"


def test_logging_out_and_in_as_someone_else_forgets_the_old_choices(users):
    app = open_app("executive", {"province": "79"})
    assert app.multiselect(key="f_provinces").value == ["79"]
    app.button(key="logout_button").click().run()
    assert not app.metric and [item.value for item in app.subheader] == ["Đăng nhập"]
    submit_login(app, "manager", "manager-demo")
    assert_clean(app)
    assert app.multiselect(key="f_provinces").value == []
    assert app.session_state["_view"].scope.user == "manager"
    assert leaked_provinces(app) == {}
    assert [event["event"] for event in audit.read_events()] == ["logout", "login"]


def test_a_narrowed_account_ends_the_session_and_the_next_login_forgets_the_old_choices(users):
    app = open_app("manager", {"province": "31"})
    remove_user("manager")
    add_user(User("manager", "Trần Văn Quản Lý", "manager@demo.crm.vn", "regional_manager", ("01",)), "pw-12345678",
             rounds=4)  # fmt: skip
    app.run()
    assert_clean(app)
    assert [item.value for item in app.info] == [
        "Mật khẩu hoặc quyền truy cập của bạn vừa thay đổi. Vui lòng đăng nhập lại."
    ]
    assert leaked_provinces(app) == {}
    log_in(app, "manager")
    app.run()
    assert_clean(app)
    assert app.multiselect(key="f_provinces").options == ["Hà Nội"]
    assert app.multiselect(key="f_provinces").value == []  # Hải Phòng was chosen under the old scope
    assert app.session_state["_view"].scope.provinces == frozenset({"01"})


# --- downloads ---------------------------------------------------------------------------


def test_the_kpi_table_download_is_audited(users, downloads):
    app = open_app("manager", {"lang": "en", "segment": "enterprise"})
    button = next(button for button in app.get("download_button") if button.proto.id.endswith("overview_kpis_csv"))
    data = downloads[button.proto.deferred_file_id]()
    assert data.decode("utf-8-sig").startswith("measure,label,unit,value")
    (event,) = [event for event in audit.read_events() if event["event"] == "export"]
    assert event["user"] == "manager" and event["detail"]["format"] == "csv"
    assert event["detail"]["file"] == "overview_kpis.csv" and event["detail"]["rows"] == 9
    assert event["filters"]["segments"] == ["enterprise"]
    assert event["description"].startswith("Hanoi, Haiphong · Enterprise · ")


# --- the query layer: every measure of the registry -----------------------------------


def test_every_measure_honours_the_scope(duck_url):
    """Any measure, for a manager, equals the same measure for the whole country filtered to
    the manager's provinces, and a breakdown by province holds no other province."""
    manager = Scope(role="regional_manager", provinces=frozenset(MANAGER_PROVINCES), user="m")
    country = Scope()
    period = Filters(date(2026, 8, 1), date(2026, 10, 1))
    chosen = Filters(date(2026, 8, 1), date(2026, 10, 1), provinces=MANAGER_PROVINCES)
    engine = make_engine(duck_url, read_only=True)
    try:
        with engine.connect() as connection:
            for name, measure in MEASURES.items():
                scoped = run(measure_select(name, period, manager), connection)
                filtered = run(measure_select(name, chosen, country), connection)
                assert scoped.equals(filtered), name
                if "province_code" in measure.dimensions:
                    by_province = run(measure_select(name, period, manager, by=("province_code",)), connection)
                    assert set(by_province["province_code"]) <= set(MANAGER_PROVINCES), name
    finally:
        engine.dispose()
