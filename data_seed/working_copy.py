"""Change a DuckDB warehouse file all or nothing: on a copy, swapped in at the end.

Open dashboards keep reading the old file until the rename; a failure (or an exception
raised by the caller) removes the copy and leaves the file exactly as it was. Used by the
mart refresh and by publishing the lake's marts (lake/publish.py).
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from data_seed.ddl import DUCKDB_MEMORY_LIMIT


@contextmanager
def working_copy(path: Path, purpose: str) -> Iterator:
    """A DuckDB connection on a copy of `path` (named `<file>.<purpose>-<uuid>`); when the
    block ends without an exception the copy is checkpointed and replaces `path`."""
    working = path.with_name(f"{path.name}.{purpose}-{uuid.uuid4().hex}")
    shutil.copyfile(path, working)
    try:
        connection = duckdb.connect(str(working))
        try:
            connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
            connection.execute("SET enable_progress_bar = false")
            yield connection
            connection.execute("CHECKPOINT")
        finally:
            connection.close()
        # A write-ahead log left by the old file would be replayed onto the new one.
        Path(f"{path}.wal").unlink(missing_ok=True)
        os.replace(working, path)
    except BaseException:
        working.unlink(missing_ok=True)
        Path(f"{working}.wal").unlink(missing_ok=True)
        raise
