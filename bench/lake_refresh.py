"""The mart refresh on one machine (DuckDB) against the same refresh on Spark.

    python -m bench.lake_refresh --customers 1000000 [--master spark://127.0.0.1:7077]

For the benchmark's DuckDB warehouse of that size (var/bench/duckdb-<N>.duckdb, generated on
first use): a full refresh in DuckDB, the raw export to a lake (var/bench/lake-<N>), a full
refresh on Spark, and the check that every mart is equal. While each step runs, the resident
memory of every process taking part (this one with DuckDB or the Spark driver, the Spark
master, workers and executors) is sampled twice a second; the peak of each is reported.
Start the cluster first (`python -m lake cluster start`). Results go to var/bench/lake-<N>.json.
"""

import argparse
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.config import PROJECT_ROOT
from bench.warehouses import ensure
from data_seed.refresh import refresh_url
from lake.compare import compare_marts
from lake.export import export_raw
from lake.spark_refresh import refresh_lake

SPARK_ROLES = {
    "deploy.master.Master": "spark master",
    "deploy.worker.Worker": "spark worker",
    "executor.CoarseGrainedExecutorBackend": "spark executor",
    "deploy.SparkSubmit": "spark driver (JVM)",
}


def process_role(command_line: str, own_pid: int, pid: int) -> str | None:
    if pid == own_pid:
        return "this process (Python; DuckDB in the DuckDB step)"
    for marker, role in SPARK_ROLES.items():
        if marker in command_line:
            return role
    return None


class PeakMemory:
    """Peak resident memory of a process of each role (the largest one) while the block runs."""

    def __init__(self, interval_s: float = 0.5):
        self.interval_s = interval_s
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exception):
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        own = int(Path("/proc/self").resolve().name)
        while not self._stop.is_set():
            for process in Path("/proc").iterdir():
                if not process.name.isdigit():
                    continue
                try:
                    command = (process / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    role = process_role(command, own, int(process.name))
                    if role is None:
                        continue
                    rss_kb = next(
                        int(line.split()[1])
                        for line in (process / "status").read_text().splitlines()
                        if line.startswith("VmRSS:")
                    )
                except (OSError, StopIteration):
                    continue
                self.peaks[role] = max(self.peaks.get(role, 0), rss_kb * 1024)
            self._stop.wait(self.interval_s)


def timed(label: str, step: Callable[[], object], log=print) -> dict:
    with PeakMemory() as memory:
        started = time.perf_counter()
        step()
        seconds = time.perf_counter() - started
    peaks = {key: round(value / 2**20) for key, value in sorted(memory.peaks.items())}
    log(f"{label}: {seconds:.1f} s; peak MB of the largest process of each kind: {peaks}")
    return {"seconds": round(seconds, 1), "peak_mb": peaks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lake_refresh", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--master", default="spark://127.0.0.1:7077")
    arguments = parser.parse_args(argv)
    warehouse = ensure("duckdb", arguments.customers, refresh=False)
    lake = PROJECT_ROOT / "var" / "bench" / f"lake-{arguments.customers}"
    quiet = lambda message: None  # noqa: E731
    results = {
        "customers": arguments.customers,
        "master": arguments.master,
        "duckdb_refresh": timed("DuckDB full refresh", lambda: refresh_url(warehouse.url, full=True, log=quiet)),
        "export": timed("export to the lake", lambda: export_raw(warehouse.url, lake, log=quiet)),
        "spark_refresh": timed(
            "Spark full refresh",
            lambda: refresh_lake(lake, master=arguments.master, full=True, log=print),
        ),
    }
    differences = compare_marts(lake, warehouse.url)
    results["marts_equal"] = all(difference.equal for difference in differences)
    print("every mart equal" if results["marts_equal"] else f"DIFFERENT: {[d for d in differences if not d.equal]}")
    (lake.parent / f"lake-{arguments.customers}.json").write_text(json.dumps(results, indent=1))
    return 0 if results["marts_equal"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
