"""Legacy users become WeChat-linked Django users; their runs are owned by them."""

from __future__ import annotations

import sqlite3
from typing import Any

from django.db import IntegrityError, transaction

from records.legacy.accounts import ensure_wechat_user
from records.legacy.importer.read import as_text, parse_timestamp, user_rows
from records.legacy.importer.report import ImportReport

ANONYMOUS_OPENID = "anonymous"


def import_users(connection: sqlite3.Connection, report: ImportReport) -> dict[int, Any]:
    """Legacy user id -> Django user, or None for the anonymous user and unusable users."""
    rows = user_rows(connection)
    if rows is None:
        report.warn("no users table with openid; every run is imported without owner")
        return {}
    owners: dict[int, Any] = {}
    for row in rows:
        openid = as_text(row["openid"]).strip()
        owners[row["id"]] = None
        if openid == ANONYMOUS_OPENID:
            continue
        if not openid or len(openid) > 64:
            report.users_without_openid += 1
            report.warn(
                f"legacy user {row['id']} has no usable openid; its runs are imported without owner"
            )
            continue
        try:
            with transaction.atomic():
                user, created = ensure_wechat_user(
                    openid=openid,
                    nickname=as_text(row["nickname"]),
                    avatar_url=as_text(row["avatar_url"]),
                    created_at=parse_timestamp(row["created_at"]),
                )
        except IntegrityError as exc:
            report.warn(
                f"legacy user {row['id']} not imported ({exc}); its runs are imported without owner"
            )
            continue
        owners[row["id"]] = user
        if created:
            report.users_imported += 1
        else:
            report.users_existing += 1
    return owners
