"""A Spark standalone cluster on this machine: one master and two workers, for trying the
distributed refresh and for its tests. A real cluster is started by its operators; the
refresh only needs its master URL.

    python -m lake cluster start   # master on spark://127.0.0.1:7077, two workers
    python -m lake cluster stop

The processes are Spark's own (`spark-class …Master` / `…Worker`, from the pyspark package);
their process ids and logs are kept in var/spark/, so `stop` ends exactly what `start`
began, and `start` refuses to run a second cluster beside a live one.
"""

import json
import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
MASTER_PORT = 7077
MASTER_UI_PORT = 8090  # Spark's default 8080 is a common port for other things
WORKERS = 2
WORKER_CORES = 1
WORKER_MEMORY = os.environ.get("SPARK_WORKER_MEMORY", "2g")
STATE = Path("var/spark")
START_TIMEOUT_S = 90


@dataclass(frozen=True)
class Cluster:
    master_url: str
    ui_url: str


def spark_home() -> Path:
    import pyspark  # the optional Spark requirements (requirements-spark.txt)

    return Path(pyspark.__file__).parent


def start(state: Path = STATE, *, port: int = MASTER_PORT, ui_port: int = MASTER_UI_PORT) -> Cluster:
    """Start the master and the workers; return once every worker has registered."""
    state.mkdir(parents=True, exist_ok=True)
    if _alive(state):
        raise RuntimeError(f"a local Spark cluster is already running (process ids in {state}); stop it first")
    cluster = Cluster(f"spark://{HOST}:{port}", f"http://{HOST}:{ui_port}")
    _spawn(
        state,
        "master",
        ["org.apache.spark.deploy.master.Master", "--host", HOST, "--port", str(port), "--webui-port", str(ui_port)],
    )
    for number in range(1, WORKERS + 1):
        _spawn(
            state,
            f"worker-{number}",
            ["org.apache.spark.deploy.worker.Worker", cluster.master_url, "--host", HOST]
            + ["--cores", str(WORKER_CORES), "--memory", WORKER_MEMORY, "--webui-port", "0"]
            + ["--work-dir", str((state / f"work-{number}").resolve())],
        )
    try:
        _wait_for_workers(cluster, state)
    except BaseException:
        stop(state)
        raise
    return cluster


def stop(state: Path = STATE) -> int:
    """End every process `start` began (workers first); the number ended."""
    ended = 0
    for pid_file in sorted(state.glob("*.pid"), reverse=True):  # worker-2, worker-1, master
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
            _wait_gone(pid)
            ended += 1
        except ProcessLookupError:
            pass
        pid_file.unlink()
    return ended


def _spawn(state: Path, name: str, arguments: list[str]) -> None:
    environment = os.environ | {"SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": HOST}
    log = open(state / f"{name}.log", "w")
    process = subprocess.Popen(
        [str(spark_home() / "bin" / "spark-class"), *arguments],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment,
        start_new_session=True,  # its own process group: stop() ends the JVM and its launcher
    )
    (state / f"{name}.pid").write_text(str(process.pid))


def _alive(state: Path) -> bool:
    for pid_file in state.glob("*.pid"):
        try:
            os.kill(int(pid_file.read_text()), 0)
            return True
        except (ProcessLookupError, ValueError):
            continue
    return False


def _wait_for_workers(cluster: Cluster, state: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{cluster.ui_url}/json/", timeout=2) as response:
                status = json.load(response)
            if status.get("aliveworkers", 0) >= WORKERS:
                return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(
        f"the Spark master did not report {WORKERS} workers within {START_TIMEOUT_S} s (logs in {STATE})"
    )


def _wait_gone(pid: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child (started in this process)
                return
        except ChildProcessError:  # started by another process: look whether it is still there
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)
