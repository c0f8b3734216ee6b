"""Names: entity keys, span trimming, the proper-name test, splitting and sentence roles.

Part of :mod:`records.analysis.entities`; the word lists live in
:mod:`records.analysis.entities.lexicon`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from records.analysis.brands import strip_suffixes
from records.analysis.entities.lexicon import (
    _AVOID_CUE,
    _CITIES,
    _DEPARTMENT,
    _EDGE,
    _EN_PHRASE,
    _ENUM_SPLIT,
    _GENERIC,
    _GENERIC_PARTS,
    _HAN,
    _LABELS,
    _LEAD_LABELS,
    _MARKER_PREFIX,
    _PAREN_TAIL,
    _PHRASE,
    _PLACE,
    _RECOMMEND_CUE,
    _SENTENCE_END,
)
from records.analysis.normalize import normalize


def entity_key(name: str) -> str:
    """The key two spellings of one entity share: normalised, store/legal suffixes removed.

    A hospital's department is the hospital (四川省人民医院眼科 → 四川省人民医院).
    """
    cleaned = " ".join(normalize(name).split())
    cleaned = _PAREN_TAIL.sub("", cleaned).strip() or cleaned
    cleaned = _DEPARTMENT.sub("", cleaned)
    forms = strip_suffixes(cleaned) | {cleaned}
    return min(forms, key=lambda form: (len(form), form))


def _trim(f: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) to the name: no markers, markup, edge punctuation or trailing (…)."""
    while True:
        before = (start, end)
        while start < end and f[start] in _EDGE:
            start += 1
        while end > start and f[end - 1] in _EDGE:
            end -= 1
        marker = _MARKER_PREFIX.match(f, start, end)
        if marker and marker.end() < end:
            start = marker.end()
        paren = _PAREN_TAIL.search(f, start, end)
        if paren and paren.start() > start and _HAN.search(f, start, paren.start()):
            end = paren.start()
        elif paren and paren.start() > start + 1:
            end = paren.start()
        if (start, end) == before:
            return start, end


def generic_pattern(categories: Iterable[str] = ()) -> re.Pattern[str]:
    """Generic-name pattern over the built-in parts plus the run's category words (驾校, 火锅).

    Category words come from the questions (:func:`brands.context_words_from_questions`); those
    naming a place are left out, since a place plus a category (北京中医医院) is a name.
    """
    words = {w for w in categories if _HAN.search(w) and not any(c in w for c in _CITIES)}
    parts = sorted({*_GENERIC_PARTS, *words}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(map(re.escape, parts)) + ")+")


@lru_cache(maxsize=64)
def _generic_for(categories: tuple[str, ...]) -> re.Pattern[str]:
    return generic_pattern(categories) if categories else _GENERIC


def is_entity_name(surface: str, generic: re.Pattern[str] = _GENERIC) -> bool:
    """Whether a trimmed lead or cell reads as a proper name rather than a label or a phrase."""
    name = " ".join(normalize(surface).split())
    if not name or name in _LABELS or name in _LEAD_LABELS:
        return False
    han = len(_HAN.findall(name))
    if han:
        if not 2 <= han <= 24 or len(name) > 32:
            return False
        if " " in name and han == len(name.replace(" ", "")):
            return False
        if generic.fullmatch(name) or _PLACE.match(name) or _PHRASE.search(name):
            return False
        return not re.search(r"[,。!?]", name)
    letters = re.findall(r"[a-z]", name)
    if len(letters) < 2 or len(name) > 40 or len(name.split()) > 5:
        return False
    return not _EN_PHRASE.search(name) and not re.search(r"[,!?]", name)


def _split_names(f: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the names in a cell or lead that lists several ("固生堂/正安中医", "A、B")."""
    spans = []
    pos = start
    for m in _ENUM_SPLIT.finditer(f, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return [span for span in (_trim(f, s, e) for s, e in spans) if span[1] > span[0]]


def _sentence(norm: str, pos: int) -> tuple[int, int]:
    start = pos
    while start > 0 and not _SENTENCE_END.match(norm[start - 1]):
        start -= 1
    m = _SENTENCE_END.search(norm, pos)
    return start, m.start() if m else len(norm)


def _prose_role(norm: str, start: int, end: int) -> str:
    """A name in running text is recommended when its sentence recommends, else in passing."""
    sentence = norm[slice(*_sentence(norm, start))]
    if _AVOID_CUE.search(sentence):
        return "other"
    return "recommended" if _RECOMMEND_CUE.search(sentence) else "other"
