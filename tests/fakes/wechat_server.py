"""A local fake of WeChat's jscode2session: a real threaded HTTP server.

The login code decides the answer:

- ``err<errcode>`` (``err40029``, ``err-1``): ``{"errcode": <errcode>, "errmsg": ...}``;
- ``slow<seconds>:<user>``: answers like ``<user>`` after sleeping that long;
- ``notjson``: 200 with an HTML body;
- ``<user>`` or ``<user>:<anything>``: ``{"openid": "o_<user>", "session_key": "SK-<code>"}``
  (so two codes of one user log in the same openid), plus a unionid for ``<user>`` ``u...``.

A wrong appid or secret answers errcode 40125, as WeChat does.

Standalone (stdlib only)::

    python tests/fakes/wechat_server.py --port 8790 --app-id wx-test --secret test-secret
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

SESSION_KEY_PREFIX = "SK-"


class FakeWeChatServer:
    """Serves /sns/jscode2session on 127.0.0.1; records every query it receives."""

    def __init__(self, *, app_id: str = "wx-test", secret: str = "test-secret", port: int = 0):
        self.app_id = app_id
        self.secret = secret
        self.queries: list[dict[str, str]] = []
        # When set, every valid request gets this JSON body (to send malformed answers).
        self.override: Any = None
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        # A short poll interval makes stop() quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def answer(self, query: dict[str, str]) -> tuple[int, Any]:
        """(HTTP status, body) for one request's query."""
        self.queries.append(query)
        if query.get("appid") != self.app_id or query.get("secret") != self.secret:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        if query.get("grant_type") != "authorization_code":
            return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
        if self.override is not None:
            return 200, self.override
        code = query.get("js_code", "")
        if code.startswith("err"):
            return 200, {"errcode": int(code[3:]), "errmsg": f"fake error {code[3:]}"}
        if code == "notjson":
            return 200, "<html>gateway error</html>"
        if code.startswith("slow"):
            seconds, _, code = code[4:].partition(":")
            time.sleep(float(seconds))
        user = code.partition(":")[0]
        body = {"openid": f"o_{user}", "session_key": f"{SESSION_KEY_PREFIX}{code}"}
        if user.startswith("u"):
            body["unionid"] = f"union_{user}"
        return 200, body


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/sns/jscode2session":
            self._send(404, {"errcode": 404, "errmsg": "not found"})
            return
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        status, body = self.server.fake.answer(query)  # type: ignore[attr-defined]
        self._send(status, body)

    def _send(self, status: int, body: Any) -> None:
        raw = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        # WeChat labels its JSON text/plain.
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--app-id", default="wx-test")
    parser.add_argument("--secret", default="test-secret")
    args = parser.parse_args(argv)
    server = FakeWeChatServer(app_id=args.app_id, secret=args.secret, port=args.port)
    print(f"fake WeChat on {server.base_url}", flush=True)
    server._server.serve_forever()


if __name__ == "__main__":
    main()
