#!/usr/bin/env python3
"""The mini-program's flow, scripted against a running server (`make run`), stdlib only.

Start with object models (as the client sends them), re-send the same start (the client retries
after a timeout), poll the legacy status until done, fetch the report, list the history; then the
same run through the v1 API. Prints a transcript; exits non-zero on the first broken step.

    python3 .ci/walkthrough.py [http://127.0.0.1:8000]
"""

import json
import sys
import time
import urllib.error
import urllib.request

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000").rstrip("/")
HEADERS = {"Content-Type": "application/json", "X-Device-ID": f"walkthrough-{time.time_ns()}"}


def call(method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    payload = json.loads(raw) if raw else {}
    print(f"{method} {path} -> {status} {json.dumps(payload, ensure_ascii=False)[:160]}")
    return status, payload


def check(condition: bool, what: str) -> None:
    if not condition:
        print(f"FAILED: {what}")
        raise SystemExit(1)


def main() -> None:
    status, body = call("GET", "/api/test")
    check(status == 200 and body["status"] == "success", "backend answers /api/test")

    start = {
        "brand_list": ["华夏良子", "良子健身", "足疗大师"],
        "selectedModels": [{"name": "demo", "checked": True}],
        "customQuestions": ["北京中医推拿哪家好？", "{brandName}的口碑怎么样？"],
        "userOpenid": "ignored",
    }
    status, body = call("POST", "/api/perform-brand-test", start)
    check(status == 200 and body["status"] == "success", "start answers 200 success")
    execution_id = body["execution_id"]
    status, again = call("POST", "/api/perform-brand-test", start)
    check(again.get("execution_id") == execution_id, "a re-sent start returns the same run")

    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, poll = call("GET", f"/test/status/{execution_id}")
        check(status == 200, "the poll answers 200")
        check(isinstance(poll["is_completed"], bool), "is_completed is a JSON boolean")
        seen.append(poll["progress"])
        if poll["should_stop_polling"]:
            break
        time.sleep(0.4)
    check(poll["status"] == "completed" and poll["progress"] == 100, "the run completes")
    check(seen == sorted(seen), "progress never goes back")
    check(len(poll["results"]) == 4 * 1, "every answer is in the results")  # 1 + 3 brands

    status, report = call("GET", f"/api/diagnosis/report/{execution_id}")
    check(status == 200 and report["report"]["is_completed"] is True, "the report is served")
    check("brand_scores" in report and "competitive_analysis" in report, "report has scores")
    status, history = call("GET", "/api/diagnosis/history?page=1&limit=20")
    check(history["reports"] == [], "anonymous history is empty")
    status, missing = call("GET", "/test/status/00000000-0000-0000-0000-000000000000")
    check(status == 404 and missing["error"] == "Task not found", "unknown ids are 404")

    status, v1 = call("GET", f"/api/v1/executions/{execution_id}/status/")
    check(status == 200 and v1["status"] == "completed", "v1 sees the same run")
    status, results = call("GET", f"/api/v1/executions/{execution_id}/results/")
    demo = results["scores"]["brands"]["华夏良子"]["platforms"]["demo"]
    check(demo["components"] is not None or demo["mention_rate"] == 0, "scores have components")
    print("walk-through passed")


if __name__ == "__main__":
    main()
