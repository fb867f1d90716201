"""Keep Python's full garbage collections from stalling a page.

A dashboard process holds ~580 k long-lived objects (Streamlit, Plotly, Polars,
SQLAlchemy, our modules). Every full (generation 2) collection walks them all: ~0.13 s on
an idle core, ~0.37 s on a busy one, landing on whichever page happens to be running
(the benchmark saw single runs of the Review page jump from 0.21 to 0.39 s). Once the
first page has run, every module is imported: freezing the objects alive then moves them
out of the collector's sight (gc.freeze), and a full collection walks only what pages
create (measured: 2–7 ms). Frozen objects are never freed, which is what modules and
caches are for; the first run's garbage is collected just before.
"""

import gc
import threading

_frozen = False
_lock = threading.Lock()


def freeze_long_lived_objects() -> None:
    """Once per process, after a page has run: collect, then freeze what is left."""
    global _frozen
    with _lock:
        if _frozen:
            return
        gc.collect()
        gc.freeze()
        _frozen = True
