"""What every new database connection really gets (settings alone do not prove it)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_connections_are_persistent_without_per_request_health_checks():
    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is False


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite pragmas")
def test_sqlite_connection_has_wal_normal_sync_busy_timeout_and_immediate_writes():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5_000
    assert connection.transaction_mode == "IMMEDIATE"
