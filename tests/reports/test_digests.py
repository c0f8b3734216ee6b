"""The weekly digest: off by default, on per monitor, sent once per monitor and week through
Django's e-mail backend, plain text and HTML, linking to the week's report."""

import email
import email.policy
import socket
from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from records import digests
from records.models import Monitor
from tests.monitoring.conftest import definition
from tests.reports.conftest import MAIN, RIVAL

pytestmark = pytest.mark.django_db

# Monday 2026-11-30 10:00 in Shanghai (02:00 UTC): the week 11-23..29 is due (from 09:00).
DUE = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
EARLY = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai: not yet
WEEK = date(2026, 11, 23)


@pytest.fixture
def digest_on(monitor, settings):
    settings.BRANDTEST_PUBLIC_URL = "https://brand.example.com/"
    monitor.owner.email = "owner@example.com"
    monitor.owner.save(update_fields=["email"])
    Monitor.objects.filter(pk=monitor.pk).update(weekly_digest=True)
    monitor.refresh_from_db()
    return monitor


def test_the_digest_is_off_by_default(monitor):
    assert Monitor._meta.get_field("weekly_digest").default is False
    assert monitor.weekly_digest is False
    assert digests.send_due_digests(now=DUE).sent == [] and mail.outbox == []


def test_last_weeks_digest_is_sent_once_with_text_html_and_the_report_link(digest_on):
    assert digests.send_due_digests(now=EARLY).sent == []
    result = digests.send_due_digests(now=DUE)
    assert result.sent == [(digest_on.pk, WEEK, "owner@example.com")]
    [message] = mail.outbox
    assert message.to == ["owner@example.com"]
    assert message.subject == f"Weekly AI visibility: {MAIN}, 2026-11-23 – 2026-11-29"
    link = (
        f"https://brand.example.com/reports/monitors/{digest_on.pk}/?from=2026-11-23&to=2026-11-29"
    )
    assert link in message.body and f"As a PDF: {link}&format=pdf" in message.body
    escaped = link.replace("&", "&amp;")
    assert f'href="{escaped}"' in message.alternatives[0].content
    assert f'href="{escaped}&amp;format=pdf"' in message.alternatives[0].content
    # The headline numbers as the report prints them, and the leaderboard.
    assert "- Mention rate: 45.0% (before 90.0%; change -87.5 pts ± 0.0, beyond noise: worse)" in (
        message.body
    )
    assert f"1. {RIVAL}: 57.5" in message.body and f"2. {MAIN} (main): 45.0" in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html" and f'<h2 style="margin-bottom: 4px;">{MAIN}' in html
    assert "<strong>45.0%</strong>" in html
    digest_on.refresh_from_db()
    assert digest_on.last_digest_week.isoformat() == "2026-11-23"
    # Again, later that week, by the command or the worker: nothing more.
    assert digests.send_due_digests(now=DUE.replace(day=2, month=12)).sent == []
    out = StringIO()
    call_command("send_digests", stdout=out)
    assert len(mail.outbox) == 1


def test_the_command_prints_what_it_sent_and_the_console_backend_prints_the_message(
    digest_on, settings, capsys
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    result = digests.send_due_digests(now=DUE)
    assert len(result.sent) == 1
    printed = capsys.readouterr().out.split("\n" + "-" * 79)[0]
    message = email.message_from_string(printed, policy=email.policy.default)
    assert message["Subject"] == f"Weekly AI visibility: {MAIN}, 2026-11-23 – 2026-11-29"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "- Visibility score (0–100): 45.0 (before 70.0;" in plain
    assert f"/reports/monitors/{digest_on.pk}/?from=2026-11-23&to=2026-11-29" in plain
    assert "<strong>45.0</strong>" in html
    out = StringIO()
    call_command("send_digests", stdout=out)
    assert out.getvalue().strip() == "no digest due"


def test_an_empty_week_and_an_owner_without_email_are_skipped_once(digest_on):
    digest_on.owner.email = ""
    digest_on.owner.save(update_fields=["email"])
    result = digests.send_due_digests(now=DUE)
    assert result.skipped == [
        (digest_on.pk, WEEK, "no recipient (the owner has no e-mail address and none is set)")
    ]
    # The week after has no runs: skipped (once), not e-mailed.
    digest_on.owner.email = "owner@example.com"
    digest_on.owner.save(update_fields=["email"])
    later = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    assert digests.send_due_digests(now=later).skipped[0][2] == "no runs in the week"
    assert digests.send_due_digests(now=later).skipped == [] and mail.outbox == []


def closed_port() -> int:
    """A local port nothing listens on (the SMTP server is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_failed_send_is_retried_by_the_next_pass(digest_on, settings):
    smtp = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 2},
    }
    settings.MAILERS = {"default": smtp}
    failed = digests.send_due_digests(now=DUE)
    assert failed.sent == [] and "ConnectionRefusedError" in failed.failed[0][2]
    digest_on.refresh_from_db()
    assert digest_on.last_digest_week is None
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert len(digests.send_due_digests(now=DUE).sent) == 1 and len(mail.outbox) == 1


def test_two_passes_racing_send_once(digest_on):
    """The claim is a conditional UPDATE: a pass holding a stale copy of the monitor sends
    nothing once another pass took the week."""
    stale = Monitor.objects.get(pk=digest_on.pk)
    assert len(digests.send_due_digests(now=DUE).sent) == 1
    result = digests.DigestResult()
    digests.send_digest(stale, digests.digest_week(stale, DUE), result)
    assert result.sent == [] and len(mail.outbox) == 1


def test_the_api_and_the_admin_edit_the_digest_setting(user_client, client, staff_user, monitor):
    created = user_client.post("/api/v1/monitors/", definition(), format="json")
    assert created.status_code == 201 and created.json()["weekly_digest"] is False
    pk = created.json()["id"]
    changed = user_client.patch(f"/api/v1/monitors/{pk}/", {"weekly_digest": True}, format="json")
    assert changed.status_code == 200 and changed.json()["weekly_digest"] is True
    # A PATCH of another field keeps it.
    renamed = user_client.patch(f"/api/v1/monitors/{pk}/", {"name": "改名"}, format="json")
    assert renamed.json()["weekly_digest"] is True
    bad = user_client.patch(f"/api/v1/monitors/{pk}/", {"weekly_digest": "often"}, format="json")
    assert bad.status_code == 400 and "weekly_digest" in bad.json()["fields"]
    client.force_login(staff_user)
    page = client.get(f"/admin/records/monitor/{monitor.pk}/change/").content.decode()
    assert 'name="weekly_digest"' in page
