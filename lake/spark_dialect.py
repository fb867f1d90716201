"""SQLAlchemy statements compiled for Spark SQL.

The mart builds are SQLAlchemy Core selects (data_seed/mart_builds.py, reusing the query
layer's raw selects); Spark runs them as they are. SQLAlchemy's own generic compiler writes
the ANSI SQL Spark reads — joins, CASE, window functions, VALUES lists, CAST — and binds
values as named parameters (`:name`), which `spark.sql(text, args=…)` takes. What Spark says
differently is settled here once, like DuckDB's differences in queries/sql_functions.py:
the names of types, and the two date differences.
"""

from sqlalchemy import types
from sqlalchemy.engine import default
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import compiler

from queries.sql_functions import days_between, hours_between

SPARK = "spark"


class SparkTypeCompiler(compiler.GenericTypeCompiler):
    """Spark's names for the warehouse's types (it has no TEXT or VARCHAR without a length)."""

    def visit_string(self, type_, **kw):
        return "STRING"

    visit_text = visit_unicode = visit_unicode_text = visit_VARCHAR = visit_CHAR = visit_TEXT = visit_string

    def visit_datetime(self, type_, **kw):
        # The warehouse's timestamps are wall-clock times in Vietnam, without a zone.
        return "TIMESTAMP_NTZ"

    visit_TIMESTAMP = visit_DATETIME = visit_datetime

    def visit_float(self, type_, **kw):
        return "DOUBLE"

    visit_double = visit_DOUBLE = visit_FLOAT = visit_REAL = visit_real = visit_float

    def visit_boolean(self, type_, **kw):
        return "BOOLEAN"


class SparkDialect(default.DefaultDialect):
    name = SPARK
    paramstyle = "named"
    positional = False
    type_compiler_cls = SparkTypeCompiler
    supports_multivalues_insert = True
    supports_native_boolean = True


@compiles(hours_between, SPARK)
def _hours_between_spark(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST(timestampdiff(MICROSECOND, {start}, {end}) AS DOUBLE) / 3600000000.0)"


@compiles(days_between, SPARK)
def _days_between_spark(element, compiler, **kw):
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"datediff(CAST({end} AS DATE), CAST({start} AS DATE))"


def spark_type(column_type: types.TypeEngine) -> str:
    """The Spark SQL name of a column's type (for casts and empty tables)."""
    return SparkDialect().type_compiler_instance.process(column_type)


def spark_schema(columns) -> str:
    """A Spark DDL schema ("`a` BIGINT, `b` STRING") for SQLAlchemy columns."""
    return ", ".join(f"`{column.name}` {spark_type(column.type)}" for column in columns)
