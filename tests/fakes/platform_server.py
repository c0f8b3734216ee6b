"""A local fake AI platform: a real threaded HTTP server speaking the OpenAI chat-completions and
Gemini generateContent protocols, with scripted failures, fixed latency and request recording.

Every path prefix works, so each platform can get its own base URL
(``{base_url}/deepseek``, ``{base_url}/gemini``) and tests can tell the platforms apart.
Requests carrying a platform's web-search switch get that platform's documented search answer
(tests/fakes/search_platforms.py), including Kimi's two-step tool-call round trip and DashScope's
own text-generation path (``{prefix}/api/v1/services/aigc/text-generation/generation``).

Which behaviour a request gets, first match wins:

1. an ``X-Fake-Behaviour`` request header (e.g. ``429:0.05``; handy with curl);
2. the next behaviour scripted with ``script(key, ...)`` for its model name, then its path
   prefix, then ``"*"``;
3. ``default`` (success).

Standalone (stdlib only)::

    python tests/fakes/platform_server.py --port 8765 --latency-ms 200
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

try:  # a package import under pytest, a sibling module when run as a script
    from tests.fakes import search_platforms
except ImportError:  # pragma: no cover
    import search_platforms  # type: ignore[no-redef]

PLATFORMS = ("deepseek", "doubao", "qwen", "kimi", "zhipu", "chatgpt", "gemini", "wenxin")

KINDS = (
    "ok",  # a deterministic answer with usage and, optionally, sources
    "rate_limited",  # 429 with a Retry-After header
    "gemini_rate_limited",  # Gemini's per-minute 429: "exceeded your current quota" + retryDelay
    "server_error",  # 500 (or another status)
    "timeout",  # answers only after `seconds`, meant to exceed the client's timeout
    "malformed",  # 200 with a truncated JSON body
    "empty",  # 200 with no choices / candidates
    "auth_error",  # 401 (Gemini: 400 API_KEY_INVALID), echoing the key as some platforms do
    "quota_deepseek",  # DeepSeek's 402 "Insufficient Balance"
    "quota_openai",  # OpenAI's 429 insufficient_quota
    "quota_gemini",  # Gemini's 429 for an exhausted daily quota
)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What the server does with one request."""

    kind: str = "ok"
    status: int = 0  # 0: the kind's usual status
    retry_after: str | None = None
    seconds: float = 0.0  # extra delay before answering (on top of the server's latency)
    answer: str | None = None  # None: echo the question
    sources: tuple[tuple[str, ...], ...] = ()  # (url, title[, site name]) tuples
    source_style: str = "citations"  # citations | search_results | annotations
    # Search mode only (see search_platforms): cited indexes (None: all), reported web
    # queries, and one documented-shape violation to commit.
    cited: tuple[int, ...] | None = None
    queries: tuple[str, ...] = ()
    fault: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown behaviour {self.kind!r}; one of {', '.join(KINDS)}")

    @classmethod
    def parse(cls, text: str) -> Behaviour:
        """``"ok"``, ``"429:0.05"``, ``"500"``, ``"503"``, ``"timeout:5"`` or any kind name."""
        name, _, arg = text.strip().partition(":")
        if name == "429" or name == "rate_limited":
            return cls("rate_limited", retry_after=arg or None)
        if name.isdigit() and name.startswith("5"):
            return cls("server_error", status=int(name))
        if name == "401":
            return cls("auth_error")
        if name in ("timeout", "ok"):
            return cls(name, seconds=float(arg or (30 if name == "timeout" else 0)))
        return cls(name)


def ok(
    answer: str | None = None,
    *,
    sources: tuple[tuple[str, ...], ...] = (),
    style: str = "citations",
    seconds: float = 0.0,
    cited: tuple[int, ...] | None = None,
    queries: tuple[str, ...] = (),
    fault: str = "",
) -> Behaviour:
    """Success; ``seconds`` delays this answer only."""
    return Behaviour(
        "ok",
        answer=answer,
        sources=sources,
        source_style=style,
        seconds=seconds,
        cited=cited,
        queries=queries,
        fault=fault,
    )


def rate_limited(retry_after: str | None = None) -> Behaviour:
    """429, with ``Retry-After: <retry_after>`` when given (seconds or an HTTP date)."""
    return Behaviour("rate_limited", retry_after=retry_after)


def server_error(status: int = 500) -> Behaviour:
    return Behaviour("server_error", status=status)


def hang(seconds: float) -> Behaviour:
    """Answer successfully, but only after ``seconds`` (longer than the client's timeout)."""
    return Behaviour("timeout", seconds=seconds)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server received it."""

    path: str
    prefix: str  # the part of the path before the protocol's own path, e.g. "deepseek"
    protocol: str  # "openai" | "gemini" | "dashscope"
    model: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or the raw text when it is not JSON
    behaviour: Behaviour
    client_port: int  # the same for requests sharing a connection
    started: float  # time.monotonic()
    finished: float = 0.0

    @property
    def question(self) -> str | None:
        """The user message's text, whichever protocol asked it."""
        try:
            if self.protocol == "gemini":
                return self.body["contents"][-1]["parts"][0]["text"]
            messages = self.body["input" if self.protocol == "dashscope" else "messages"]
            if self.protocol == "dashscope":
                messages = messages["messages"]
            return next(m["content"] for m in reversed(messages) if m.get("role") == "user")
        except (KeyError, IndexError, TypeError, AttributeError, StopIteration):
            return None

    @property
    def search(self) -> str | None:
        """The platform whose web-search switch this request carries (None: plain)."""
        return search_platforms.search_platform(self.protocol, self.body)


@dataclass
class _State:
    latency: float
    default: Behaviour
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    scripts: dict[str, deque[Behaviour]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    peaks: dict[str, int] = field(default_factory=dict)
    # Kimi tool calls awaiting their tool-result round: call id -> (behaviour, first response).
    tool_calls: dict[str, tuple[Behaviour, Any]] = field(default_factory=dict)


class FakePlatformServer:
    """A fake platform on a random local port: ``with FakePlatformServer() as server: ...``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0,
        default: Behaviour | None = None,
    ) -> None:
        self._state = _State(latency=latency_ms / 1000, default=default or Behaviour())
        self._httpd = _Server((host, port), _Handler)
        self._httpd.state = self._state
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def default(self) -> Behaviour:
        return self._state.default

    @default.setter
    def default(self, behaviour: Behaviour) -> None:
        self._state.default = behaviour

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests still sleeping (latency, timeouts) wake and end at once."""
        self._state.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def script(self, key: str, *behaviours: Behaviour | str) -> None:
        """Queue behaviours for requests whose model or path prefix is ``key`` (``"*"``: any)."""
        parsed = [b if isinstance(b, Behaviour) else Behaviour.parse(b) for b in behaviours]
        with self._state.lock:
            self._state.scripts.setdefault(key, deque()).extend(parsed)

    def environ(self, platforms: tuple[str, ...] = PLATFORMS) -> dict[str, str]:
        """Environment variables pointing each platform at ``{base_url}/{platform}``, with a
        distinct key per platform (``test-key-<platform>``)."""
        env = {}
        for platform in platforms:
            prefix = platform.upper()
            env[f"{prefix}_API_KEY"] = f"test-key-{platform}"
            env[f"{prefix}_BASE_URL"] = f"{self.base_url}/{platform}"
        return env

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def asked(self) -> Counter[tuple[str, str | None]]:
        """How often each (path prefix, question) was asked: with one repeat, one per cell.

        A request whose body never arrived whole (its client was killed while sending it) is
        not a call a platform could answer or bill, and is not counted."""
        return Counter(
            (request.prefix, request.question)
            for request in self.requests
            if request.question is not None
        )

    def peak_in_flight(self, prefix: str | None = None) -> int:
        """Most requests handled at once, overall or for one path prefix."""
        with self._state.lock:
            return self._state.peaks.get("" if prefix is None else f"/{prefix}", 0)

    def reset(self) -> None:
        """Forget recorded requests, peaks and unused scripts."""
        with self._state.lock:
            self._state.requests.clear()
            self._state.peaks.clear()
            self._state.scripts.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops connects under a burst of parallel calls
    state: _State


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections as with real APIs
    disable_nagle_algorithm = True  # or small responses wait on delayed ACKs (~40 ms)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and benchmarks would drown in access logs

    def do_POST(self) -> None:
        state = self.server.state
        started = time.monotonic()
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        if path.endswith("/chat/completions"):
            protocol, prefix = "openai", path.removesuffix("/chat/completions")
        elif path.endswith(search_platforms.GENERATION_PATH):
            protocol, prefix = "dashscope", path.removesuffix(search_platforms.GENERATION_PATH)
        elif ":generateContent" in path and "/models/" in path:
            protocol, prefix = "gemini", path[: path.rindex("/models/")]
        else:
            self._send(404, {"error": {"message": f"no route for {path}"}})
            return
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        if protocol == "gemini":
            model = path[path.rindex("/models/") + len("/models/") :].split(":", 1)[0]
        else:
            model = body.get("model", "") if isinstance(body, dict) else ""
        headers = {name.lower(): value for name, value in self.headers.items()}
        with state.lock:  # a Kimi tool-result round continues its first round's behaviour
            pending = state.tool_calls.get(search_platforms.tool_call_id(body) or "")
        behaviour = pending[0] if pending else self._choose(state, headers, model, prefix)
        record = RecordedRequest(
            path,
            prefix.strip("/"),
            protocol,
            model,
            headers,
            body,
            behaviour,
            self.client_address[1],
            started,
        )
        self._enter(state, prefix)
        # Leave and record before answering: once the client has the answer it may send the
        # next request, which must not overlap this one in the in-flight count.
        delay = state.latency + behaviour.seconds
        interrupted = bool(delay) and state.stopping.wait(delay)
        self._leave(state, prefix)
        with state.lock:
            state.requests.append(replace(record, finished=time.monotonic()))
        if interrupted:
            self.close_connection = True
            return
        status, response_headers, payload = _respond(protocol, behaviour, model, record, state)
        try:
            self._send(status, payload, response_headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout)

    def _choose(self, state: _State, headers: dict[str, str], model: str, prefix: str) -> Behaviour:
        if "x-fake-behaviour" in headers:
            return Behaviour.parse(headers["x-fake-behaviour"])
        with state.lock:
            for key in (model, prefix.strip("/"), "*"):
                queued = state.scripts.get(key)
                if queued:
                    return queued.popleft()
        return state.default

    def _enter(self, state: _State, prefix: str) -> None:
        with state.lock:
            for key in ("", prefix):
                state.in_flight[key] = state.in_flight.get(key, 0) + 1
                state.peaks[key] = max(state.peaks.get(key, 0), state.in_flight[key])

    def _leave(self, state: _State, prefix: str) -> None:
        with state.lock:
            for key in ("", prefix):
                state.in_flight[key] -= 1

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _respond(
    protocol: str, behaviour: Behaviour, model: str, record: RecordedRequest, state: _State
) -> tuple[int, dict[str, str], Any]:
    """Status, extra headers and JSON payload (or raw bytes) for ``behaviour``."""
    gemini = protocol == "gemini"
    kind = behaviour.kind
    if kind in ("ok", "timeout"):
        if record.search is None:
            return 200, {}, _success(gemini, behaviour, model, record)
        # Search answers carry the sources in the platform's search shape only.
        data = _success(gemini, replace(behaviour, sources=()), model, record)
        status, payload = search_platforms.respond(record.search, behaviour, record, data, state)
        return status, {}, payload
    if kind == "malformed":
        return 200, {}, b'{"choices": [{"message": {"content": "cut sho'
    if kind == "empty":
        return 200, {}, {"candidates": []} if gemini else {"choices": [], "model": model}
    if kind == "rate_limited":
        headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
        if gemini:
            return (
                429,
                headers,
                _google_error(429, "Resource has been exhausted (e.g. check quota)."),
            )
        error = {"message": "Rate limit reached for requests", "type": "requests"}
        return 429, headers, {"error": {**error, "code": "rate_limit_exceeded"}}
    if kind == "gemini_rate_limited":
        message = (
            "You exceeded your current quota, please check your plan and billing details. "
            "Quota exceeded for metric: generate_content_free_tier_requests, limit: 15"
        )
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.05s"},
        ]
        return 429, {}, _google_error(429, message, details)
    if kind == "server_error":
        status = behaviour.status or 500
        if gemini:
            return status, {}, _google_error(status, "An internal error has occurred.")
        return status, {}, {"error": {"message": "The server had an error", "type": "server_error"}}
    key = record.headers.get("x-goog-api-key") or record.headers.get("authorization", "")
    key = key.removeprefix("Bearer ")
    if kind == "auth_error":
        if gemini:
            details = [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
            ]
            return (
                400,
                {},
                _google_error(400, "API key not valid. Please pass a valid API key.", details),
            )
        error = {"message": f"Incorrect API key provided: {key}.", "type": "invalid_request_error"}
        return 401, {}, {"error": {**error, "code": "invalid_api_key"}}
    if kind == "quota_deepseek":
        error = {"message": "Insufficient Balance", "type": "unknown_error", "param": None}
        return 402, {}, {"error": {**error, "code": "invalid_request_error"}}
    if kind == "quota_openai":
        message = (
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors."
        )
        error = {"message": message, "type": "insufficient_quota", "param": None}
        return 429, {}, {"error": {**error, "code": "insufficient_quota"}}
    # quota_gemini
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}],
        }
    ]
    message = "You exceeded your current quota, please check your plan and billing details."
    return 429, {}, _google_error(429, message, details)


def _success(gemini: bool, behaviour: Behaviour, model: str, record: RecordedRequest) -> Any:
    question = record.question or ""
    answer = behaviour.answer if behaviour.answer is not None else f"Answer to: {question}"
    prompt_tokens, completion_tokens = len(question), len(answer)
    if gemini:
        candidate: dict[str, Any] = {
            "content": {"parts": [{"text": answer}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
        if behaviour.sources:
            chunks = [{"web": {"uri": url, "title": title}} for url, title in behaviour.sources]
            candidate["groundingMetadata"] = {"groundingChunks": chunks}
        usage = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": completion_tokens,
            "totalTokenCount": prompt_tokens + completion_tokens,
        }
        return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model}
    message: dict[str, Any] = {"role": "assistant", "content": answer}
    data: dict[str, Any] = {
        "id": f"chatcmpl-fake-{int(record.started * 1000)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    if behaviour.sources:
        if behaviour.source_style == "annotations":
            message["annotations"] = [
                {"type": "url_citation", "url_citation": {"url": url, "title": title}}
                for url, title in behaviour.sources
            ]
        elif behaviour.source_style == "search_results":
            data["search_results"] = [{"url": u, "title": t} for u, t in behaviour.sources]
        else:
            data["citations"] = [url for url, _ in behaviour.sources]
    return data


def _google_error(status: int, message: str, details: list[dict[str, Any]] | None = None) -> Any:
    names = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}
    error = {"code": status, "message": message, "status": names.get(status, "UNAVAILABLE")}
    return {"error": {**error, "details": details or []}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--default", default="ok", help="behaviour when nothing is scripted")
    args = parser.parse_args(argv)
    server = FakePlatformServer(
        host=args.host,
        port=args.port,
        latency_ms=args.latency_ms,
        default=Behaviour.parse(args.default),
    )
    with server:
        print(f"fake AI platform on {server.base_url} (latency {args.latency_ms:g} ms)")
        for name, value in server.environ().items():
            print(f"export {name}={value}")
        sys.stdout.flush()  # a parent process reads the base URL from the first line
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
