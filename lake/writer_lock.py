"""One writer at a time per lake folder: an export and a refresh committing at once would
each remove the other's new files as unreferenced (lake/store.py)."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "_writer.lock"


@contextmanager
def lake_writer(root: Path) -> Iterator[None]:
    """Hold the folder's writer lock; a second writer is refused at once with a clear message."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another export or refresh is writing {root}; try again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
