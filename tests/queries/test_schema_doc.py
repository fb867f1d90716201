"""docs/schema.md is generated from queries/tables.py and must never drift from it."""

from queries import schema_doc, tables


def test_schema_doc_is_up_to_date():
    committed = schema_doc.DOC_PATH.read_text(encoding="utf-8")
    assert committed == schema_doc.render(), "docs/schema.md is stale: run `python -m queries.schema_doc`"


def test_every_table_and_column_is_documented_with_its_type_and_doc():
    text = schema_doc.render()
    for table in tables.metadata.tables.values():
        assert f"\n## {table.name}\n\n{schema_doc.TABLE_SUMMARIES[table.name]}\n" in text
        for column in table.columns:
            assert column.doc, f"{table.name}.{column.name} has no doc"
            line = schema_doc.column_line(column)
            assert line in text
            assert f"| {schema_doc.column_type(column)} | {'yes' if column.nullable else 'no'} |" in line


def test_semantic_checks_appear_under_their_table():
    text = schema_doc.render()
    complaints = text.split("\n## complaints\n", 1)[1].split("\n## ", 1)[0]
    assert "- resolved_at: must be on or after opened_at" in complaints
    assert "- category: must be one of coverage, billing," in complaints
    assert "must not be empty" not in complaints  # shown by the nullable column instead
