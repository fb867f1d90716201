"""Small SQL constructs that read the same in every measure and compile per dialect.

DuckDB and PostgreSQL disagree on percentiles, timestamp differences and date
differences. Each disagreement is settled here once (sqlalchemy.ext.compiler), so a
measure never branches on the dialect. The default rendering is PostgreSQL's; DuckDB
gets its own. Month boundaries are computed in Python and bound as parameters, so no
date arithmetic beyond these differences is needed in SQL.
"""

from sqlalchemy import Date, Double, cast, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class percentile(FunctionElement):
    """Continuous (interpolated) percentile of an expression: percentile(expr, 0.9).

    The fraction is our own constant, never user input, and both engines want it as a
    constant: it is rendered as a literal column so it is part of the statement cache key
    (a bound value would not be, and a cached median could answer a p90).
    """

    type = Double()
    inherit_cache = True
    name = "percentile"

    def __init__(self, expression, fraction: float):
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"percentile fraction must be within 0..1, got {fraction}")
        super().__init__(expression, literal_column(repr(fraction)))


@compiles(percentile)
def _percentile_postgresql(element, compiler, **kw):
    expression, fraction = list(element.clauses)
    ordered_by = compiler.process(expression, **kw)
    return f"percentile_cont({compiler.process(fraction, **kw)}) WITHIN GROUP (ORDER BY {ordered_by})"


@compiles(percentile, "duckdb")
def _percentile_duckdb(element, compiler, **kw):
    expression, fraction = list(element.clauses)
    return f"quantile_cont({compiler.process(expression, **kw)}, {compiler.process(fraction, **kw)})"


class hours_between(FunctionElement):
    """Hours (fractional) from the first timestamp to the second: hours_between(opened, resolved)."""

    type = Double()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between)
def _hours_between_postgresql(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION) / 3600.0)"


@compiles(hours_between, "duckdb")
def _hours_between_duckdb(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST(date_diff('microsecond', {start}, {end}) AS DOUBLE PRECISION) / 3600000000.0)"


class days_between(FunctionElement):
    """Whole days from the first date to the second (end − start): days_between(due_on, as_of)."""

    type = Double()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_postgresql(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST({end} AS DATE) - CAST({start} AS DATE))"


@compiles(days_between, "duckdb")
def _days_between_duckdb(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date_diff('day', CAST({start} AS DATE), CAST({end} AS DATE))"


def month_start(expression) -> ColumnElement:
    """First day of the month of a date or timestamp, as a DATE (DuckDB's date_trunc gives a TIMESTAMP)."""
    return cast(func.date_trunc(literal_column("'month'"), expression), Date)


def as_double(expression) -> ColumnElement:
    """Cast to double precision: PostgreSQL's sum(bigint) is numeric (Decimal in Python)."""
    return cast(expression, Double)


def ratio(numerator, denominator) -> ColumnElement:
    """numerator ÷ denominator as a double; NULL when the denominator is zero or NULL."""
    return as_double(numerator) / func.nullif(as_double(denominator), 0.0)
