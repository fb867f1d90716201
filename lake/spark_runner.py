"""Runs the mart builders' statements (data_seed/mart_builds.py) on Spark, over the lake.

The builders were written for a SQL database: DELETE the months being rebuilt, INSERT …
SELECT them again, read a mart back (a rollup sums its fine mart; the customer stock carries
on from the month before), use a scratch table. This runner gives them that, with the same
methods as data_seed.mart_runner.Runner, on Parquet files, which have no DELETE:

- every table is a Spark temporary view of its current rows under its own name, so the
  compiled selects read raw tables and marts as they would in the warehouse;
- a DELETE of a mart drops whole month partitions (`month >= since`) or the whole table
  from what is kept of the committed files; nothing is written;
- an INSERT … SELECT runs the select on the cluster and appends its rows, cast to the mart's
  types, as Parquet into this run's own folder of the mart (one folder per month);
- `commit()` points the marts' manifest at the kept partitions plus this run's folders, in
  one rename (lake/store.py). Until then the lake's marts are untouched, so a failed run
  changes nothing.

Raw tables are read only: a statement that would write one is refused.
"""

import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Table
from sqlalchemy.sql import operators
from sqlalchemy.sql.dml import Delete, Insert
from sqlalchemy.sql.elements import BinaryExpression, BindParameter
from sqlalchemy.sql.util import find_tables

from lake.spark_dialect import SparkDialect, spark_schema, spark_type
from lake.store import PARTITION_COLUMN, Manifest, run_folder, written_months


@dataclass
class TableState:
    """One table as this run sees it: committed files still valid, plus rows written now."""

    table: Table
    writable: bool
    kept_months: dict[date, str] = field(default_factory=dict)  # month tables
    kept_whole: str | None = None  # whole tables: the committed folder, if still valid
    kept_filter: tuple[str, dict] | None = None  # a row filter on kept_whole (SQL, parameters)
    run: str | None = None  # this run's folder, relative to the root; None until written
    changed: bool = False

    @property
    def by_month(self) -> bool:
        return "month" in self.table.c


class SparkRunner:
    """The Runner interface (execute, rows, scalar, create_temporary, analyse, execute_sql)
    for a Spark session over a lake's raw and mart folders."""

    def __init__(
        self, spark, raw_root: Path, raw: Manifest, marts_root: Path, marts: Manifest, raw_tables, mart_tables
    ):
        self.spark = spark
        self.dialect = SparkDialect()
        self.raw_root, self.marts_root = Path(raw_root), Path(marts_root)
        self.mart_names = {table.name for table in mart_tables}
        self.states: dict[str, TableState] = {}
        self.pending: dict[str, list] = {}  # table name → inserted frames not yet written
        for table in raw_tables:
            self.states[table.name] = TableState(table, writable=False)
            self._register(table.name, folders=raw.folders(self.raw_root, table.name))
        for table in mart_tables:
            state = TableState(table, writable=True)
            if state.by_month:
                state.kept_months = marts.months(table.name)
            elif marts.has(table.name):
                state.kept_whole = marts.tables[table.name]["whole"]
            self.states[table.name] = state
            self._show(state)

    # --- the Runner interface -------------------------------------------------------------

    def execute(self, statement) -> None:
        if isinstance(statement, Delete):
            self._delete(statement)
        elif isinstance(statement, Insert):
            self._insert(statement)
        else:
            raise ValueError(f"the Spark refresh runs DELETE, INSERT and SELECT only, not {type(statement).__name__}")

    def rows(self, statement) -> list[tuple]:
        self._flush()
        sql, parameters = self._compiled(statement)
        return [tuple(row) for row in self.spark.sql(sql, args=parameters).collect()]

    def scalar(self, statement):
        found = self.rows(statement)
        return found[0][0] if found else None

    def create_temporary(self, work_table: Table) -> None:
        self.states[work_table.name] = TableState(work_table, writable=True, changed=True)
        self._show(self.states[work_table.name])

    def analyse(self, work_table: Table) -> None:
        """Spark plans without statistics of its own tables; nothing to do."""

    def execute_sql(self, sql: str) -> None:
        words = sql.split()
        if words[:2] == ["DROP", "TABLE"] and words[2] in self.states:
            self._flush()
            state = self.states.pop(words[2])
            if state.run:
                shutil.rmtree(self.marts_root / state.run, ignore_errors=True)
            self.spark.catalog.dropTempView(words[2])
            return
        raise ValueError(f"the Spark refresh does not run {sql!r}")

    # --- writes ---------------------------------------------------------------------------

    def _writable(self, table: Table) -> TableState:
        state = self.states.get(table.name)
        if state is None or not state.writable:
            raise ValueError(f"the Spark refresh writes marts only, not {table.name}")
        return state

    def _delete(self, statement: Delete) -> None:
        self._flush()
        state = self._writable(statement.table)
        where = statement.whereclause
        if state.run:
            raise ValueError(f"{state.table.name}: a DELETE after this run's INSERT is not supported")
        state.changed = True
        if where is None:
            state.kept_months, state.kept_whole, state.kept_filter = {}, None, None
        elif state.by_month:
            since = _month_from(where, state.table)
            state.kept_months = {month: path for month, path in state.kept_months.items() if month < since}
        else:  # a small bookkeeping table (mart_refresh): keep the rows the condition does not match
            sql, parameters = self._compiled(where)
            state.kept_filter = (f"NOT coalesce({sql}, false)", parameters)
        self._show(state)

    def _insert(self, statement: Insert) -> None:
        state = self._writable(statement.table)
        table = state.table
        if statement.select is not None:
            # Rows a select reads must be on disk before Spark binds the select to the views.
            self._flush(_tables_read(statement.select))
            sql, parameters = self._compiled(statement.select)
            frame = self.spark.sql(sql, args=parameters).toDF(*statement._select_names)
        else:
            rows = [dict(row) for row in statement._multi_values[0]] if statement._multi_values else [statement._values]
            names = list(rows[0])
            schema = spark_schema(table.c[name] for name in names)
            frame = self.spark.createDataFrame([tuple(row[name] for name in names) for row in rows], schema)
        typed = frame.selectExpr(
            *(
                f"CAST({f'`{column.name}`' if column.name in frame.columns else 'NULL'} AS {spark_type(column.type)})"
                f" AS `{column.name}`"
                for column in table.columns
            )
        )
        # Written later, with the table's other pending inserts, as one Spark job: the
        # month-by-month marts insert one month per statement, and a job per month would
        # spend more time scheduling than computing.
        self.pending.setdefault(table.name, []).append(typed)
        state.changed = True

    def _flush(self, names=None) -> None:
        """Write the pending inserts of the tables named (all when None) and show them."""
        for name in [name for name in self.pending if names is None or name in names]:
            frames = self.pending.pop(name)
            state = self.states[name]
            typed = frames[0]
            for frame in frames[1:]:
                typed = typed.unionByName(frame)
            if state.run is None:
                state.run = run_folder(name)
            target = str(self.marts_root / state.run)
            if state.by_month:  # one file per month and write
                partitioned = typed.withColumn(PARTITION_COLUMN, typed["month"]).repartition(PARTITION_COLUMN)
                partitioned.write.mode("append").partitionBy(PARTITION_COLUMN).parquet(target)
            else:
                typed.write.mode("append").parquet(target)
            self._show(state)

    # --- the views ------------------------------------------------------------------------

    def _show(self, state: TableState) -> None:
        """Register the table's current rows (kept committed files + this run's) as its view."""
        table = state.table
        schema = spark_schema(table.columns)
        parts = []
        if state.by_month:
            folders = [self.marts_root / path for _, path in sorted(state.kept_months.items())]
            if folders:
                parts.append(self.spark.read.schema(schema).parquet(*map(str, folders)))
        elif state.kept_whole:
            parts.append(self._kept_rows(state))
        if state.run and (self.marts_root / state.run).exists():
            written = self.spark.read.parquet(str(self.marts_root / state.run))
            parts.append(written.select(*(f"`{column.name}`" for column in table.columns)))
        self._register_frames(table, schema, parts)

    def _kept_rows(self, state: TableState):
        """The committed rows of a whole table that a DELETE did not match."""
        name = state.table.name
        kept = self.spark.read.parquet(str(self.marts_root / state.kept_whole))
        if not state.kept_filter:
            return kept
        kept.createOrReplaceTempView(f"{name}__kept")
        sql, parameters = state.kept_filter
        # Under the table's own name: the condition was compiled as `mart_refresh.key IN (…)`.
        return self.spark.sql(f"SELECT * FROM {name}__kept AS {name} WHERE {sql}", args=parameters)

    def _register(self, name: str, folders: list[Path]) -> None:
        table = self.states[name].table
        parts = [self.spark.read.parquet(*map(str, folders))] if folders else []
        self._register_frames(table, spark_schema(table.columns), parts)

    def _register_frames(self, table: Table, schema: str, parts) -> None:
        columns = [f"`{column.name}`" for column in table.columns]
        frames = [part.selectExpr(*columns) for part in parts] or [self.spark.createDataFrame([], schema)]
        frame = frames[0]
        for part in frames[1:]:
            frame = frame.unionByName(part)
        frame.createOrReplaceTempView(table.name)

    # --- commit ---------------------------------------------------------------------------

    def commit_into(self, manifest: Manifest) -> list[str]:
        """Write what is left to write (the kept rows of filtered whole tables) and point
        `manifest` at every changed mart's files; the names of the marts changed."""
        self._flush()
        changed = []
        for name, state in self.states.items():
            if not state.changed or name not in self.mart_names:
                continue
            if not state.by_month and state.kept_whole:
                self._carry_kept_rows(state)
            if state.by_month:
                run_months = written_months(self.marts_root, state.run) if state.run else {}
                manifest.set_months(name, state.kept_months | run_months)
            else:
                if state.run is None:  # emptied, nothing inserted: an empty table
                    state.run = run_folder(name)
                    self._empty(state)
                manifest.set_whole(name, state.run)
            changed.append(name)
        return changed

    def _carry_kept_rows(self, state: TableState) -> None:
        kept = self._kept_rows(state)
        if state.run is None:
            state.run = run_folder(state.table.name)
        kept.write.mode("append").parquet(str(self.marts_root / state.run))
        state.kept_whole = None

    def _empty(self, state: TableState) -> None:
        self.spark.createDataFrame([], spark_schema(state.table.columns)).write.parquet(
            str(self.marts_root / state.run)
        )

    # --- compiling ------------------------------------------------------------------------

    def _compiled(self, statement) -> tuple[str, dict]:
        compiled = statement.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})
        return str(compiled), dict(compiled.params)


def _tables_read(select) -> set[str]:
    return {table.name for table in find_tables(select, include_aliases=True) if hasattr(table, "name")}


def _month_from(where, table: Table) -> date:
    """`since` of `month >= since`, the only partial DELETE a month mart gets (a refresh
    rebuilds whole months)."""
    if (
        isinstance(where, BinaryExpression)
        and where.operator is operators.ge
        and where.left is table.c.month
        and isinstance(where.right, BindParameter)
        and isinstance(where.right.value, date)
    ):
        return where.right.value
    raise ValueError(f"{table.name}: the Spark refresh deletes whole months from one month on, not {where}")
