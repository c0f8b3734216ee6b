"""Identity of an imported run: what makes re-imports idempotent.

* ``legacy_key`` is ``legacy:<fingerprint>:<row id>``, where the fingerprint hashes the row's own
  immutable content (legacy user id, brand, ``test_date`` and the decoded items). It is used
  instead of the file's name, size or header bytes, which all change when a live legacy database
  grows, is copied, renamed or vacuumed; the content of a saved run never changes. Two legacy
  databases whose row ids overlap still get distinct keys.
* ``execution_id``: G2 rows keep ``results_summary.execution_id``; G1 rows (and G2 rows without a
  valid one) get ``uuid5(LEGACY_NAMESPACE, legacy_key)``. Because the fingerprint covers the
  answers, a derived id cannot be guessed from a brand and a date, which matters for anonymous
  runs, where the execution id is the only capability.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid

from records.legacy.importer.read import as_text
from records.legacy.importer.report import ImportReport

# Fixed forever: derived execution ids of already imported G1 runs depend on it.
LEGACY_NAMESPACE = uuid.UUID("6f0c3d1e-7a52-5b8e-9c1d-4e2f8a9b0c31")


def legacy_key_of(row: sqlite3.Row, brand: str, raw_items: list[dict]) -> str:
    """``legacy:<content fingerprint>:<row id>``; see the module docstring for why."""
    content = json.dumps(
        [row["user_id"], brand, as_text(row["test_date"]), raw_items],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return f"legacy:{hashlib.sha256(content.encode()).hexdigest()[:20]}:{row['id']}"


def execution_id_of(
    kept: object, *, legacy_key: str, report: ImportReport, row_id: int
) -> uuid.UUID:
    """``kept`` (a G2 summary's execution id) when it is a UUID, else one derived from the key."""
    if kept:
        try:
            return uuid.UUID(str(kept))
        except ValueError:
            report.warn("G2 execution_id is not a UUID; a stable one was derived", row_id)
    return uuid.uuid5(LEGACY_NAMESPACE, legacy_key)
