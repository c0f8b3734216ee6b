"""The fake platform server also runs on its own, for benchmarks and manual runs."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "fakes" / "platform_server.py"


@pytest.mark.slow
def test_the_fake_server_runs_standalone_with_latency_and_header_behaviours():
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", "0", "--latency-ms", "50"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        base_url = banner.split(" on ")[1].split()[0]
        body = {"model": "m", "messages": [{"role": "user", "content": "你好"}]}

        answer = httpx.post(f"{base_url}/v1/chat/completions", json=body)
        limited = httpx.post(
            f"{base_url}/v1/chat/completions", json=body, headers={"X-Fake-Behaviour": "429:2"}
        )

        assert answer.json()["choices"][0]["message"]["content"] == "Answer to: 你好"
        assert answer.elapsed.total_seconds() >= 0.05
        assert (limited.status_code, limited.headers["retry-after"]) == (429, "2")
    finally:
        process.terminate()
        process.wait(timeout=5)
