"""The frame and every page, run headless with AppTest against the seeded test warehouse.

Every page in the navigation must render without exception in both languages, with the
default filters, one province, and a filter that selects nothing. The warehouse being
unreachable or empty gives a localised message, never a traceback.
"""

import re
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from queries.engine import duckdb_path
from tests.conftest import TEST_END_MONTH, log_in

PROJECT_ROOT = Path(__file__).resolve().parents[3]
APP = PROJECT_ROOT / "dashboard" / "app.py"
TIMEOUT = 120
PAGES = {  # page file (relative to the app) -> title (vi, en)
    "../pages/overview/overview.py": ("Tổng quan", "Overview"),
    "../pages/customers/customers.py": ("Khách hàng", "Customers"),
    "../pages/complaints/complaints.py": ("Khiếu nại", "Complaints"),
    "../pages/debt/debt.py": ("Nợ cước", "Debt"),
    "../pages/churn/churn.py": ("Rời mạng", "Churn"),
    "../pages/review/review.py": ("Đánh giá định kỳ", "Periodic review"),
}
FRESHNESS = {"vi": "Dữ liệu đến hết 31/10/2026", "en": "Data through 31/10/2026"}
HANOI = {"vi": "Hà Nội", "en": "Hanoi"}
RAG_MARK = re.compile(r" :(green|orange|red)\[●\]$")


def open_app(params: dict | None = None, page: str | None = None, user: str = "executive") -> AppTest:
    """The app as `user` (an executive sees every province), logged in before the first run."""
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.query_params.update(params or {})
    log_in(app, user)
    app.run()
    if page and page != "../pages/overview/overview.py":
        app.switch_page(page).run()
    return app


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]


@pytest.fixture(autouse=True)
def users(demo_users) -> dict:
    """Every test here runs with the demo users in a temporary var/ directory."""
    return demo_users


@pytest.fixture()
def warehouse(duck_url, monkeypatch) -> str:
    monkeypatch.setenv("WAREHOUSE_URL", duck_url)
    return duck_url


@pytest.fixture(scope="session")
def empty_selection(duck_url) -> dict[str, str]:
    """URL parameters of a province × segment × plan × area with no customer at all."""
    with duckdb.connect(str(duckdb_path(duck_url)), read_only=True) as connection:
        row = connection.execute(
            """
            select p.province_code, s.segment, pl.plan, a.area_type
            from provinces p
            cross join (values ('foreign'), ('government'), ('enterprise')) s(segment)
            cross join (values ('postpaid'), ('prepaid')) pl(plan)
            cross join (values ('remote'), ('rural'), ('urban')) a(area_type)
            where not exists (
                select 1 from customers c
                where c.province_code = p.province_code and c.segment = s.segment
                  and c.plan = pl.plan and c.area_type = a.area_type)
            order by p.province_code, s.segment, pl.plan, a.area_type
            limit 1
            """
        ).fetchone()
    assert row is not None, "the test warehouse has a customer in every combination"
    province, segment, plan, area = row
    return {"province": province, "segment": segment, "plan": plan, "area": area}


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders(warehouse, empty_selection, page, lang):
    title = PAGES[page][0 if lang == "vi" else 1]
    for params in ({"lang": lang}, {"lang": lang, "province": "01"}, {"lang": lang, **empty_selection}):
        app = open_app(params, page)
        assert_clean(app)
        assert [item.value for item in app.title] == [title]
        assert any(item.value.startswith(FRESHNESS[lang]) for item in app.sidebar.caption)
        assert not app.warning, [item.value for item in app.warning]
        captions = [item.value for item in app.main.caption]
        if params.get("province") == "01" and "segment" not in params:
            assert any(caption.startswith(HANOI[lang] + " · ") for caption in captions), captions
        if page == "../pages/overview/overview.py" and "segment" in params:
            assert len(app.info) == 1 and app.info[0].value.startswith(
                "Không có dữ liệu" if lang == "vi" else "No data"
            )
            assert not app.metric


def test_overview_shows_the_nine_kpis_with_deltas_and_sparklines(warehouse):
    app = open_app({"lang": "en"})
    assert_clean(app)
    labels = [RAG_MARK.sub("", metric.label) for metric in app.metric]
    assert labels == [
        "Active customers",
        "Net adds",
        "Monthly churn rate",
        "ARPU (average revenue per customer per month)",
        "Revenue",
        "Outstanding debt",
        "Open complaints",
        "Resolved within SLA",
        "NPS",
    ]
    for metric in app.metric:
        assert metric.value and metric.value != "—", metric.label
        assert metric.delta, metric.label  # October 2026 always has a September to compare with
        assert len(metric.proto.chart_data) == 12, metric.label
    what_changed = [item.value for item in app.markdown if item.value.startswith("1. ")]
    assert len(what_changed) == 1 and what_changed[0].count("\n") == 4  # five sentences


def test_language_switch_relabels_without_losing_filters(warehouse):
    app = open_app({"province": "01", "segment": "enterprise"})
    assert app.title[0].value == "Tổng quan"
    app.radio(key="lang").set_value("en").run()
    assert_clean(app)
    assert app.title[0].value == "Overview"
    assert app.multiselect(key="f_provinces").value == ["01"]
    assert app.multiselect(key="f_segments").value == ["enterprise"]
    assert app.query_params["lang"] == "en"
    assert app.query_params["province"] == "01"


def test_region_cascades_to_provinces(warehouse):
    app = open_app()
    app.multiselect(key="f_regions").set_value(["Nam"]).run()
    offered = app.multiselect(key="f_provinces").options
    assert "Hồ Chí Minh" in offered and "Hà Nội" not in offered
    app.multiselect(key="f_provinces").set_value(["79"]).run()
    app.multiselect(key="f_regions").set_value(["Bắc"]).run()
    assert_clean(app)
    assert app.multiselect(key="f_provinces").value == []  # HCMC is not in the north


def test_choosing_a_province_under_the_map_filters_everything(warehouse):
    app = open_app()
    before = app.metric[0].value
    app.selectbox(key="overview_map_province").set_value("01").run()
    assert_clean(app)
    assert app.multiselect(key="f_provinces").value == ["01"]
    assert app.query_params["province"] == "01"
    assert app.metric[0].value != before


def test_map_kpi_choice_is_kept_in_the_link(warehouse):
    app = open_app({"map": "arpu"})
    assert app.selectbox(key="overview_map_measure").value == "arpu"
    app.selectbox(key="overview_map_measure").set_value("nps").run()
    assert app.query_params["map"] == "nps"
    unknown = open_app({"map": "profit"})
    assert_clean(unknown)
    assert [item.value for item in unknown.warning] == ["Đã bỏ qua tham số không hợp lệ trong đường dẫn: map=profit"]
    assert unknown.query_params["map"] == "churn_rate"


def test_reset_returns_to_the_default_view(warehouse):
    app = open_app({"from": "2026-01", "to": "2026-06", "segment": "enterprise", "lang": "en"})
    app.button(key="f_reset").click().run()
    assert_clean(app)
    assert app.session_state["_view"].filters.segments == ()
    assert app.query_params["from"] == app.query_params["to"] == "2026-10"
    assert app.query_params["lang"] == "en"


def test_unreachable_warehouse_gives_a_localised_message(monkeypatch, tmp_path):
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{tmp_path / 'missing.duckdb'}")
    for lang, start in (("vi", "Không kết nối được kho dữ liệu"), ("en", "The data warehouse cannot be reached")):
        app = open_app({"lang": lang})
        assert not app.exception
        assert len(app.error) == 1 and app.error[0].value.startswith(start)
        assert not app.metric


def test_unreachable_postgres_gives_a_localised_message(monkeypatch):
    # Nothing listens on port 9 (discard): the connection is refused at once.
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://nobody@127.0.0.1:9/crm")
    app = open_app()
    assert not app.exception
    assert len(app.error) == 1 and app.error[0].value.startswith("Không kết nối được kho dữ liệu")


def test_empty_warehouse_says_so(monkeypatch, tmp_path):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{path}")
    app = open_app({"lang": "en"})
    assert not app.exception
    assert len(app.warning) == 1 and app.warning[0].value.startswith("The data warehouse holds no data")


def test_a_reloaded_warehouse_is_picked_up_without_a_restart(monkeypatch, tmp_path, duck_url):
    """The loader replaces the DuckDB file atomically: the next run reads the new file."""
    import shutil

    from data_seed import seed_warehouse

    live = tmp_path / "warehouse.duckdb"
    shutil.copy(duckdb_path(duck_url), live)
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{live}")
    app = open_app()
    before = app.metric[0].value
    replacement = tmp_path / "new.duckdb"
    seed_warehouse(f"duckdb:///{replacement}", customers=3_000, months=36, seed=99, end_month=TEST_END_MONTH)
    replacement.replace(live)  # what the loader does: rename over the old file
    app.run()
    assert_clean(app)
    assert app.metric[0].value != before


@pytest.mark.postgres
def test_overview_renders_on_postgresql(pg_url, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", pg_url)
    app = open_app({"lang": "en", "province": "79"})
    assert_clean(app)
    assert len(app.metric) == 9
    assert any(item.value.startswith(FRESHNESS["en"]) for item in app.sidebar.caption)


def test_a_page_run_freezes_the_long_lived_objects_once(warehouse, monkeypatch):
    """After a page has run, full garbage collections skip the imported modules (gc.freeze),
    once per process: a second run freezes nothing more (see dashboard/frame/gc_pauses.py)."""
    import gc

    from dashboard.frame import gc_pauses

    freezes = []
    monkeypatch.setattr(gc_pauses, "_frozen", False)
    monkeypatch.setattr(gc_pauses.gc, "freeze", lambda: freezes.append(gc.get_count()))
    app = open_app({"lang": "vi"})
    assert_clean(app)
    assert len(freezes) == 1 and gc_pauses._frozen
    app.run()
    assert len(freezes) == 1
