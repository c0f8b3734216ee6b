"""Calling the production WSGI application in process, as granian does."""

from __future__ import annotations

import io


def call_wsgi(application, path: str, method: str = "GET", **headers) -> tuple[int, dict, bytes]:
    """(status, headers, body) of one request; ``headers`` by their CGI names without
    ``HTTP_`` (``IF_NONE_MATCH="..."``). The response is closed as a WSGI server closes it."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    environ |= {"HTTP_" + k.upper(): v for k, v in headers.items()}
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = int(status[:3])
        captured["headers"] = dict(response_headers)

    iterable = application(environ, start_response)
    body = b"".join(iterable)
    if hasattr(iterable, "close"):
        iterable.close()
    return captured["status"], captured["headers"], body
