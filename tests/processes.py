"""Real OS processes for end-to-end tests: a fresh database, servers and workers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import dj_database_url

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def fresh_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for subprocesses pointing at a new, migrated database of the suite's kind
    (a SQLite file, or a new PostgreSQL database when DATABASE_URL names one)."""
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "test-only-secret",
        "BRANDTEST_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    url = os.environ.get("DATABASE_URL", "")
    dropper = None
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        config = dj_database_url.parse(url)
        name = f"brandtest_e2e_{uuid.uuid4().hex[:10]}"
        admin = psycopg.connect(
            host=config["HOST"],
            port=config["PORT"] or 5432,
            user=config["USER"],
            dbname=config["NAME"],
            autocommit=True,
        )
        admin.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name

        def dropper() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(tmp_path / "e2e.sqlite3")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    try:
        yield env
    finally:
        if dropper:
            dropper()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a manage.py command in its own process group, output to a log file."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(timeout=20)


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """A web server process; returns it and its base URL once it answers."""
    port = free_port()
    process = start(["runserver", "--noreload", f"127.0.0.1:{port}"], env, log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/v1/platforms/", timeout=2)
            return process, base
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}") from None
            time.sleep(0.1)
    kill(process)
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


def http(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    """A JSON request; returns (status, body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def children(pid: int) -> list[int]:
    """The direct child processes of ``pid`` (Linux /proc)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(child) for child in text.split()]
