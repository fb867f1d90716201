"""A Spark standalone cluster on localhost (a master and two workers) for the session, and a
Spark session on it. Java and pyspark come from `make test-spark` (requirements-spark.txt,
and Debian's openjdk-17-jre-headless on CI); without them these tests skip locally and fail
on CI. The cluster is stopped at the end, whatever happened."""

import importlib.util
import os
import shutil

import pytest

from tests.conftest import ON_CI


def require_spark() -> None:
    missing = [
        what
        for what, present in (("java", shutil.which("java")), ("pyspark", importlib.util.find_spec("pyspark")))
        if not present
    ]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed (make test-spark installs them)"
    if ON_CI:
        pytest.fail(f"{reason} (CI=true: the Spark tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    require_spark()
    from lake import cluster as local_cluster

    state = tmp_path_factory.mktemp("spark")
    # Ports of its own, beside a cluster a developer may have running on the default ones.
    started = local_cluster.start(state, port=7177, ui_port=8190)
    try:
        yield started
    finally:
        local_cluster.stop(state)


@pytest.fixture(scope="session")
def spark(cluster):
    from lake.spark_refresh import spark_session, stop_session

    # Test-sized data: two shuffle partitions per aggregation (one per worker core).
    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "2")
    session = spark_session(cluster.master_url, app_name="crm-mart-refresh-tests")
    try:
        yield session
    finally:
        stop_session(session)
