"""The pages show what the extract does not know (tests/unknowns_warehouse.py), through the
running app (AppTest) on DuckDB, every figure against plain SQL on the raw tables:

- Churn: the port-out card counts the customers who left for an unnamed competitor; the
  balance table, the flow (Sankey) and the competitor trend show them as "Không rõ" with
  their count; the churn rate by area has a "Không rõ" bar;
- Customers: the "lost to competitors" card (port-outs) counts them too; the area table
  has an "Unknown" column; the revenue card is the net sum, credit included; the customer
  list shows "—" for a NULL name or phone (plain and masked), never "None", and its CSV
  leaves them empty;
- the sidebar offers the unknown area type by its label, selects those customers, and a
  choice with no rows gets the usual empty message.
"""

import csv
import io
import json
from datetime import date

import duckdb
import pytest

from dashboard.charts.components import card_value
from dashboard.charts.paged_list import export_bytes
from dashboard.frame.filter_options import load_filter_options
from dashboard.frame.filter_text import describe_filters
from dashboard.frame.session import View
from dashboard.text.formatting import MISSING, format_value
from pages.customers.data import list_labels, list_query
from queries.engine import duckdb_path
from queries.filters import Filters, Scope
from tests.page_helpers import assert_clean, open_page, table_with
from tests.unknowns_warehouse import KNOWN_AREA_PROVINCE, LAST_MONTH, build

CHURN = "../pages/churn/churn.py"
CUSTOMERS = "../pages/customers/customers.py"
LIST_PROVINCE = "79"  # the largest province: the first page of its list holds NULL names and phones
NEXT_MONTH = date(2026, 11, 1)
WINDOW_START = date(2025, 11, 1)  # the list's 12 months of revenue, ending with LAST_MONTH


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[str, dict]:
    """(url, the expected figures), read with plain SQL before the app opens the file."""
    url = f"duckdb:///{tmp_path_factory.mktemp('unknown_pages') / 'warehouse.duckdb'}"
    build(url)
    month = {"start": LAST_MONTH, "stop": NEXT_MONTH}
    with duckdb.connect(str(duckdb_path(url)), read_only=True) as connection:

        def one(sql: str, **parameters):
            return connection.execute(sql, parameters).fetchone()[0]

        expected = {
            "port_outs": one(
                "SELECT COUNT(*) FROM churn_events WHERE ported_to IS NOT NULL "
                "AND churned_on >= $start AND churned_on < $stop",
                **month,
            ),
            "port_outs_unknown": one(
                "SELECT COUNT(*) FROM churn_events WHERE ported_to = 'unknown' "
                "AND churned_on >= $start AND churned_on < $stop",
                **month,
            ),
            "port_ins_unknown": one(
                "SELECT COUNT(*) FROM customers WHERE ported_in_from = 'unknown' "
                "AND activated_on >= $start AND activated_on < $stop",
                **month,
            ),
            "port_outs_unknown_trend": one(
                "SELECT COUNT(*) FROM churn_events WHERE ported_to = 'unknown' AND churned_on < $stop", stop=NEXT_MONTH
            ),
            "revenue": one(
                "SELECT SUM(revenue_vnd) FROM revenue_monthly WHERE revenue_month = $start", start=LAST_MONTH
            ),
            "credits": one(
                "SELECT COUNT(*) FROM revenue_monthly WHERE revenue_vnd < 0 AND revenue_month = $start",
                start=LAST_MONTH,
            ),
            "active_unknown_area": one(
                "SELECT COUNT(*) FROM customers WHERE area_type = 'unknown' AND activated_on < $stop "
                "AND (churned_on IS NULL OR churned_on >= $stop)",
                stop=NEXT_MONTH,
            ),
            # The drill-down list of LIST_PROVINCE: active at some time in the month, the most
            # revenue over 12 months first, then by id.
            "list": connection.execute(
                "WITH revenue AS (SELECT customer_id, SUM(revenue_vnd) AS amount FROM revenue_monthly "
                "WHERE revenue_month >= $window AND revenue_month < $stop GROUP BY customer_id) "
                "SELECT c.customer_key, c.full_name, c.phone FROM customers c "
                "LEFT JOIN revenue r ON r.customer_id = c.customer_id "
                "WHERE c.province_code = $province AND c.activated_on < $stop "
                "AND (c.churned_on IS NULL OR c.churned_on >= $start) "
                "ORDER BY COALESCE(r.amount, 0) DESC, c.customer_id",
                {"window": WINDOW_START, "province": LIST_PROVINCE, **month},
            ).fetchall(),
        }
    assert expected["port_outs_unknown"] > 0 and expected["port_ins_unknown"] >= 0
    assert expected["credits"] == 1 and expected["active_unknown_area"] > 0
    return url, expected


@pytest.fixture()
def warehouse(built, demo_users, monkeypatch) -> dict:
    url, expected = built
    monkeypatch.setenv("WAREHOUSE_URL", url)
    return expected


def metrics_of(app) -> dict[str, str]:
    return {metric.label.split(" :")[0]: metric.value for metric in app.metric}


def figures(app) -> list[dict]:
    """The Plotly figures the page drew (AppTest has no chart accessor: their JSON spec)."""
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def titled(app, title: str) -> dict:
    (figure,) = [figure for figure in figures(app) if figure["layout"].get("title", {}).get("text", "") == title]
    return figure


def test_the_churn_page_counts_and_names_the_unknown_destination(warehouse):
    app = open_page(CHURN, {"lang": "vi"})
    assert_clean(app)
    assert metrics_of(app)["Chuyển mạng đi (MNP)"] == card_value(warehouse["port_outs"], "count", "vi")

    balance = table_with(app, "Nhà mạng")
    unknown = balance[balance["Nhà mạng"] == "Không rõ"]
    assert len(unknown) == 1, balance
    assert unknown["Chuyển mạng đi (MNP)"].iloc[0] == format_value(warehouse["port_outs_unknown"], "count", "vi")
    assert unknown["Chuyển mạng đến (MNP)"].iloc[0] == format_value(warehouse["port_ins_unknown"], "count", "vi")

    (flow,) = [figure for figure in figures(app) if figure["data"][0]["type"] == "sankey"]
    sankey = flow["data"][0]
    labels = sankey["node"]["label"]
    assert "Không rõ" in labels and "unknown" not in labels
    target = labels.index("Không rõ")
    links = zip(sankey["link"]["value"], sankey["link"]["target"], strict=True)
    into_unknown = [value for value, to in links if to == target]
    assert sum(into_unknown) == warehouse["port_outs_unknown"]
    assert sum(sankey["link"]["value"]) == warehouse["port_outs"]

    trend = titled(app, "Chuyển mạng đi theo nhà mạng nhận")
    (series,) = [trace for trace in trend["data"] if trace["name"] == "Không rõ"]
    assert sum(series["y"]) == warehouse["port_outs_unknown_trend"]

    by_area = titled(app, "Tỷ lệ rời mạng tháng theo khu vực")
    assert "Không rõ" in by_area["data"][0]["y"]


def test_the_customers_page_counts_unknowns_and_credits(warehouse):
    app = open_page(CUSTOMERS, {"lang": "en"})
    assert_clean(app)
    metrics = metrics_of(app)
    assert metrics["Port-outs (MNP)"] == card_value(warehouse["port_outs"], "count", "en")
    assert metrics["Revenue"] == card_value(warehouse["revenue"], "vnd", "en")

    areas = table_with(app, "Indicator")
    assert list(areas.columns) == ["Indicator", "Urban", "Rural", "Remote", "Unknown"]
    active = areas[areas["Indicator"] == "Active customers"]
    assert active["Unknown"].iloc[0] == format_value(warehouse["active_unknown_area"], "count", "en")


def list_table(app):
    tables = [table.value for table in app.dataframe if "Customer id" in table.value.columns]
    assert len(tables) == 1
    return tables[0]


@pytest.mark.parametrize("user", ["executive", "analyst"])
def test_the_customer_list_shows_missing_names_and_phones_as_a_dash(warehouse, user):
    app = open_page(CUSTOMERS, {"lang": "en"}, user)
    app.radio(key="customers_drill_by").set_value("province_code").run()
    app.selectbox(key="customers_drill_province_code").set_value(LIST_PROVINCE).run()
    assert_clean(app)
    table = list_table(app)
    expected = warehouse["list"][: len(table)]
    assert table["Customer id"].tolist() == [customer_key for customer_key, _, _ in expected]
    assert any(name is None for _, name, _ in expected) and any(phone is None for _, _, phone in expected)
    for (_, name, phone), shown_name, shown_phone in zip(expected, table["Name"], table["Phone"], strict=True):
        assert (shown_name == MISSING) == (name is None), (name, shown_name)
        assert (shown_phone == MISSING) == (phone is None), (phone, shown_phone)
        if user == "executive":
            assert (shown_name, shown_phone) == (name or MISSING, phone or MISSING)
        else:
            assert name is None or "*" in shown_name
            assert phone is None or "*" in shown_phone
    assert "None" not in table.astype(str).to_numpy().ravel().tolist()


def test_the_customer_list_file_leaves_missing_names_and_phones_empty(warehouse):
    filters = Filters(LAST_MONTH, LAST_MONTH)
    for scope in (Scope(user="executive"), Scope(role="analyst", mask_personal_data=True, user="analyst")):
        options = load_filter_options(scope)
        view = View(filters, scope, "en", options, describe_filters(filters, options, "en", scope))
        data = export_bytes(
            list_query(view, province_code=LIST_PROVINCE), view, "csv", file_stem="c", labels=list_labels("en")
        )
        lines = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert [line["Customer id"] for line in lines] == [customer_key for customer_key, _, _ in warehouse["list"]]
        for line, (_, name, phone) in zip(lines, warehouse["list"], strict=True):
            assert (line["Name"] == "") == (name is None) and (line["Phone"] == "") == (phone is None), line
            assert "None" not in line.values()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_sidebar_offers_and_selects_the_unknown_area(warehouse, lang):
    app = open_page(CUSTOMERS, {"lang": lang, "area": "unknown"})
    assert_clean(app)
    chosen = app.multiselect(key="f_area_types")
    assert chosen.value == ["unknown"]
    assert ("Không rõ" if lang == "vi" else "Unknown") in chosen.options
    active = metrics_of(app)["Khách hàng đang hoạt động" if lang == "vi" else "Active customers"]
    assert active == card_value(warehouse["active_unknown_area"], "count", lang)
    # The filter line names the choice so that it reads alone under a chart.
    named = "Toàn quốc · Khu vực không rõ · " if lang == "vi" else "Whole country · Area unknown · "
    assert any(caption.value.startswith(named) for caption in app.main.caption)

    nobody = open_page(CUSTOMERS, {"lang": lang, "area": "unknown", "province": KNOWN_AREA_PROVINCE})
    assert not nobody.metric
    assert len(nobody.info) == 1
    assert nobody.info[0].value.startswith("Không có dữ liệu" if lang == "vi" else "No data")


@pytest.mark.parametrize("page", ["overview", "complaints", "debt", "review"])
def test_the_other_pages_draw_the_unknowns_cleanly(warehouse, page):
    """No traceback, no empty text cell (the grid would print "None"), no "None" and no bare
    code 'unknown' in any table the page shows (the debt lists hold NULL names and phones)."""
    app = open_page(f"../pages/{page}/{page}.py", {"lang": "vi"})
    assert_clean(app)
    for table in app.dataframe:
        text = table.value.select_dtypes(include=["object", "str"])
        assert not text.isna().any().any(), text.columns[text.isna().any()].tolist()
        cells = {cell for cell in text.to_numpy().ravel().tolist() if isinstance(cell, str)}
        assert "None" not in cells and "unknown" not in cells
    if page == "complaints":
        assert "Không rõ" in table_with(app, "Khu vực")["Khu vực"].tolist()
