"""A local webhook receiver: a real threaded HTTP server that records every POST (raw body and
headers) and answers with scripted status codes (``script(500, 500)``: two 500s, then 200).

Standalone (stdlib only), to watch deliveries by hand::

    python tests/fakes/webhook_receiver.py --port 8766 [--secret whsec_...]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True, slots=True)
class Received:
    """One POST as the receiver got it."""

    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    status: int  # what the receiver answered

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def signature_valid(self, secret: str) -> bool:
        """Check the signature as a receiver should: HMAC-SHA256 over "<timestamp>." + the raw
        body, compared in constant time."""
        timestamp = self.headers.get("x-brandtest-timestamp", "")
        signed = f"{timestamp}.".encode() + self.body
        expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-brandtest-signature", ""))


class FakeWebhookReceiver:
    """``with FakeWebhookReceiver() as receiver: ... receiver.url ... receiver.received``."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, secret: str = "") -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._script: deque[int] = deque()
        self.secret = secret
        self.verbose = False  # standalone mode prints every POST
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.receiver = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/hook"

    def script(self, *statuses: int) -> None:
        """Answer the next POSTs with these statuses; 200 once they are used up."""
        with self._lock:
            self._script.extend(statuses)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            status = self._script.popleft() if self._script else 200
            self._received.append(Received(path, headers, body, status))
        return status

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        receiver: FakeWebhookReceiver = self.server.receiver  # type: ignore[attr-defined]
        status = receiver._answer(self.path, headers, body)
        if receiver.verbose:
            valid = receiver.received[-1].signature_valid(receiver.secret)
            print(f"POST {self.path} -> {status}; signature valid: {valid}")
            print(body.decode(errors="replace"))
            sys.stdout.flush()
        payload = json.dumps({"ok": status < 300}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--secret", default="", help="print whether each signature verifies")
    parser.add_argument("--fail", type=int, default=0, help="answer the first N POSTs with 500")
    args = parser.parse_args(argv)
    with FakeWebhookReceiver(host=args.host, port=args.port, secret=args.secret) as r:
        r.verbose = True
        r.script(*([500] * args.fail))
        print(f"webhook receiver on {r.url}")
        sys.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
