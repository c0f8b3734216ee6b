"""HTTP load over loopback: the server process, a closed-loop generator (``wrk`` when installed,
else Python) and an open-loop generator (Python) that measures latency from the intended send
time, so queueing shows instead of hiding in a slower request rate.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Server on CPU 0, load generator on CPU 1 (a 2-core VM): they do not steal each other's core.
SERVER_CPU, CLIENT_CPU = "0", "1"


@dataclass
class Result:
    """What one load run measured; latencies in microseconds."""

    sent: int = 0
    duration: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    lag: list[float] = field(default_factory=list)  # open loop: sent after intended, µs
    bytes_received: int = 0
    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    summary: dict | None = None  # filled by wrk, which reports percentiles itself

    @property
    def completed(self) -> int:
        return sum(self.statuses.values())

    @property
    def rps(self) -> float:
        return self.completed / self.duration if self.duration else 0.0

    def percentile(self, q: float) -> float:
        if self.summary is not None:
            return self.summary.get(q, float("nan"))
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    def count(self, predicate: Callable[[int], bool]) -> int:
        return sum(n for status, n in self.statuses.items() if predicate(status))


def _pinned(cpu: str) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", cpu]
    return []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def granian(env: dict[str, str], *, threads: int = 1, log: Path | None = None):
    """granian serving the bench WSGI app (the project's application plus the comparison views):
    one worker pinned to one core, persistent HTTP/1.1 connections, no access log."""
    port = free_port()
    command = [
        *_pinned(SERVER_CPU),
        str(Path(sys.executable).parent / "granian"),
        "--interface",
        "wsgi",
        "--workers",
        "1",
        "--blocking-threads",
        str(threads),
        "--http",
        "1",
        "--no-ws",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "bench.wsgi:application",
    ]
    out = open(log or os.devnull, "wb")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection((HOST, port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"granian did not start (see {log})") from None
                time.sleep(0.1)
        yield f"http://{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out.close()


def _request_bytes(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:\s*chunked", re.IGNORECASE)


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.transport: asyncio.Transport | None = None
        self.lost = False

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost"))

    def data_received(self, data):
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        parsed = _parse(self.buffer)
        if parsed is not None:
            status, body, used = parsed
            del self.buffer[:used]
            self.waiter.set_result((status, body, used))

    async def request(self, raw: bytes) -> tuple[int, bytes, int]:
        self.waiter = self.loop.create_future()
        self.transport.write(raw)
        return await self.waiter


def _parse(buffer: bytearray) -> tuple[int, bytes, int] | None:
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end])
    status = int(head[9:12])
    start = end + 4
    if (match := _LENGTH.search(head)) is not None:
        stop = start + int(match[1])
        return (status, bytes(buffer[start:stop]), stop) if len(buffer) >= stop else None
    if _CHUNKED.search(head):
        body, pos = bytearray(), start
        while True:
            line_end = buffer.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(buffer[pos:line_end].split(b";")[0], 16)
            if size == 0:
                trailer = buffer.find(b"\r\n", line_end + 2)
                return (status, bytes(body), trailer + 2) if trailer >= 0 else None
            if len(buffer) < line_end + 2 + size + 2:
                return None
            body += buffer[line_end + 2 : line_end + 2 + size]
            pos = line_end + 2 + size + 2
    if status in (204, 304) or status < 200:
        return status, b"", start
    return None


async def _connect(loop) -> _Connection:
    _, conn = await loop.create_connection(lambda: _Connection(loop), HOST, _PORT[0])
    return conn


_PORT = [0]


def _run(coro, base_url: str):
    _PORT[0] = int(base_url.rsplit(":", 1)[1])
    # A full collection of this process's heap stalls the event loop for tens of ms; the
    # client's pauses would be charged to the server.
    gc.collect()
    gc.disable()
    try:
        return asyncio.run(coro)
    finally:
        gc.enable()


async def _closed(requests: Sequence[bytes], connections: int, seconds: float, keep: bool):
    loop = asyncio.get_running_loop()
    result = Result()
    started = time.perf_counter()
    deadline = started + seconds
    counter = iter(range(10**9))

    async def worker():
        conn = await _connect(loop)
        while (now := time.perf_counter()) < deadline:
            raw = requests[next(counter) % len(requests)]
            try:
                status, body, size = await conn.request(raw)
            except ConnectionError:
                result.errors += 1
                conn = await _connect(loop)
                continue
            result.latencies.append((time.perf_counter() - now) * 1e6)
            result.statuses[status] += 1
            result.bytes_received += size
            if keep:
                result.bodies.append((raw.decode().split(" ", 2)[1], body))
        conn.transport.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    result.duration = time.perf_counter() - started
    result.sent = result.completed + result.errors
    return result


def closed_loop_python(
    base_url: str, requests: Sequence[bytes], *, connections: int, seconds: float
) -> Result:
    return _run(_closed(requests, connections, seconds, keep=False), base_url)


async def _open(requests: Sequence[bytes], rate: float, seconds: float, keep: bool, max_conn: int):
    loop = asyncio.get_running_loop()
    result = Result()
    total = int(rate * seconds)
    queue: asyncio.Queue = asyncio.Queue()
    pool: list[_Connection] = [await _connect(loop) for _ in range(min(8, max_conn))]
    idle: list[_Connection] = list(pool)
    wakeups: asyncio.Queue = asyncio.Queue()

    async def one(conn: _Connection, raw: bytes, intended: float):
        try:
            status, body, size = await conn.request(raw)
        except ConnectionError:
            result.errors += 1
            conn = await _connect(loop)
        else:
            # Latency from the moment the request *should* have been sent.
            result.latencies.append((time.perf_counter() - intended) * 1e6)
            result.statuses[status] += 1
            result.bytes_received += size
            if keep:
                result.bodies.append((raw.decode().split(" ", 2)[1], body))
        idle.append(conn)
        wakeups.put_nowait(None)

    started = time.perf_counter()
    tasks = []
    for i in range(total):
        intended = started + i / rate
        delay = intended - time.perf_counter()
        # The event loop's timers round up to the millisecond: sleep short, then spin (yielding
        # to the loop) so requests leave on time; the client has its own core.
        if delay > 0.0015:
            await asyncio.sleep(delay - 0.0015)
        while time.perf_counter() < intended:
            await asyncio.sleep(0)
        while not idle:
            if len(pool) < max_conn:
                conn = await _connect(loop)
                pool.append(conn)
                idle.append(conn)
            else:
                await wakeups.get()
        result.lag.append((time.perf_counter() - intended) * 1e6)
        tasks.append(loop.create_task(one(idle.pop(), requests[i % len(requests)], intended)))
        if len(tasks) > 1000:
            tasks = [t for t in tasks if not t.done()]
    await asyncio.gather(*tasks)
    result.duration = time.perf_counter() - started
    result.sent = total
    for conn in pool:
        conn.transport.close()
    del queue
    return result


def open_loop(
    base_url: str,
    requests: Sequence[bytes],
    *,
    rate: float,
    seconds: float,
    keep_bodies: bool = False,
    max_connections: int = 256,
) -> Result:
    """Send ``rate`` requests a second for ``seconds`` whatever the server does."""
    return _run(_open(requests, rate, seconds, keep_bodies, max_connections), base_url)


def request_list(paths: Sequence[str], headers: dict[str, str] | None = None) -> list[bytes]:
    return [_request_bytes(p, headers or {}) for p in paths]


def have_wrk() -> bool:
    """Debian's wrk when installed (BENCH_NO_WRK=1 forces the Python generator)."""
    return shutil.which("wrk") is not None and not os.environ.get("BENCH_NO_WRK")


_WRK_LUA = """
local paths = {%s}
local headers = {%s}
local i = 0
request = function()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format("GET", paths[i], headers)
end
"""


def closed_loop_wrk(
    base_url: str,
    paths: Sequence[str],
    headers: dict[str, str] | None,
    *,
    connections: int,
    seconds: float,
) -> Result:
    """Debian's wrk (one thread, pinned to the client core): rps and latency percentiles."""
    lua_paths = ",".join(f'"{p}"' for p in paths)
    lua_headers = ",".join(f'["{k}"]="{v}"' for k, v in (headers or {}).items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_LUA % (lua_paths, lua_headers))
    try:
        out = subprocess.run(
            [
                *_pinned(CLIENT_CPU),
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                script.name,
                base_url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    return parse_wrk(out)


_UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6}


def parse_wrk(out: str) -> Result:
    result = Result()
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)[1])
    match = re.search(r"requests in ([\d.]+)(m?s|us|m)\b", out)
    value, unit = float(match[1]), match[2]
    result.duration = value * {"s": 1, "ms": 1e-3, "us": 1e-6, "m": 60}[unit]
    summary = {}
    for q, number, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        summary[float(q)] = float(number) * _UNITS[unit]
    result.summary = summary
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(non_2xx[1]) if non_2xx else 0
    result.statuses[200] = requests - bad
    if bad:
        result.statuses[0] = bad  # wrk does not say which; counted as non-2xx
    socket_errors = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result.errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    bytes_read = re.search(r"([\d.]+)(B|KB|MB|GB) read", out)
    if bytes_read:
        scale = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[bytes_read[2]]
        result.bytes_received = int(float(bytes_read[1]) * scale)
    result.sent = requests
    return result
