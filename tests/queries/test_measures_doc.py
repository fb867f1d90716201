"""docs/measures.md is generated from the measure registry and must never drift from it;
the sources each measure declares are the tables its select reads."""

from datetime import date

import pytest
from sqlalchemy import Table
from sqlalchemy.sql import visitors

from queries import marts, measures_doc
from queries.filters import Filters, Scope
from queries.metrics import MEASURES, measure_select

# Tables a select reads that its value does not depend on: port-ins, port-outs and net port
# share one select (port-ins from customers and port-outs from churn_events side by side).
READ_BUT_NOT_A_SOURCE = {"port_ins": {"churn_events"}}


def test_measures_doc_is_up_to_date():
    committed = measures_doc.DOC_PATH.read_text(encoding="utf-8")
    assert committed == measures_doc.render(), "docs/measures.md is stale: run `python -m queries.measures_doc`"


def test_every_measure_is_documented_with_its_fields():
    text = measures_doc.render()
    for measure in MEASURES.values():
        section = text.split(f"\n### `{measure.name}`\n", 1)[1].split("\n### ", 1)[0]
        assert f"| Label (vi) | {measure.label_vi} |" in section
        assert f"| Label (en) | {measure.label_en} |" in section
        assert f"| Formula | {measure.description_en} |" in section
        assert f"| Công thức | {measure.description_vi} |" in section
        assert f"| Unit | {measures_doc.UNIT_TEXT[measure.unit]} |" in section
        assert f"| Direction | {measures_doc.DIRECTION_TEXT[measure.direction]} |" in section
        assert measure.sources, f"{measure.name} declares no sources"
        assert "| Sources | " + ", ".join(f"`{table}`" for table in measure.sources) + " |" in section


@pytest.fixture
def raw_tables():
    before = marts.marts_enabled()
    marts.use_marts(False)
    yield
    marts.use_marts(before)


@pytest.mark.parametrize("name", list(MEASURES))
def test_declared_sources_are_the_tables_the_select_reads(name, raw_tables):
    measure = MEASURES[name]
    select = measure_select(name, Filters(date(2026, 1, 1), date(2026, 3, 1)), Scope())
    read = {element.name for element in visitors.iterate(select) if isinstance(element, Table)}
    assert set(measure.sources) <= read, f"{name} declares a source its select does not read"
    assert read - set(measure.sources) == READ_BUT_NOT_A_SOURCE.get(name, set()), f"{name}: undeclared source"
