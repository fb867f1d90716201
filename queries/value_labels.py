"""Codes shown as words inside a list select: category 'billing' → 'Cước phí' in the file too.

A customer-level list is paged and downloaded straight from its select (dashboard/charts/paged_list.py),
so the words have to be in the select. The dashboard passes its labels in ({code: label});
they enter the SQL as bound parameters, and a code without a label stays as it is.
"""

from collections.abc import Mapping

from sqlalchemy import ColumnElement, String, case, cast, literal

Labels = Mapping[str, Mapping[str, str]]  # column name -> {code: label}


def labelled(expression: ColumnElement, labels: Mapping[str, str] | None) -> ColumnElement:
    """`expression` (a code) replaced by its label where one is given."""
    if not labels:
        return expression
    return case(
        *[(expression == code, literal(label, String)) for code, label in labels.items()],
        else_=cast(expression, String),
    )


def column_labels(labels: Labels | None, column: str) -> Mapping[str, str] | None:
    return (labels or {}).get(column)
