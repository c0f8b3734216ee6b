"""Runs a matrix of platform calls concurrently and streams each outcome to the caller's thread.

Worker threads only make HTTP calls (with retries). Outcomes come back through a queue and are
yielded by ``MatrixRunner.run`` in the thread that iterates it, so the caller does every
database write from its own thread and connection.

Stop semantics: after ``stop()`` nothing new starts, retry waits wake up and end as
``cancelled`` outcomes, calls already on the wire finish (within one call timeout) and their
outcomes are still yielded, and cells never started yield nothing. ``run`` then returns. To
abandon in-flight calls instead, close the generator (``break`` out of the loop): their threads
finish in the background and their results are dropped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from records.engine.base import Adapter, PlatformError, Prompt, Reply
from records.engine.errors import describe_failure
from records.engine.retry import RetryPolicy

logger = logging.getLogger(__name__)

AskFn = Callable[[Prompt], Reply]


@dataclass(frozen=True, slots=True)
class Cell:
    """One call to make: ``key`` is the caller's own id for it, handed back in the outcome."""

    key: Hashable
    platform: str
    prompt: Prompt


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one cell ended. ``started``/``finished`` are ``time.monotonic()`` readings."""

    key: Hashable
    platform: str
    reply: Reply | None
    error: PlatformError | None
    retries: int
    attempts: int
    started: float
    finished: float

    @property
    def ok(self) -> bool:
        return self.error is None


# Put on the queue by a worker whose cell was cancelled before its first attempt.
_SKIPPED = object()


class MatrixRunner:
    """Asks every cell's platform its prompt, at most ``global_limit`` calls at a time and at most
    ``per_platform_limit`` per platform, retrying per ``retry``.

    ``adapters`` maps platform → anything with ``ask(prompt) -> Reply`` (HTTP adapters, the demo
    adapter) or a plain ``ask`` callable. Cells start in round-robin order across platforms, in
    the given order within one. One runner runs once.
    """

    def __init__(
        self,
        adapters: Mapping[str, Adapter | AskFn],
        *,
        global_limit: int,
        per_platform_limit: int,
        retry: RetryPolicy,
        tick_seconds: float = 1.0,
        cancel_event: threading.Event | None = None,
    ) -> None:
        if global_limit < 1 or per_platform_limit < 1:
            raise ValueError("concurrency limits must be at least 1")
        self._asks: dict[str, AskFn] = {
            platform: getattr(adapter, "ask", adapter) for platform, adapter in adapters.items()
        }
        self._global_limit = global_limit
        self._per_platform_limit = per_platform_limit
        self._retry = retry
        self._tick = tick_seconds
        # Shared with adapters that wait (the demo platform), so stop() wakes them too.
        self.cancel_event = cancel_event if cancel_event is not None else threading.Event()
        self._lock = threading.Lock()
        self._done: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending: dict[str, deque[Cell]] = {}
        self._order: list[str] = []
        self._next_platform = 0
        self._in_flight: dict[str, int] = {}
        self._in_flight_total = 0
        self._submitted = 0
        self._ran = False
        self._executor: ThreadPoolExecutor | None = None

    def run(self, cells: Iterable[Cell]) -> Iterator[Outcome | None]:
        """Yield each cell's ``Outcome`` as it lands, and ``None`` after every ``tick_seconds``
        with nothing landed (so the caller can beat its heartbeat and check for cancellation)."""
        if self._ran:
            raise RuntimeError("a MatrixRunner runs once")
        self._ran = True
        for cell in cells:
            self._pending.setdefault(cell.platform, deque()).append(cell)
        self._order = list(self._pending)
        self._in_flight = dict.fromkeys(self._order, 0)
        self._executor = ThreadPoolExecutor(self._global_limit, thread_name_prefix="engine-call")
        received = 0
        try:
            while True:
                self._dispatch()
                with self._lock:
                    if received == self._submitted and (
                        self.cancel_event.is_set() or not any(self._pending.values())
                    ):
                        return
                try:
                    item = self._done.get(timeout=self._tick)
                except queue.Empty:
                    yield None
                    continue
                received += 1
                if isinstance(item, Outcome):
                    yield item
        finally:
            self.stop()
            self._executor.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        """Start nothing new and wake retry waits; safe from any thread, idempotent."""
        # Under the lock, so no worker is between its check and a submit when run() then
        # shuts the executor down.
        with self._lock:
            self.cancel_event.set()

    def _dispatch(self) -> None:
        """Start pending cells while both limits allow (only from run(), in the caller's thread)."""
        assert self._executor is not None
        with self._lock:
            while not self.cancel_event.is_set() and self._in_flight_total < self._global_limit:
                cell = self._next_cell()
                if cell is None:
                    return
                self._in_flight[cell.platform] += 1
                self._in_flight_total += 1
                self._submitted += 1
                self._executor.submit(self._work, cell)

    def _next_cell(self) -> Cell | None:
        """The next startable cell, round-robin across platforms; call with the lock held."""
        count = len(self._order)
        for offset in range(count):
            platform = self._order[(self._next_platform + offset) % count]
            if self._pending[platform] and self._in_flight[platform] < self._per_platform_limit:
                self._next_platform = (self._next_platform + offset + 1) % count
                return self._pending[platform].popleft()
        return None

    def _work(self, cell: Cell) -> None:
        item: object = _SKIPPED
        try:
            item = self._call(cell)
        except Exception as exc:  # a bug of ours must not hang the caller waiting for this cell
            logger.exception("runner failed on a %s call", cell.platform)
            now = time.monotonic()
            error = _internal(cell.platform, exc)
            item = Outcome(cell.key, cell.platform, None, error, 0, 1, now, now)
        finally:
            with self._lock:
                self._in_flight[cell.platform] -= 1
                self._in_flight_total -= 1
            # Exactly one item per submitted cell: run() counts them. New cells are started only
            # by run(), in the caller's thread, after the caller has handled each outcome: a
            # caller that learns of a cancel while storing an outcome starts nothing more.
            self._done.put(item)

    def _call(self, cell: Cell) -> object:
        ask = self._asks.get(cell.platform)
        started = time.monotonic()
        if ask is None:
            error = PlatformError(
                "internal",
                describe_failure(cell.platform, "internal", detail="no adapter for this platform"),
            )
            return Outcome(cell.key, cell.platform, None, error, 0, 0, started, started)
        result = self._retry.call(
            lambda: ask(cell.prompt), platform=cell.platform, cancel=self.cancel_event
        )
        if result.attempts == 0:
            return _SKIPPED
        return Outcome(
            key=cell.key,
            platform=cell.platform,
            reply=result.reply,
            error=result.error,
            retries=result.retries,
            attempts=result.attempts,
            started=started,
            finished=time.monotonic(),
        )


def _internal(platform: str, exc: Exception) -> PlatformError:
    detail = type(exc).__name__
    return PlatformError("internal", describe_failure(platform, "internal", detail=detail))
