"""Rate-limit counts shared by every web process (records/throttles.py)."""

from __future__ import annotations

from django.db import models


class ThrottleHit(models.Model):
    """One request admitted by a rate limit. Rows live in the database every web process
    shares, so a limit holds across processes without Redis; each admit deletes its key's rows
    older than the window."""

    scope = models.CharField(max_length=20)
    # sha256 of the caller identity (a client-chosen device id or an address), truncated.
    key = models.CharField(max_length=32)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"], name="throttlehit_window_idx")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}@{self.at:%Y-%m-%d %H:%M:%S}"
