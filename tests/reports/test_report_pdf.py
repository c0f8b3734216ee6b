"""``?format=pdf``: the same report as a PDF (WeasyPrint), Chinese text and charts included.

These tests need WeasyPrint's system libraries and poppler-utils' ``pdftotext``
(scripts/install-system-deps.sh): without them they fail, they are never skipped.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from records.models import BrandScore, TestRecord
from records.monitor_report import formats as fmt
from records.pages import pdf
from tests.reports.conftest import MAIN, RANGE, RIVAL

pytestmark = pytest.mark.django_db


def pdf_text(body: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler's pdftotext extracts it (a reader copying the text gets it)."""
    assert shutil.which("pdftotext"), "pdftotext missing: run scripts/install-system-deps.sh"
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    done = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout.decode()


def get_pdf(client, monitor, params):
    response = client.get(f"/reports/monitors/{monitor.pk}/", params | {"format": "pdf"})
    assert response.status_code == 200, response.content[:500]
    return response


def test_pdf_of_the_hand_made_monitor_holds_its_numbers(client, user, monitor, tmp_path):
    client.force_login(user)
    response = get_pdf(client, monitor, RANGE)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="brandtest-monitor-{monitor.pk}-2026-11-23-2026-11-29.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content, tmp_path)
    assert f"{MAIN} — AI visibility report" in text and RIVAL in text
    for number in ("45.0", "70.0", "45.0%", "90.0%", "-87.5 pts", "beyond noise: worse", "2.25"):
        assert number in text, number
    assert "2. 华夏良子：服务很差，不推荐。" in text
    # The charts are vector drawings whose labels are text in the PDF.
    assert "Share of voice of every tracked brand (%)" in text
    assert "Top 5 cited domains" in text and "dianping.com" in text
    # Evidence links are absolute in a PDF: the note under them names the server.
    assert "(signed in as the monitor's owner): http://testserver." in text


def test_pdf_of_the_seeded_demo_monitor(client, user, seeded, tmp_path):
    """The real pipeline's data: the headline numbers are the means of the stored scores."""
    client.force_login(user)
    params = {"from": "2026-11-23", "to": "2026-11-29"}
    runs = TestRecord.objects.filter(
        monitor=seeded, scheduled_for__date__gte="2026-11-23", scheduled_for__date__lte="2026-11-29"
    )
    assert runs.count() == 7
    rows = BrandScore.objects.filter(record__in=runs, brand=MAIN, platform="")
    expected = []
    for column, kind in (("visibility_score", "score"), ("mention_rate", "pct"), ("nss", "nss")):
        values = [v for v in rows.values_list(column, flat=True) if v is not None]
        expected.append(fmt.value(kind, sum(values) / len(values)))
    text = pdf_text(get_pdf(client, seeded, params).content, tmp_path)
    assert "演示监测：北京推拿" in text and "华夏良子" in text and "通透堂" in text
    assert "Synthetic data." in text
    for number in expected:
        assert number in text, (number, expected)
    assert "北京中医推拿哪家好？" in text


def test_without_weasyprint_the_pdf_says_which_script_installs_it(
    client, user, monitor, monkeypatch
):
    # As on a machine where importing WeasyPrint failed (no Pango): the page still works.
    monkeypatch.setattr(pdf, "weasyprint", None)
    client.force_login(user)
    response = client.get(f"/reports/monitors/{monitor.pk}/", RANGE | {"format": "pdf"})
    assert response.status_code == 503
    assert "scripts/install-system-deps.sh" in response.content.decode()
    assert client.get(f"/reports/monitors/{monitor.pk}/", RANGE).status_code == 200
