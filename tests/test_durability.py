"""Run state lives in the database, not in any process (the legacy system's P0)."""

import time

import pytest

from tests.processes import fresh_database, http, kill, start, start_server

pytestmark = pytest.mark.slow


def test_state_survives_a_server_restart_and_a_worker_finishes_the_run(tmp_path):
    with fresh_database(tmp_path) as env:
        # One call at a time, so polls can watch the answers land one by one.
        env = env | {"BRANDTEST_DEMO_LATENCY_MS": "150", "BRANDTEST_PLATFORM_CONCURRENCY": "1"}
        server, base = start_server(env, tmp_path / "server1.log")
        try:
            status, started = http(
                "POST",
                base + "/api/v1/executions/",
                {
                    "brand": "华夏良子",
                    "competitors": ["良子健身"],
                    "questions": ["北京中医推拿哪家好？", "{brandName}怎么样？"],
                    "platforms": ["demo"],
                    "repeats": 2,
                },
            )
            assert status == 202
            poll_url = f"/api/v1/executions/{started['execution_id']}/status/"
            _, before = http("GET", base + poll_url)
            assert before["status"] == "queued"
        finally:
            kill(server)

        server, base = start_server(env, tmp_path / "server2.log")
        worker = None
        try:
            _, after = http("GET", base + poll_url)
            assert after == before

            worker = start(
                ["db_worker", "--no-reload", "--interval", "0.2"], env, tmp_path / "worker.log"
            )
            seen = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                _, body = http("GET", base + poll_url)
                seen.append((body["completed_tasks"], body["progress"], body["status"]))
                if body["is_completed"]:
                    break
                time.sleep(0.05)
            assert body["status"] == "completed", (tmp_path / "worker.log").read_text()[-3000:]
            assert body["progress"] == 100 and body["completed_tasks"] == 6
            progress = [p for _, p, _ in seen]
            assert progress == sorted(progress)
            # Polls saw the run advance answer by answer, not jump from 0 to done.
            assert len({c for c, _, _ in seen}) >= 4
            _, answers = http(
                "GET", base + f"/api/v1/executions/{started['execution_id']}/answers/"
            )
            assert answers["count"] == 6
        finally:
            if worker:
                kill(worker)
            kill(server)
