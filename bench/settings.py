"""Bench settings: the project's settings with the bench URLconf and a separate database.

The bench database is ``bench/data/bench_<rows>.sqlite3`` (gitignored) or, when DATABASE_URL
points at PostgreSQL, the database ``brandtest_bench_<rows>`` on the same server; BENCH_DB_NAME
replaces ``bench_<rows>`` (``bench.scheduler`` uses ``bench_monitors``).
Variants of the connection settings are chosen with BENCH_DB_MODE (see ``bench.run``).
"""

import os

from brandtest.settings import *  # noqa: F403
from brandtest.settings import BASE_DIR, DATABASES

ROOT_URLCONF = "bench.urls"
DEBUG = False
BENCH_ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
BENCH_DIR = BASE_DIR / "bench" / "data"

_name = os.environ.get("BENCH_DB_NAME") or f"bench_{BENCH_ROWS}"
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["NAME"] = str(BENCH_DIR / f"{_name}.sqlite3")
else:
    _db["NAME"] = f"brandtest_{_name}"

# Connection-handling variants measured side by side (production uses the default).
_mode = os.environ.get("BENCH_DB_MODE", "default")
if _mode == "no_persist":
    _db["CONN_MAX_AGE"] = 0
elif _mode == "no_health_checks":
    _db["CONN_HEALTH_CHECKS"] = False
elif _mode == "health_checks":
    _db["CONN_HEALTH_CHECKS"] = True
elif _mode == "pool":
    _db["CONN_MAX_AGE"] = 0
    _db["CONN_HEALTH_CHECKS"] = False
    _db.setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 8}
elif _mode == "server_side_binding":
    # psycopg binds parameters on the server and prepares a statement after 5 executions.
    _db.setdefault("OPTIONS", {})["server_side_binding"] = True
elif _mode == "unprepared":
    # The hot reads through Django's client-binding cursors, planned on every request.
    BRANDTEST_PREPARED_HOT_READS = False
    _db.setdefault("OPTIONS", {})["prepare_threshold"] = None
elif _mode != "default":
    raise ValueError(f"unknown BENCH_DB_MODE {_mode!r}")

# No per-request logging: Django logs every 404 (5% of the bench's ids are unknown) as a warning.
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "django.request": {"level": "ERROR"}}}  # noqa: F405
