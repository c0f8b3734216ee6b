"""A worker killed mid-run with no resumes left: the reaper marks the run lost, answers survive,
retry finishes it.
And the scale-out path: the same run through a real RQ worker process on Redis."""

import os
import signal
import time

import pytest
import redis

from tests.fakes.platform_server import FakePlatformServer, ok
from tests.processes import fresh_database, http, kill, start, start_server

pytestmark = pytest.mark.slow

START = {
    "brand": "华夏良子",
    "competitors": ["良子健身"],
    "questions": ["北京中医推拿哪家好？", "推拿和按摩哪家更专业？"],
    "platforms": ["deepseek"],
    "repeats": 3,
}


def poll_until(base: str, execution_id: str, done, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = http("GET", f"{base}/api/v1/executions/{execution_id}/status/")
        if done(body):
            return body
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting; last status {body}")


def test_sigkilled_worker_is_reaped_and_retry_asks_only_missing_calls(tmp_path):
    with FakePlatformServer(default=ok("1. 华夏良子\n2. 良子健身", seconds=0.4)) as platform:
        with fresh_database(tmp_path) as env:
            env |= platform.environ(("deepseek",)) | {
                "BRANDTEST_GLOBAL_CONCURRENCY": "1",
                "BRANDTEST_STALE_AFTER": "3600",
                "BRANDTEST_MAX_RESUMES": "0",  # fail at the first loss, as before resumes
            }
            server, base = start_server(env, tmp_path / "server.log")
            worker = None
            try:
                status, body = http("POST", base + "/api/v1/executions/", START)
                assert status == 202
                execution_id = body["execution_id"]
                worker = start(["worker"], env, tmp_path / "worker1.log")
                poll_until(base, execution_id, lambda b: b["completed_tasks"] >= 2)
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
                _, answers = http("GET", f"{base}/api/v1/executions/{execution_id}/answers/")
                kept = answers["count"]
                assert 2 <= kept < 6
                _, lost = http("GET", f"{base}/api/v1/executions/{execution_id}/status/")
                assert lost["status"] == "running"  # nothing else knows the worker died yet

                time.sleep(1.2)
                start(["reap_stale", "--older-than", "1"], env, tmp_path / "reap.log").wait(30)

                _, reaped = http("GET", f"{base}/api/v1/executions/{execution_id}/status/")
                assert (reaped["status"], reaped["error_type"]) == ("failed", "worker_lost")
                assert reaped["is_completed"] is True and reaped["progress"] == 100
                assert f"{kept} of 6 answers are kept" in reaped["error"]
                _, answers = http("GET", f"{base}/api/v1/executions/{execution_id}/answers/")
                assert answers["count"] == kept

                platform.reset()
                status, attempt = http("POST", f"{base}/api/v1/executions/{execution_id}/retry/")
                assert status == 202 and attempt["retry_of"] == execution_id
                worker = start(["worker"], env, tmp_path / "worker2.log")
                done = poll_until(base, attempt["execution_id"], lambda b: b["is_completed"])
                assert done["status"] == "completed", (tmp_path / "worker2.log").read_text()
                assert done["completed_tasks"] == 6
                # Only the cells without a stored answer were asked again.
                assert len(platform.requests) == 6 - kept
            finally:
                if worker is not None and worker.poll() is None:
                    kill(worker)
                kill(server)


def test_a_run_completes_through_a_real_rq_worker(tmp_path):
    redis_db = 14
    client = redis.Redis(host="127.0.0.1", port=6379, db=redis_db)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    client.flushdb()
    with fresh_database(tmp_path) as env:
        env |= {
            "TASK_BACKEND": "rq",
            "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
            "BRANDTEST_DEMO_LATENCY_MS": "50",
        }
        server, base = start_server(env, tmp_path / "server.log")
        worker = start(["worker"], env, tmp_path / "rqworker.log")
        try:
            payload = START | {"platforms": ["demo"], "repeats": 2}
            status, body = http("POST", base + "/api/v1/executions/", payload)
            assert status == 202
            done = poll_until(base, body["execution_id"], lambda b: b["is_completed"], timeout=90)
            log = (tmp_path / "rqworker.log").read_text()
            assert done["status"] == "completed", log[-3000:]
            assert done["completed_tasks"] == 4
            assert "rq" in log.lower()
        finally:
            kill(worker)
            kill(server)
            client.flushdb()
