"""The synthetic CRM warehouse: generator, importer, loader and the mart refresh.

``seed_warehouse()`` is the one entry point the CLI and the test fixtures share: same
arguments, same warehouse.
"""

from collections.abc import Callable
from datetime import date

from data_seed.generate import generate_tables
from data_seed.generate_calendar import last_complete_month
from data_seed.load import atomic_load
from queries.tables import metadata


def seed_warehouse(
    url: str,
    customers: int,
    months: int = 36,
    seed: int = 7,
    end_month: date | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Generate every table for ``customers`` customers over ``months`` months ending with
    ``end_month`` (first of month; default the last complete month in Vietnam) and load
    them into ``url`` in one all-or-nothing step. Returns the row count of every table.
    Deterministic for (customers, months, seed, end_month)."""
    end_month = end_month or last_complete_month()
    source = f"generate customers={customers} months={months} seed={seed} end_month={end_month:%Y-%m}"
    with atomic_load(url, source=source) as load:
        for table_name, frame in generate_tables(customers, months, seed, end_month, progress):
            load.write(table_name, frame)
        load.set_meta(data_through=end_month, seed=seed)
    return {table.name: load.rows[table.name] for table in metadata.sorted_tables}
