"""No Python callback runs inside Polars: with one, concurrent sessions froze the server (issue 13).

The freeze: a session masking names with ``map_elements`` (Polars' worker threads call back
into Python, so they wait for the GIL) while another session's thread converts a frame
for ``st.dataframe`` (holding the GIL while it waits for Polars' thread pool). Each waits
for the other, forever, and the whole server stops answering.

The first test re-enacts it in a child process: masking in two threads while two others
convert and aggregate frames. With the old masking it hung within seconds, every time;
now it must finish. The second keeps any Polars callback API out of the code.
"""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
CALLBACK_APIS = {"map_elements", "map_batches", "map_rows", "map_groups", "rolling_map", "apply"}
SOURCE_FOLDERS = ("dashboard", "pages", "queries", "data_seed", "bench")
BUSY_SECONDS = 4
HUNG_SECONDS = 90  # a run that has not ended by then is hung (it ends in BUSY_SECONDS + a few)

SCRIPT = textwrap.dedent(
    """
    import threading, time
    import polars as pl
    from dashboard.access.masking import mask_personal_columns

    people = pl.DataFrame({
        "full_name": [f"Nguyễn Văn An {i}" for i in range(20_000)],
        "phone": [f"09123{i:05d}" for i in range(20_000)],
    })
    table = pl.DataFrame({"a": range(200_000), "b": [str(i) for i in range(200_000)]})
    stop = time.monotonic() + {busy}
    rounds = []

    def mask():
        while time.monotonic() < stop:
            masked = mask_personal_columns(people, True)
            rounds.append(masked["phone"][0])

    def draw():
        while time.monotonic() < stop:
            table.to_pandas()
            table.group_by("a").agg(pl.col("b").len()).sort("a")
            rounds.append("drawn")

    threads = [threading.Thread(target=work) for work in (mask, mask, draw, draw)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "091****000" in rounds and "drawn" in rounds
    print("finished", len(rounds))
    """
).replace("{busy}", str(BUSY_SECONDS))


def test_masking_while_other_sessions_draw_tables_never_hangs():
    try:
        finished = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=PROJECT, capture_output=True, text=True, timeout=HUNG_SECONDS
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"masking and drawing in parallel hung for {HUNG_SECONDS} s (the issue-13 freeze)"
        ) from None
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert finished.stdout.startswith("finished")


def test_no_python_callback_inside_polars_anywhere_in_the_code():
    calls = []
    for folder in SOURCE_FOLDERS:
        for path in sorted((PROJECT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Attribute) and node.attr in CALLBACK_APIS:
                    calls.append(f"{path.relative_to(PROJECT)}:{node.lineno} .{node.attr}")
    assert calls == [], "Python callbacks inside Polars freeze the server under concurrent use"
