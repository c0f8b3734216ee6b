"""Two real worker processes ticking the same due monitors start exactly one run per period."""

import json
import os
import subprocess
import sys
import time

import pytest
import redis

from tests.processes import ROOT, fresh_database, kill, start

pytestmark = pytest.mark.slow

MONITORS = 30

# Run in the test database's own process: 30 monitors, each one overdue for its 09:00 run.
SEED = f"""
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from records import monitoring
from records.models import Monitor
owner = get_user_model().objects.create_user("owner")
for i in range({MONITORS}):
    data = monitoring.clean_monitor_input(
        name=f"m{{i}}", platforms=["demo"], repeats=1, schedule="0 9 * * *",
        timezone="Asia/Shanghai", monthly_call_budget=None,
        brands=[{{"name": f"brand{{i}}", "is_main": True}}, {{"name": "rival"}}],
        prompts=[{{"text": f"question {{i}}?"}}],
    )
    monitoring.create_monitor(owner=owner, data=data)
Monitor.objects.update(next_run_at=timezone.now() - timedelta(hours=2))
"""

REPORT = """
import json
from records.models import TestRecord
rows = TestRecord.objects.values_list("monitor_id", "scheduled_for", "status")
print(json.dumps([len(rows), len({(m, s) for m, s, _ in rows}), len({m for m, _, _ in rows}),
      sorted({s for _, _, s in rows})]))
"""


def manage_shell(env, code: str) -> list[str]:
    return (
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1:]
    )


def report(env) -> list:
    return json.loads(manage_shell(env, REPORT)[0])


def run_two_workers(tmp_path, extra_env: dict[str, str]) -> list[str]:
    with fresh_database(tmp_path) as env:
        env |= {
            "BRANDTEST_SCHEDULER_INTERVAL": "1",
            "BRANDTEST_DEMO_LATENCY_MS": "0",
            **extra_env,
        }
        manage_shell(env, SEED)
        workers = [start(["worker"], env, tmp_path / f"worker{n}.log") for n in (1, 2)]
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                started, periods, monitors, statuses = report(env)
                if monitors == MONITORS and statuses == ["completed"]:
                    break
                time.sleep(1)
            # Let both schedulers keep ticking a few more times over the same monitors.
            time.sleep(4)
            counts = report(env)
        finally:
            for worker in workers:
                kill(worker)
        logs = [(tmp_path / f"worker{n}.log").read_text() for n in (1, 2)]
        started, periods, monitors, statuses = counts
        assert (started, periods, monitors) == (MONITORS, MONITORS, MONITORS), logs
        assert statuses == ["completed"], logs
        for log in logs:
            assert "Traceback" not in log, log
        return logs


def test_two_db_workers_start_exactly_one_run_per_monitor_period(tmp_path):
    logs = run_two_workers(tmp_path, {"TASK_BACKEND": "db"})
    starts = sum(log.count("scheduler: monitor") for log in logs)
    assert starts == MONITORS


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="PostgreSQL + RQ variant runs when DATABASE_URL is PostgreSQL",
)
def test_two_rq_workers_on_postgresql_start_exactly_one_run_per_monitor_period(tmp_path):
    redis_db = 13
    client = redis.Redis(host="127.0.0.1", port=6379, db=redis_db)
    try:
        client.flushdb()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    try:
        logs = run_two_workers(
            tmp_path,
            {"TASK_BACKEND": "rq", "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}"},
        )
    finally:
        client.flushdb()
    assert sum(log.count("scheduler: monitor") for log in logs) == MONITORS
