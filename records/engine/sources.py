"""Reads the sources platforms return next to an answer: ``normalise_sources`` for plain mode
(``[{"url", "title"}]``), the ``indexed_source`` helpers for search mode."""

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


# Search-mode sources: each platform's documented list read into one shape. A malformed
# container (not a list, not an object) is a ``bad_response``; a malformed item inside a
# well-formed list (not an object, no http(s) URL, an index that is not a positive integer) is
# skipped, so one odd search result never costs the whole answer.


class SearchShapeError(ValueError):
    """A search field is not in the platform's documented shape (raised as ``bad_response``)."""


def search_list(container: Any, key: str, *, where: str) -> list[Any]:
    """``container[key]`` as a list: [] when absent or null, ``SearchShapeError`` otherwise."""
    if container is None:
        return []
    if not isinstance(container, dict):
        raise SearchShapeError(f"{where} is not an object")
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SearchShapeError(f"{where}.{key} is not a list")
    return value


def search_object(container: dict[str, Any], key: str, *, where: str) -> dict[str, Any] | None:
    """``container[key]`` when it is an object, None when absent or null."""
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SearchShapeError(f"{where}.{key} is not an object")
    return value


def indexed_source(
    index: Any, url: Any, title: Any = "", site_name: Any = "", cited: bool | None = None
) -> dict[str, Any] | None:
    """One source in the engine's shape, or None when its URL or index is unusable.

    ``index`` is the number the answer's inline markers use for it (1-based)."""
    if isinstance(index, str) and index.strip().isdigit():
        index = int(index)
    if isinstance(index, bool) or not isinstance(index, int) or index < 1:
        return None
    if not isinstance(url, str) or not _is_web_url(url):
        return None
    return {
        "index": index,
        "url": url.strip(),
        "title": title.strip() if isinstance(title, str) else "",
        "site_name": site_name.strip() if isinstance(site_name, str) else "",
        "cited": cited,
    }


def unique_indexes(sources: Iterable[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """Drop unusable sources and later repeats of an index, keeping the platform's order."""
    seen: set[int] = set()
    kept = []
    for source in sources:
        if source is None or source["index"] in seen:
            continue
        seen.add(source["index"])
        kept.append(source)
    return kept


def text_list(value: Any, *, where: str) -> list[str]:
    """A list of non-empty strings (web queries); non-strings inside are skipped."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SearchShapeError(f"{where} is not a list")
    return [item.strip() for item in value if isinstance(item, str) and item.strip()]
