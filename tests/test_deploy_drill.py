"""The deploy drill: a worker stopped mid-run (SIGTERM, SIGKILL; db and RQ backends) leaves a
run that the next worker resumes and finishes, asking each cell once (or, for the calls a
SIGKILL cut off, once more), never a cell that has an answer."""

import os
import signal
import time

import pytest
import redis

from tests.fakes.platform_server import FakePlatformServer, ok
from tests.processes import children, fresh_database, http, kill, start, start_server

pytestmark = pytest.mark.slow

QUESTIONS = [f"第{n}个问题：北京中医推拿哪家好？" for n in range(1, 6)]
START = {
    "brand": "华夏良子",
    "competitors": ["良子健身"],
    "questions": QUESTIONS,
    "platforms": ["deepseek", "qwen"],
    "repeats": 1,
}
CELLS = {(platform, question) for platform in START["platforms"] for question in QUESTIONS}
CALL_SECONDS = 1.0
GRACE = 10


def poll_until(base: str, execution_id: str, done, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = http("GET", f"{base}/api/v1/executions/{execution_id}/status/")
        if done(body):
            return body
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting; last status {body}")


def drill_env(env: dict, platform: FakePlatformServer) -> dict:
    # Two calls at a time: the run needs 5 rounds of 1 s, so a worker that waited for the
    # run would take ~3 s longer than one that only waits for its calls in flight.
    return (
        env
        | platform.environ(("deepseek", "qwen"))
        | {
            "BRANDTEST_GLOBAL_CONCURRENCY": "2",
            "BRANDTEST_PLATFORM_CONCURRENCY": "1",
            "BRANDTEST_SHUTDOWN_GRACE": str(GRACE),
            "BRANDTEST_STALE_AFTER": "3",
        }
    )


def answered_once(platform: FakePlatformServer) -> None:
    asked = platform.asked()
    assert set(asked) == CELLS
    assert all(count == 1 for count in asked.values()), asked


def test_sigterm_hands_the_run_back_after_the_calls_in_flight(tmp_path):
    with FakePlatformServer(
        default=ok("1. 华夏良子\n2. 良子健身", seconds=CALL_SECONDS)
    ) as platform:
        with fresh_database(tmp_path) as env:
            env = drill_env(env, platform)
            server, base = start_server(env, tmp_path / "server.log")
            workers = []
            try:
                status, body = http("POST", base + "/api/v1/executions/", START)
                assert status == 202
                execution_id = body["execution_id"]
                workers.append(start(["worker"], env, tmp_path / "worker1.log"))
                poll_until(base, execution_id, lambda b: b["completed_tasks"] >= 2)

                os.kill(workers[0].pid, signal.SIGTERM)
                sent = time.monotonic()
                workers[0].wait(timeout=GRACE + 5)
                took = time.monotonic() - sent
                # The calls in flight (at most 1 s each) returned, then the worker exited, well
                # before the grace period ran out (a margin wide enough for a loaded machine).
                assert took < GRACE / 2, (took, (tmp_path / "worker1.log").read_text())
                _, handed = http("GET", f"{base}/api/v1/executions/{execution_id}/status/")
                assert (handed["status"], handed["stage"]) == ("queued", "ai_fetching"), handed
                assert handed["resumed"] == 1 and handed["is_completed"] is False
                assert 2 <= handed["completed_tasks"] < len(CELLS)
                # What was asked was stored: nothing in flight was dropped.
                assert len(platform.requests) == handed["completed_tasks"]
                assert "handed back to the queue" in (tmp_path / "worker1.log").read_text()

                workers.append(start(["worker"], env, tmp_path / "worker2.log"))
                done = poll_until(base, execution_id, lambda b: b["is_completed"])
                assert done["status"] == "completed", (tmp_path / "worker2.log").read_text()
                assert (done["completed_tasks"], done["resumed"]) == (len(CELLS), 1)
                answered_once(platform)
            finally:
                for worker in workers:
                    if worker.poll() is None:
                        kill(worker)
                kill(server)


def test_sigkilled_worker_is_resumed_by_the_reaper_asking_only_missing_cells(tmp_path):
    with FakePlatformServer(
        default=ok("1. 华夏良子\n2. 良子健身", seconds=CALL_SECONDS)
    ) as platform:
        with fresh_database(tmp_path) as env:
            env = drill_env(env, platform)
            server, base = start_server(env, tmp_path / "server.log")
            workers = []
            try:
                status, body = http("POST", base + "/api/v1/executions/", START)
                execution_id = body["execution_id"]
                workers.append(start(["worker"], env, tmp_path / "worker1.log"))
                poll_until(base, execution_id, lambda b: b["completed_tasks"] >= 3)
                os.killpg(workers[0].pid, signal.SIGKILL)
                workers[0].wait(timeout=10)
                _, lost = http("GET", f"{base}/api/v1/executions/{execution_id}/status/")
                assert lost["status"] == "running"  # nothing knows the worker died yet
                kept = lost["completed_tasks"]
                time.sleep(3.5)  # past BRANDTEST_STALE_AFTER

                # The next worker's reaper pass resumes it at start-up.
                workers.append(start(["worker"], env, tmp_path / "worker2.log"))
                done = poll_until(base, execution_id, lambda b: b["is_completed"])
                log = (tmp_path / "worker2.log").read_text()
                assert done["status"] == "completed", log
                assert (done["completed_tasks"], done["resumed"]) == (len(CELLS), 1)
                assert f"resumed 1 lost execution(s): {execution_id}" in log
                asked = platform.asked()
                assert set(asked) == CELLS
                # Only the calls the kill cut off (at most 2 in flight) were asked twice; no cell
                # answered before the kill was asked again.
                twice = [cell for cell, count in asked.items() if count == 2]
                assert set(asked.values()) <= {1, 2} and len(twice) <= 2
                assert sum(asked.values()) == len(CELLS) + len(twice)
                assert len(CELLS) - kept >= len(twice)
            finally:
                for worker in workers:
                    if worker.poll() is None:
                        kill(worker)
                kill(server)


def test_a_run_lost_more_than_max_resumes_times_fails_as_worker_lost(tmp_path):
    with FakePlatformServer(default=ok("1. 华夏良子", seconds=CALL_SECONDS)) as platform:
        with fresh_database(tmp_path) as env:
            env = drill_env(env, platform) | {"BRANDTEST_MAX_RESUMES": "1"}
            server, base = start_server(env, tmp_path / "server.log")
            try:
                _, body = http("POST", base + "/api/v1/executions/", START)
                execution_id = body["execution_id"]
                for attempt in (1, 2):
                    worker = start(["worker"], env, tmp_path / f"worker{attempt}.log")
                    poll_until(
                        base,
                        execution_id,
                        lambda b, n=attempt: b["status"] == "running" and b["resumed"] == n - 1,
                    )
                    time.sleep(1)
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(timeout=10)
                    time.sleep(3.5)
                reap = start(["reap_stale"], env, tmp_path / "reap.log")
                reap.wait(30)
                _, failed = http("GET", f"{base}/api/v1/executions/{execution_id}/status/")
                logs = "".join(p.read_text() for p in sorted(tmp_path.glob("*.log")))
                assert (failed["status"], failed["error_type"]) == ("failed", "worker_lost"), (
                    failed,
                    logs[-4000:],
                )
                assert failed["resumed"] == 1
                assert "after 1 resume(s)" in failed["error"]
            finally:
                kill(server)


@pytest.fixture
def rq_env():
    redis_db = 13
    client = redis.Redis(host="127.0.0.1", port=6379, db=redis_db)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    client.flushdb()
    yield {"TASK_BACKEND": "rq", "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}"}
    client.flushdb()


def horse_of(worker) -> int:
    """The RQ work-horse (the forked child running the job) of a worker process: the child that
    leads its own process group (RQ's fork_work_horse calls setpgrp), not the scheduler process
    the worker also forks (for deferred webhook retries)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for child in children(worker.pid):
            try:
                if os.getpgid(child) == child:
                    return child
            except ProcessLookupError:
                continue
        time.sleep(0.05)
    raise AssertionError("no work-horse")


@pytest.mark.parametrize("target", ["parent", "horse"])
def test_rq_sigterm_hands_the_run_back(tmp_path, rq_env, target):
    """SIGTERM to the RQ worker is forwarded to its work-horse; SIGTERM to the horse alone does
    the same: the run is handed back and re-enqueued, and a worker finishes it."""
    with FakePlatformServer(
        default=ok("1. 华夏良子\n2. 良子健身", seconds=CALL_SECONDS)
    ) as platform:
        with fresh_database(tmp_path) as env:
            env = drill_env(env, platform) | rq_env
            server, base = start_server(env, tmp_path / "server.log")
            workers = [start(["worker"], env, tmp_path / "rq1.log")]
            try:
                _, body = http("POST", base + "/api/v1/executions/", START)
                execution_id = body["execution_id"]
                poll_until(base, execution_id, lambda b: b["completed_tasks"] >= 2, timeout=90)
                horse = horse_of(workers[0])
                os.kill(workers[0].pid if target == "parent" else horse, signal.SIGTERM)
                sent = time.monotonic()
                handed = poll_until(base, execution_id, lambda b: b["resumed"] == 1)
                assert time.monotonic() - sent < GRACE / 2
                assert handed["status"] in ("queued", "running")  # another worker may take it
                if target == "parent":
                    workers[0].wait(timeout=GRACE + 5)
                    assert time.monotonic() - sent < GRACE / 2 + 1
                    workers.append(start(["worker"], env, tmp_path / "rq2.log"))
                done = poll_until(base, execution_id, lambda b: b["is_completed"], timeout=90)
                assert done["status"] == "completed", (tmp_path / "rq1.log").read_text()[-3000:]
                assert (done["completed_tasks"], done["resumed"]) == (len(CELLS), 1)
                answered_once(platform)
            finally:
                for worker in workers:
                    if worker.poll() is None:
                        kill(worker)
                kill(server)


@pytest.mark.parametrize("target", ["parent", "horse"])
def test_rq_sigkill_of_parent_or_horse_ends_in_a_finished_run(tmp_path, rq_env, target):
    """SIGKILL of the horse: the parent survives and its reaper resumes the run. SIGKILL of the
    parent alone: the horse (in its own process group) finishes the run, orphaned."""
    with FakePlatformServer(
        default=ok("1. 华夏良子\n2. 良子健身", seconds=CALL_SECONDS)
    ) as platform:
        with fresh_database(tmp_path) as env:
            env = drill_env(env, platform) | rq_env
            server, base = start_server(env, tmp_path / "server.log")
            worker = start(["worker"], env, tmp_path / "rq1.log")
            horse = None
            try:
                _, body = http("POST", base + "/api/v1/executions/", START)
                execution_id = body["execution_id"]
                poll_until(base, execution_id, lambda b: b["completed_tasks"] >= 2, timeout=90)
                horse = horse_of(worker)
                os.kill(worker.pid if target == "parent" else horse, signal.SIGKILL)
                done = poll_until(base, execution_id, lambda b: b["is_completed"], timeout=90)
                assert done["status"] == "completed", (tmp_path / "rq1.log").read_text()[-3000:]
                assert done["completed_tasks"] == len(CELLS)
                asked = platform.asked()
                assert set(asked) == CELLS
                if target == "parent":
                    assert done["resumed"] == 0
                    answered_once(platform)
                else:
                    assert done["resumed"] == 1
                    twice = [cell for cell, count in asked.items() if count == 2]
                    assert set(asked.values()) <= {1, 2} and len(twice) <= 2
            finally:
                if horse is not None:
                    try:
                        os.kill(horse, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                if worker.poll() is None:
                    kill(worker)
                kill(server)
