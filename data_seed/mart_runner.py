"""Runs SQLAlchemy Core statements on a DB-API connection for the mart refresh.

The refresh is handed a raw connection (the loader's own, mid-transaction on PostgreSQL, or
a native DuckDB connection), not an SQLAlchemy engine: each statement is compiled for the
warehouse's dialect and executed with bound parameters.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Table
from sqlalchemy.engine import Dialect

from data_seed.ddl import create_table_ddl


class Runner:
    """Executes Core statements on a DB-API connection, parameters bound, for one dialect.

    A native DuckDB connection (the loader's) is used directly: its cursor() would open a
    second connection, which sees neither this one's temporary tables nor its settings."""

    def __init__(self, dbapi_connection, dialect: Dialect) -> None:
        self.connection = dbapi_connection
        self.dialect = dialect

    def _compiled(self, statement):
        compiled = statement.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})
        if self.dialect.positional:
            return str(compiled), [compiled.params[name] for name in compiled.positiontup]
        return str(compiled), compiled.params

    @contextmanager
    def _cursor(self) -> Iterator:
        if type(self.connection).__name__ == "DuckDBPyConnection":
            yield self.connection
            return
        cursor = self.connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def execute(self, statement) -> None:
        sql, parameters = self._compiled(statement)
        with self._cursor() as cursor:
            cursor.execute(sql, parameters)

    def rows(self, statement) -> list[tuple]:
        sql, parameters = self._compiled(statement)
        with self._cursor() as cursor:
            cursor.execute(sql, parameters)
            return [tuple(row) for row in cursor.fetchall()]

    def scalar(self, statement):
        found = self.rows(statement)
        return found[0][0] if found else None

    def create_temporary(self, work_table: Table) -> None:
        """A scratch table for this connection (dropped by the caller, or at disconnect)."""
        dialect_name = "duckdb" if self.dialect.name == "duckdb" else "postgresql"
        ddl = create_table_ddl(work_table, dialect_name)
        self.execute_sql(ddl.replace("CREATE TABLE", "CREATE TEMPORARY TABLE", 1))

    def analyse(self, work_table: Table) -> None:
        """PostgreSQL plans with statistics; temporary tables get none unless asked."""
        if self.dialect.name != "duckdb":
            self.execute_sql(f"ANALYZE {work_table.name}")

    def execute_sql(self, sql: str) -> None:
        """DDL without values (identifiers come from the table definitions)."""
        with self._cursor() as cursor:
            cursor.execute(sql)
