"""The bench's WSGI application: the project's own ``brandtest.wsgi.application`` for every
project URL, and the ``floor`` view through Django's handler with no middleware at all.

Garbage-collector pauses over 1 ms are written to stderr (the server log) for the report.
"""

import gc
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.handlers.exception import convert_exception_to_response  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

from brandtest.wsgi import application as project_application  # noqa: E402


class BareHandler(WSGIHandler):
    """Django's WSGI handler with an empty middleware chain."""

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)


bare_application = BareHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/bench/floor/"):
        return bare_application(environ, start_response)
    return project_application(environ, start_response)


_gc_started = [0.0]


def _log_gc_pause(phase, info):
    if phase == "start":
        _gc_started[0] = time.perf_counter()
        return
    pause = (time.perf_counter() - _gc_started[0]) * 1e3
    if pause > 1:
        print(f"bench-gc-pause gen{info['generation']} {pause:.1f} ms", file=sys.stderr, flush=True)


gc.callbacks.append(_log_gc_pause)
