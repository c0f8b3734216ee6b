"""``GET /reports/monitors/<id>/``: the owner's (and staff's) report of a range; anyone else
gets the 404 an unknown monitor gets."""

import re
from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework_simplejwt.tokens import AccessToken

from records.models import Monitor
from records.monitor_report import clean_report_range, last_month, last_week, monitor_report
from records.pages.views import TEMPLATE, report_links
from tests.factories import UserFactory
from tests.reports.conftest import MAIN, RANGE, RIVAL, SHANGHAI, at

pytestmark = pytest.mark.django_db


def url(monitor, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/reports/monitors/{monitor.pk}/" + (f"?{query}" if query else "")


def cells_of(html: str) -> list[str]:
    """The text of every table cell, whitespace collapsed (the layout does not matter)."""
    return [
        " ".join(re.sub(r"<[^>]+>", " ", c).split())
        for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)
    ]


def test_owner_reads_the_headline_numbers_and_their_change_beyond_noise(client, user, monitor):
    client.force_login(user)
    response = client.get(url(monitor, **RANGE))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert f"{MAIN} — AI visibility report" in html
    assert "2026-11-23 – 2026-11-29" in html and "2026-11-16 – 2026-11-22" in html
    cells = cells_of(html)
    # Means over the range's two runs against the one run before; mention rate changes on the
    # three common cells from 4/4 to 1/8 each: -87.5 points, SE 0, beyond noise.
    row = cells[cells.index("Visibility score (0–100)") :][:6]
    assert row[1:3] == ["45.0", "70.0"]
    row = cells[cells.index("Mention rate") :][:6]
    assert row[1:5] == ["45.0%", "90.0%", "-87.5 pts ± 0.0", "beyond noise: worse"]
    row = cells[cells.index("Share of voice") :][:3]
    assert row[1:3] == ["32.5%", "60.0%"]
    row = cells[cells.index("Average rank when mentioned") :][:5]
    assert row[1:5] == ["2.25", "1.20", "+1.05", "no noise test"]
    row = cells[cells.index("Sentiment (NSS, −1 to +1)") :][:3]
    assert row[1:3] == ["-0.10", "+0.50"]
    # The leaderboard: the rival now leads.
    assert cells[cells.index(RIVAL) - 1 : cells.index(RIVAL) + 3] == ["1", RIVAL, "57.5", "30.0"]
    assert f"{MAIN} (main)" in cells
    # Charts (the admin's five, inline SVG, no script), platforms, domains, alerts, evidence.
    assert html.count('class="pygal-chart"') == 5 and "<script" not in html
    assert f"Visibility score of {MAIN} per platform (0–100), 2026-11-16 – 2026-11-29" in html
    assert "dianping.com" in cells and "owned (华夏良子)" in cells
    assert "No alerts in this range." in html
    assert "Recommended instead (untracked)" in html  # the range's discovered entities
    assert "2. 华夏良子：服务很差，不推荐。" in cells
    assert "/api/v1/executions/" in html and "/answers/" in html and "/admin/" not in html


def test_staff_reads_any_monitor_with_admin_links(client, staff_user, monitor):
    client.force_login(staff_user)
    response = client.get(url(monitor, **RANGE))
    assert response.status_code == 200
    assert (
        MAIN in response.content.decode()
        and "/admin/records/testrecord/" in response.content.decode()
    )


def test_another_user_and_anonymous_callers_get_404(client, monitor):
    stranger = UserFactory()
    for params in ({}, RANGE, {"from": "nonsense"}, {"format": "pdf"}):
        client.logout()
        assert client.get(url(monitor, **params)).status_code == 404
        client.force_login(stranger)
        response = client.get(url(monitor, **params))
        assert response.status_code == 404 and MAIN not in response.content.decode()
    assert client.get(f"/reports/monitors/{monitor.pk + 999}/").status_code == 404
    assert client.get("/reports/monitors/0/").status_code == 404
    assert client.get(f"/reports/monitors/{2**64}/").status_code == 404


def test_token_and_bearer_sign_in_read_the_report(client, user, monitor):
    token = Token.objects.create(user=user)
    for header in (
        f"Token {token.key}",
        f"Bearer {AccessToken.for_user(user)}",
        f"bearer {AccessToken.for_user(user)}",
    ):
        response = client.get(url(monitor, **RANGE), HTTP_AUTHORIZATION=header)
        assert response.status_code == 200, header
        assert "45.0" in response.content.decode()
        assert "Authorization" in response["Vary"]


def test_bad_credentials_are_a_404_like_anonymous(client, monitor):
    for header in ("Token not-a-key", "Bearer not.a.jwt", "Bearer", "Basic dXNlcjpwdw=="):
        response = client.get(url(monitor, **RANGE), HTTP_AUTHORIZATION=header)
        assert response.status_code == 404, header


def test_another_users_token_is_a_404(client, monitor):
    stranger = Token.objects.create(user=UserFactory())
    response = client.get(url(monitor, **RANGE), HTTP_AUTHORIZATION=f"Token {stranger.key}")
    assert response.status_code == 404


def test_only_reads_are_allowed(client, user, monitor):
    client.force_login(user)
    assert client.post(url(monitor, **RANGE)).status_code == 405


def test_default_is_last_week_and_last_month_is_the_calendar_month(client, user, monitor):
    client.force_login(user)
    today = timezone.now().astimezone(SHANGHAI).date()
    week, month = last_week(today), last_month(today)
    assert week.days == 7 and week.start.weekday() == 0 and week.end < today
    assert month.end == today.replace(day=1) - timedelta(days=1) and month.start.day == 1
    for params, rng in (
        ({}, week),
        ({"range": "last_week"}, week),
        ({"range": "last_month"}, month),
    ):
        html = client.get(url(monitor, **params)).content.decode()
        assert f"<strong>{rng.start:%Y-%m-%d} – {rng.end:%Y-%m-%d}</strong>" in html
        previous = rng.previous()
        assert previous.days == rng.days and previous.end == rng.start - timedelta(days=1)
        assert f"compared with\n    {previous.start:%Y-%m-%d} – {previous.end:%Y-%m-%d}" in html


BAD_RANGES = [
    ({"from": "2026-02-30", "to": "2026-03-05"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2026-11-01", "to": "20261130"}, "to"),
    ({"from": "2026-W48-1"}, "from"),
    ({"from": "1999-12-31", "to": "2000-01-02"}, "from"),
    ({"from": "2026-12-01", "to": "9999-12-31"}, "to"),
    ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),
    ({"range": "last_year"}, "range"),
    ({"range": "last_week", "from": "2026-11-01"}, "range"),
    ({"format": "docx"}, "format"),
]


def test_bad_ranges_are_a_400_naming_the_field(client, user, monitor):
    client.force_login(user)
    for params, field in BAD_RANGES:
        response = client.get(url(monitor, **params), HTTP_ACCEPT="application/json")
        assert response.status_code == 400, params
        body = response.json()
        assert body["code"] == "invalid" and list(body["fields"]) == [field], params
        assert body["error"] == body["fields"][field][0]
        page = client.get(url(monitor, **params))
        assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
        assert f"Parameter <code>{field}</code>" in page.content.decode(), params


def test_a_year_is_allowed(client, user, monitor):
    client.force_login(user)
    response = client.get(url(monitor, **{"from": "2025-12-01", "to": "2026-11-30"}))
    assert response.status_code == 200
    assert "(366 days" not in response.content.decode() and "(365 days" in response.content.decode()
    leap = client.get(url(monitor, **{"from": "2024-01-01", "to": "2024-12-31"}))
    assert leap.status_code == 200 and "(366 days" in leap.content.decode()


def test_the_changes_are_the_trend_apis_week_over_week_changes(user_client, monitor):
    """A week's report compares it with the week before exactly as the trend API's weekly
    ``changes`` do (same cells, delta, SE and beyond-noise flag)."""
    rng = clean_report_range(RANGE, monitor=monitor)
    report = monitor_report(monitor, rng)
    trend = user_client.get(
        f"/api/v1/monitors/{monitor.pk}/trend/",
        {"interval": "week", "from": "2026-11-16", "to": "2026-11-29"},
    ).json()
    assert trend["changes"], trend
    compared = 0
    for change in trend["changes"]:
        rows = [m for m in report["headline"] if m["metric"] == change["metric"]]
        if change["brand"] != MAIN or change["platform"] != "overall" or not rows:
            continue  # mrr is in the trend, not in the report
        row = rows[0]
        assert (row["delta"], row["se"], row["beyond_noise"], row["cells"]) == (
            change["delta"], change["se"], change["beyond_noise"], change["cells"],
        ), change["metric"]  # fmt: skip
        compared += 1
    assert compared == 6  # every headline metric but the average rank


def test_alerts_and_untracked_recommendations_render_when_given(monitor):
    """The range's alerts and the brands the answers recommend instead come in as plain
    dicts (their queries belong to the alert and entity features)."""
    rng = clean_report_range(RANGE, monitor=monitor)
    alerts = [
        {
            "kind": "visibility_drop", "brand": MAIN, "platform": "demo",
            "period_start": date(2026, 11, 23), "period_end": date(2026, 11, 29),
            "evidence": {"delta": -0.35, "se": 0.05, "n": 24}, "created_at": at(29),
        },
        {
            "kind": "negative_mention", "brand": MAIN, "platform": "", "period_start": "2026-11-24",
            "period_end": "2026-11-24", "evidence": {"quote": "服务很差", "offsets": [23, 27]},
            "created_at": at(24),
        },
    ]  # fmt: skip
    recommended = [
        {"name": "康源堂", "answers": 12, "platforms": ["demo", "kimi"], "mean_rank": 1.5}
    ]
    data = monitor_report(monitor, rng, alerts=alerts, recommended=recommended)
    html = render_to_string(TEMPLATE, data | {"links": report_links(monitor, rng)})
    cells = cells_of(html)
    drop = cells.index("Visibility dropped")
    assert cells[drop : drop + 6] == [
        "Visibility dropped", MAIN, "demo", "2026-11-23 – 2026-11-29", "2026-11-29 09:00",
        "delta: -0.35; se: 0.05; n: 24",
    ]  # fmt: skip
    negative = cells.index("Negative mention")
    assert negative > drop  # newest first
    assert cells[negative + 2 : negative + 4] == ["overall", "2026-11-24"]
    assert "quote: 服务很差; offsets: 23, 27" in cells
    assert "No alerts in this range." not in html
    assert "Recommended instead (untracked)" in html
    assert ["康源堂", "12", "demo, kimi", "1.5"] == cells[cells.index("康源堂") :][:4]
    empty = monitor_report(monitor, rng, recommended=[])
    html = render_to_string(TEMPLATE, empty | {"links": report_links(monitor, rng)})
    assert "The answers recommend no untracked brand in this range." in html


@pytest.mark.django_db
def test_an_unknown_access_mode_is_a_400_naming_it(client):
    owner = UserFactory()
    monitor = Monitor.objects.create(
        owner=owner, name="m", platforms=["demo"], next_run_at=timezone.now()
    )
    client.force_login(owner)
    response = client.get(
        f"/reports/monitors/{monitor.pk}/?access_mode=web", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert "access_mode" in response.json()["fields"]
