"""HTML to PDF with WeasyPrint (Pango lays out the text, so CJK renders with the system's Noto
CJK fonts; SVG charts are drawn as vectors).

WeasyPrint loads Pango, HarfBuzz and fontconfig when imported; on a machine without them the
import fails with OSError. The service still starts and serves HTML; a PDF request is then
answered with :class:`PdfUnavailable`'s message naming the script that installs them.
"""

from __future__ import annotations

try:
    import weasyprint
    from weasyprint.urls import URLFetcher
except (ImportError, OSError) as exc:  # the system libraries (or the package) are missing
    weasyprint = None
    URLFetcher = None
    _MISSING = f"{type(exc).__name__}: {exc}"
else:
    _MISSING = ""

INSTALL_HINT = (
    "PDF reports need WeasyPrint (requirements.txt) and its system libraries (Pango, HarfBuzz, "
    "fontconfig) and CJK fonts (fonts-noto-cjk): run scripts/install-system-deps.sh"
)


class PdfUnavailable(RuntimeError):
    """WeasyPrint or its system libraries are not installed here."""


def pdf_available() -> bool:
    return weasyprint is not None


def html_to_pdf(html: str, *, base_url: str) -> bytes:
    """The PDF of a self-contained HTML document. Only ``data:`` URLs are fetched: a report
    embeds its charts inline and needs nothing else, and text from answers can never make the
    renderer request a URL (no SSRF through a PDF)."""
    if weasyprint is None:
        raise PdfUnavailable(f"{INSTALL_HINT} ({_MISSING}).")
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
