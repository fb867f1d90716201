"""The server keeps answering everyone while many sessions browse at once (issue 13).

bench/load.py drives real Chromium sessions (analysts, executives, regional managers)
through every page, a filter change and the CSV downloads (masking, tables, exports: the
paths of the freeze), while a watchdog asks the health check every second. Meanwhile the
warehouse is reloaded with a month more of data: pages must keep answering, and the
freshness stamp must move. A freeze fails the test within FREEZE_S, not at CI's limit.
"""

import argparse
import shutil
import sys

import pytest

from bench.load import FREEZE_S, health_answers, run_load
from tests.conftest import TEST_CUSTOMERS, TEST_MONTHS, TEST_SEED

pytestmark = pytest.mark.e2e

SESSIONS = 6  # two of each role
DOWNLOADS_AT_LEAST = 4 * 2 * 3  # 4 list roles, 2 rounds, a CSV on at least 3 pages (visible, not in a closed expander)


@pytest.fixture()
def own_warehouse(chromium_path, duck_url, tmp_path) -> str:
    """A copy of the test warehouse that this test's own server reads and its reload replaces."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(duck_url.removeprefix("duckdb:///"), copy)
    return f"duckdb:///{copy}"


def test_many_sessions_at_once_and_a_reload_keep_every_page_answering(own_warehouse):
    reload = (
        f"{sys.executable} -m data_seed generate --customers {TEST_CUSTOMERS} --months {TEST_MONTHS} "
        f"--seed {TEST_SEED} --end-month 2026-11 --url {own_warehouse}"
    )
    args = argparse.Namespace(
        url=None,
        server_pid=None,
        warehouse=own_warehouse,
        sessions=SESSIONS,
        rounds=1,
        max_minutes=15,
        step_seconds=120,
        during=reload,
        during_after=5,
    )
    report = run_load(args)
    summary = report.summary()
    assert not report.froze, f"the server stopped answering for {FREEZE_S} s"
    assert report.errors == [], report.errors[:5]
    assert report.health_failures == 0
    assert report.during["exit_code"] == 0, report.during
    assert len(report.page_times_s) >= SESSIONS * 6 * 2  # the round before and the round after the reload
    assert report.downloads >= DOWNLOADS_AT_LEAST
    assert "31/10/2026" in summary["freshness_seen"]
    assert summary["freshness_after_during"] == ["30/11/2026"], summary
    assert summary["server_peak_rss_mb"] is not None


def test_the_load_script_only_talks_to_this_machine():
    with pytest.raises(SystemExit, match="not on this machine"):
        from bench.load import require_local

        require_local("http://10.0.0.5:8501")
    assert health_answers("http://127.0.0.1:9") is None  # nothing listens there: no answer, no hang
