"""Normalises the sources platforms return next to an answer into ``[{"url", "title"}]``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def normalise_sources(*groups: Iterable[Any] | None) -> list[dict[str, str]]:
    """Merge source lists in order, one entry per URL, keeping the first non-empty title.

    Accepts the shapes seen in the wild: bare URL strings (``citations``), dicts with
    ``url``/``link``/``uri`` and ``title``/``site_name``/``name`` (``search_results``, Zhipu's
    ``web_search``), OpenAI ``{"type": "url_citation", "url_citation": {...}}`` annotations and
    Gemini ``{"web": {"uri", "title"}}`` grounding chunks. Anything else is skipped.
    """
    merged: dict[str, dict[str, str]] = {}
    for group in groups:
        if not isinstance(group, list | tuple):
            continue
        for item in group:
            url, title = _url_and_title(item)
            if not url:
                continue
            if url not in merged:
                merged[url] = {"url": url, "title": title}
            elif title and not merged[url]["title"]:
                merged[url]["title"] = title
    return list(merged.values())


def _url_and_title(item: Any) -> tuple[str, str]:
    if isinstance(item, str):
        return (item.strip(), "") if _is_web_url(item) else ("", "")
    if not isinstance(item, dict):
        return "", ""
    for wrapper in ("url_citation", "web"):
        if isinstance(item.get(wrapper), dict):
            item = item[wrapper]
    url = next((item[k] for k in ("url", "link", "uri") if isinstance(item.get(k), str)), "")
    title = next(
        (item[k] for k in ("title", "site_name", "name") if isinstance(item.get(k), str)), ""
    )
    url = url.strip()
    return (url, title.strip()) if _is_web_url(url) else ("", "")


def _is_web_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://"))
