"""The candidate finder of one answer, and the filter that drops grouping leads.

Part of :mod:`records.analysis.entities`: :class:`_Finder` collects candidate names from list
leads, table cells, enumerations, bold and quoted text; :func:`_without_groupings` removes leads
that group other entities.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from records.analysis.entities.lexicon import (
    _AVOID_CUE,
    _BOLD,
    _BRANDS_BEFORE,
    _CLAUSE,
    _CRITERIA,
    _ENUM,
    _ENUM_JOIN,
    _ENUM_SPLIT,
    _ENUM_STOP,
    _GENERIC,
    _HEAD_STOP,
    _LEAD_LABELS,
    _NAME_COLUMN,
    _NOT_NAME_COLUMN,
    _QUOTE,
    _RANKED_LEAD,
    _SEARCH_BEFORE,
    _THINGS,
)
from records.analysis.entities.names import (
    _prose_role,
    _sentence,
    _split_names,
    _trim,
    entity_key,
    is_entity_name,
)
from records.analysis.normalize import fold, normalize
from records.analysis.ranking import ListItem, ParsedList


@dataclass(slots=True)
class _Candidate:
    start: int
    end: int
    via: str
    role: str
    rank: int | None = None
    tracked: str | None = None
    item: ListItem | None = None


class _Finder:
    """Collects candidates from one answer; ``entities`` resolves them per name."""

    def __init__(
        self, text: str, lists: Sequence[ParsedList], generic: re.Pattern[str] = _GENERIC
    ) -> None:
        self.generic = generic
        self.text = text
        self.f = fold(text)
        self.norm = normalize(text)
        self.lists = lists
        self.candidates: list[_Candidate] = []
        self.taken: list[tuple[int, int]] = []
        self.headings = [item for lst in lists for item in lst.items if item.kind == "heading"]

    def add(
        self,
        start: int,
        end: int,
        via: str,
        role: str,
        rank: int | None = None,
        item: ListItem | None = None,
    ) -> None:
        if end <= start or not self.is_name(self.text[start:end]):
            return
        if any(s < end and start < e for s, e in self.taken):
            return
        self.taken.append((start, end))
        self.candidates.append(_Candidate(start, end, via, role, rank, item=item))

    def is_name(self, surface: str) -> bool:
        return is_entity_name(surface, self.generic)

    def avoided(self, lst: ParsedList, item_start: int) -> bool:
        """Items of a list introduced (or sectioned) as places to avoid are not recommendations."""
        first = lst.items[0].start
        intro_start = self.norm.rfind("\n", 0, max(first - 1, 0)) + 1
        if _AVOID_CUE.search(self.norm, intro_start, first):
            return True
        titles = [
            item
            for item in self.headings
            if item.start <= item_start < item.end and item.head_start != item_start
        ]
        return any(_AVOID_CUE.search(self.norm, t.head_start, t.head_end) for t in titles)

    def criteria(self, lst: ParsedList) -> bool:
        """Whether a list is introduced as criteria or advice rather than as places to go."""
        first = lst.items[0]
        if first.kind == "heading":
            return False
        intro_end = self.norm.rfind("\n", 0, first.start)
        intro_start = self.norm.rfind("\n", 0, max(intro_end, 0)) + 1
        intro = self.norm[intro_start : max(intro_end, intro_start)]
        titles = [
            self.norm[t.head_start : t.head_end]
            for t in self.headings
            if t.start <= first.start < t.end and t.head_start != first.head_start
        ]
        return any(_CRITERIA.search(line) for line in (intro, *titles[-1:]))

    def heads(self) -> None:
        for lst in self.lists:
            if self.criteria(lst):
                continue
            for item in lst.items:
                # "- 教练耐心，通过率高" is a sentence; a name leads "X：…", "**X**" or a line.
                if item.kind == "line" and self.f[item.head_end : item.head_end + 1] in _CLAUSE:
                    continue
                start, end = _trim(self.f, item.head_start, item.head_end)
                label = " ".join(normalize(self.text[start:end]).split())
                if label in _LEAD_LABELS and item.kind != "table":
                    colon = self.f.find(":", end, item.end)
                    if colon < 0 or colon - end > 2:
                        continue
                    stop = _HEAD_STOP.search(self.f, colon + 1, item.end)
                    line_end = self.f.find("\n", colon, item.end)
                    limit = min(
                        stop.start() if stop and stop.start() > colon + 1 else item.end,
                        line_end if line_end >= 0 else item.end,
                    )
                    start, end = _trim(self.f, colon + 1, limit)
                colon = self.f.rfind(":", start, end)
                if colon > start and self.is_name(self.text[colon + 1 : end]):
                    start, end = _trim(self.f, colon + 1, end)
                elif colon > start:
                    start, end = _trim(self.f, start, colon)
                role = "other" if self.avoided(lst, item.start) else "recommended"
                names = _split_names(self.f, start, end)
                via = "table" if item.kind == "table" else "list"
                for s, e in names:
                    self.add(s, e, via, role, item.position, item)

    def table_cells(self) -> None:
        """Cells of name columns ("推荐机构", "品牌", "name") in every table."""
        for lst in self.lists:
            if lst.family != "table":
                continue
            first = lst.items[0].start
            sep_start = self.f.rfind("\n", 0, first - 1) + 1
            head_start = self.f.rfind("\n", 0, max(sep_start - 1, 0)) + 1
            header = self._cells(head_start, max(sep_start - 1, head_start))
            columns = {
                index
                for index, (s, e) in enumerate(header)
                if _NAME_COLUMN.search(self.norm[s:e])
                and not _NOT_NAME_COLUMN.search(self.norm[s:e])
            }
            avoided = self.avoided(lst, first)
            for item in lst.items:
                for index, (s, e) in enumerate(self._cells(item.start, item.end)):
                    if index in columns:
                        role = "other" if avoided else "recommended"
                        for ns, ne in _split_names(self.f, *_trim(self.f, s, e)):
                            self.add(ns, ne, "table", role)

    def _cells(self, start: int, end: int) -> list[tuple[int, int]]:
        line = self.f[start:end]
        if "|" not in line:
            return []
        bars = [start + i for i, ch in enumerate(line) if ch == "|"]
        return [(a + 1, b) for a, b in zip(bars, bars[1:], strict=False)]

    def enumerations(self) -> None:
        for m in _ENUM.finditer(self.norm):
            begin = m.end()
            while begin < len(self.norm) and self.norm[begin] in " :":
                begin += 1
            stop = _ENUM_STOP.search(self.norm, begin)
            limit = stop.start() if stop else len(self.norm)
            pieces: list[tuple[int, int]] = []
            pos = begin
            for split in _ENUM_SPLIT.finditer(self.norm, begin, limit):
                pieces.append((pos, split.start()))
                pos = split.end()
            pieces.append((pos, limit))
            last_start, last_end = pieces[-1]
            join = _ENUM_JOIN.search(self.norm, last_start + 1, last_end)
            if join and join.end() < last_end:
                pieces[-1:] = [(last_start, join.start()), (join.end(), last_end)]
            sentence_start = _sentence(self.norm, m.start())[0]
            before = self.norm[sentence_start : m.start()]
            if _THINGS.search(before) and not _BRANDS_BEFORE.search(before):
                continue
            names = []
            for s, e in pieces:
                owner = self.norm.rfind("的", s, e)
                if owner >= 0 and m.group("strong"):
                    s = owner + 1
                s, e = _trim(self.f, s, e)
                if e > s and self.is_name(self.text[s:e]):
                    names.append((s, e))
            if m.group("weak") and len(names) < 2:
                continue
            # After advice verbs and the bare 如/像, every piece must be a name.
            if not m.group("strong") and len(names) < len([p for p in pieces if p[1] > p[0]]):
                continue
            role = (
                "other"
                if _AVOID_CUE.search(self.norm, *_sentence(self.norm, m.start()))
                else "recommended"
            )
            for s, e in names:
                self.add(s, e, "enumeration", role)

    def marked(self) -> None:
        """Bold and quoted names in running text; a bold line lead "**TOP1 X**" is ranked."""
        for m in _BOLD.finditer(self.f):
            group = 1 if m.group(1) is not None else 2
            s, e = _trim(self.f, m.start(group), m.end(group))
            line_start = self.f.rfind("\n", 0, m.start()) + 1
            ranked = _RANKED_LEAD.match(self.f, m.start(group))
            if ranked and not self.f[line_start : m.start()].strip():
                self.add(s, e, "bold", "recommended", int(ranked.group(1)))
                continue
            self.add(s, e, "bold", _prose_role(self.norm, s, e))
        for m in _QUOTE.finditer(self.f):
            if _SEARCH_BEFORE.search(self.norm, max(0, m.start() - 8), m.start()):
                continue
            s, e = _trim(self.f, m.start(1), m.end(1))
            # A quoted term named in passing is usually a concept ("成分党"), not a business.
            if "、" not in self.f[s:e] and _prose_role(self.norm, s, e) == "recommended":
                self.add(s, e, "quote", "recommended")


def _without_groupings(candidates: list[_Candidate], text: str) -> list[_Candidate]:
    """Drop leads that group other entities: a city or category ("连锁快修", "公共场馆").

    A list item whose sub-items are led by entities, or a heading whose section names entities,
    is a grouping, whatever its title says.
    """
    keys = [entity_key(text[c.start : c.end]) for c in candidates]
    kept = []
    for candidate, key in zip(candidates, keys, strict=True):
        item = candidate.item
        if item is not None:
            inside = [
                other
                for other, other_key in zip(candidates, keys, strict=True)
                if other_key != key
                and item.head_end <= other.start < item.end
                and (
                    item.kind == "heading"
                    or (other.item is not None and other.item.depth > item.depth)
                )
            ]
            if inside:
                continue
        kept.append(candidate)
    return kept
