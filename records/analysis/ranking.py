"""List parsing and per-brand rank (docs/metrics.md §3).

Answers recommend brands in Markdown lists: numbered (``1.`` ``1、`` ``1)`` ``(1)``), Chinese
outline markers (``一、`` ``（一）`` ``①`` ``第一``), bullets, numbered or plain headings, and
tables. :func:`parse_lists` turns the text into lists of sibling items with character extents;
:func:`list_rank` picks the item a brand is ranked by.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from records.analysis.normalize import fold

_HAN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_HAN_NUM = "一二三四五六七八九十"
_BOLD = r"(?:\*\*|__)?"

# Marker families, tried in this order; the number group (if any) is group 1.
_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("hanzi", re.compile(rf"{_BOLD}([{_HAN_NUM}]{{1,3}})、\s*")),
    ("paren_han", re.compile(rf"{_BOLD}\(\s*([{_HAN_NUM}]{{1,3}})\s*\)\s*")),
    ("paren_num", re.compile(rf"{_BOLD}\(\s*(\d{{1,2}})\s*\)\s*")),
    ("arabic", re.compile(rf"{_BOLD}(\d{{1,2}})(?:\.(?!\d)|、|\))\s*")),
    ("circled", re.compile(rf"{_BOLD}([\u2460-\u2473])\s*")),
    (
        "ordinal",
        re.compile(
            rf"{_BOLD}第([{_HAN_NUM}]{{1,3}})(?:名|家|个|款|位|种|类|点|步|条)?{_BOLD}"
            r"(?:[、,:.]\s*|\s+)"
        ),
    ),
    ("bullet", re.compile(r"(?:[-*+]\s+|[•·]\s*)")),
)
# Outline depth when two families share an indent: "一、" sections hold "1." items, which hold
# bullets, so a lower-ranked family at the same indent is a child list, not a new list.
_OUTLINE = {
    "hanzi": 0,
    "paren_han": 1,
    "ordinal": 1,
    "arabic": 2,
    "paren_num": 3,
    "circled": 4,
    "bullet": 5,
}
_NUMBERED = {"hanzi", "paren_han", "paren_num", "arabic", "circled", "ordinal"}

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_HRULE = re.compile(r"^\s*([-*_])(?:\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_SEP = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+(?:\s*:?-{3,}:?\s*)?$")
_HEAD_END = re.compile(r"\*\*|__|[:;,。!?(|]|\s[-–—]\s|[–—]")
_RANK_CELL = re.compile(
    rf"^(?:#?\d{{1,2}}\.?|no\.?\s*\d{{1,2}}|top\s*\d{{1,2}}|第?[{_HAN_NUM}]{{1,3}}名?|[\u2460-\u2473])$"
)


@dataclass(slots=True)
class ListItem:
    """One list item: its extent, the span of its lead (head), depth and 1-based position."""

    kind: str
    start: int
    end: int
    head_start: int
    head_end: int
    depth: int
    position: int = 0


@dataclass(slots=True)
class ParsedList:
    """Sibling items (at least two) of one list, table or heading level."""

    family: str
    depth: int
    items: list[ListItem]

    def as_dict(self) -> dict:
        """JSON-serialisable debug view."""
        return {
            "family": self.family,
            "depth": self.depth,
            "items": [
                {
                    "position": item.position,
                    "start": item.start,
                    "end": item.end,
                    "head": [item.head_start, item.head_end],
                }
                for item in self.items
            ],
        }


@dataclass(slots=True)
class _OpenList:
    family: str
    indent: int
    depth: int
    items: list[ListItem] = field(default_factory=list)
    last_number: int | None = None


@dataclass(slots=True)
class _Heading:
    level: int
    item: ListItem


def _number(token: str) -> int | None:
    if len(token) == 1 and "\u2460" <= token <= "\u2473":
        return ord(token) - 0x2460 + 1
    if token.isascii() and token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if token.startswith("十"):
        return 10 + _HAN_DIGITS.get(token[1:], 0)
    if "十" in token:
        tens, _, units = token.partition("十")
        return _HAN_DIGITS.get(tens, 0) * 10 + _HAN_DIGITS.get(units, 0)
    return _HAN_DIGITS.get(token)


def _marker(line: str) -> tuple[str, int | None, int] | None:
    """(family, number, length of the marker) for an item line, else None."""
    for family, pattern in _MARKERS:
        m = pattern.match(line)
        if m and m.end() < len(line.rstrip()):
            number = _number(m.group(1)) if m.groups() else None
            return family, number, m.end()
    return None


def _head(text: str, start: int, end: int) -> tuple[int, int]:
    """The lead of an item's first line: its bold span, else the text up to the first separator."""
    while start < end and text[start] in " \t":
        start += 1
    if text.startswith(("**", "__"), start):
        close = text.find(text[start : start + 2], start + 2, end)
        if close > start + 2:
            return start + 2, close
    m = _HEAD_END.search(text, start, end)
    stop = m.start() if m and m.start() > start else end
    return start, stop


def _indent(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4
        else:
            break
    return width


class _Parser:
    """Line-by-line Markdown list parser; state lives here so parse_lists stays a function."""

    def __init__(self, text: str, min_items: int = 2) -> None:
        self.min_items = min_items
        self.text = fold(text)
        self.lists: list[ParsedList] = []
        self.open: list[_OpenList] = []
        self.headings: list[_Heading] = []
        self.heading_groups: dict[tuple, list[ListItem]] = {}
        self.table: list[tuple[int, int]] = []
        self.table_header: set[int] = set()
        self.blank_seen = False
        self.interrupted = False
        self.pending_end: int | None = None
        self.in_fence = False

    @property
    def section_depth(self) -> int:
        return len(self.headings)

    def parse(self) -> list[ParsedList]:
        pos = 0
        for line in self.text.split("\n"):
            self._line(pos, pos + len(line))
            pos += len(line) + 1
        self._flush_table()
        self._close_lists(0)
        for heading in self.headings:
            heading.item.end = len(self.text)
        for items in self.heading_groups.values():
            self._finish(items, "heading", items[0].depth if items else 0)
        self.lists.sort(key=lambda lst: lst.items[0].start)
        return self.lists

    def _finish(self, items: list[ListItem], family: str, depth: int) -> None:
        if len(items) < self.min_items:
            return
        for position, item in enumerate(items, start=1):
            item.position = position
        self.lists.append(ParsedList(family, depth, items))

    def _close_lists(self, keep: int) -> None:
        while len(self.open) > keep:
            closed = self.open.pop()
            self._finish(closed.items, closed.family, closed.depth)

    def _extend(self, end: int) -> None:
        for open_list in self.open:
            open_list.items[-1].end = end

    def _line(self, start: int, end: int) -> None:
        line = self.text[start:end]
        stripped = line.strip()
        if _FENCE.match(line):
            self.in_fence = not self.in_fence
        if self.in_fence or _FENCE.match(line):
            self._prose(start, end, _indent(line))
            return
        if not stripped or _HRULE.match(line):
            self._flush_table()
            self.blank_seen = True
            return
        heading = _HEADING.match(line)
        if heading:
            self._flush_table()
            self._close_lists(0)
            self.interrupted = False
            self._heading(start, end, heading)
            self.blank_seen = False
            return
        if _TABLE_ROW.match(line):
            self._close_lists(0)
            self.interrupted = False
            if _TABLE_SEP.match(line):
                if self.table:
                    self.table_header.add(len(self.table) - 1)
            else:
                self.table.append((start, end))
            self.blank_seen = False
            return
        self._flush_table()
        indent = _indent(line)
        marker = _marker(line[indent:])
        if marker:
            self._item(start, end, indent, *marker)
        else:
            self._prose(start, end, indent)
        self.blank_seen = False

    def _heading(self, start: int, end: int, m: re.Match[str]) -> None:
        level = len(m.group(1))
        while self.headings and self.headings[-1].level >= level:
            self.headings.pop().item.end = start
        title_start, title_end = start + m.start(2), start + m.end(2)
        numbered = bool(
            (found := _marker(self.text[title_start:title_end])) and found[0] in _NUMBERED
        )
        # Parent items stay referenced by heading_groups, so their id() is never reused.
        parent = id(self.headings[-1].item) if self.headings else None
        depth = self.section_depth
        item = ListItem("heading", start, end, title_start, title_end, depth)
        key = (parent, level, numbered)
        self.heading_groups.setdefault(key, []).append(item)
        self.headings.append(_Heading(level, item))

    def _flush_table(self) -> None:
        if not self.table:
            return
        items = []
        for index, (start, end) in enumerate(self.table):
            if index in self.table_header:
                continue
            head_start, head_end = self._table_head(start, end)
            items.append(ListItem("table", start, end, head_start, head_end, self.section_depth))
        self._finish(items, "table", self.section_depth)
        self.table = []
        self.table_header = set()

    def _table_head(self, start: int, end: int) -> tuple[int, int]:
        pos = self.text.index("|", start) + 1
        while pos < end:
            stop = self.text.find("|", pos, end)
            if stop < 0:
                break
            cell = self.text[pos:stop]
            value = cell.strip().strip("*_ ").strip()
            if value and not _RANK_CELL.match(value):
                lead = pos + len(cell) - len(cell.lstrip())
                return lead, pos + len(cell.rstrip())
            pos = stop + 1
        return start, end

    def _item(
        self, start: int, end: int, indent: int, family: str, number: int | None, size: int
    ) -> None:
        content = start + indent + size
        head_start, head_end = _head(self.text, content, end)
        if self.interrupted:
            resumed = self._resume(family, indent, number)
            self.interrupted = False
            if resumed is None:
                self._close_lists(0)
            else:
                self._close_lists(resumed + 1)
                if self.pending_end is not None:
                    self._extend(self.pending_end)
        # Drop open lists that can be neither this item's siblings nor its parents.
        while self.open:
            top = self.open[-1]
            same_indent = abs(top.indent - indent) <= 1
            if top.indent > indent + 1 or (
                same_indent and top.family != family and _OUTLINE[family] <= _OUTLINE[top.family]
            ):
                self._close_lists(len(self.open) - 1)
                continue
            break
        top = self.open[-1] if self.open else None
        if top and top.family == family and abs(top.indent - indent) <= 1:
            restart = family in _NUMBERED and number == 1 and top.items
            if not restart:
                item = ListItem("line", start, end, head_start, head_end, top.depth)
                top.items.append(item)
                top.last_number = number
                self._extend(end)
                return
            self._close_lists(len(self.open) - 1)
        depth = (self.open[-1].depth + 1) if self.open else self.section_depth
        new = _OpenList(family, indent, depth, last_number=number)
        new.items.append(ListItem("line", start, end, head_start, head_end, depth))
        self.open.append(new)
        self._extend(end)

    def _resume(self, family: str, indent: int, number: int | None) -> int | None:
        """Index of the open list this item continues after an interrupting paragraph."""
        if family not in _NUMBERED or number is None:
            return None
        for index in range(len(self.open) - 1, -1, -1):
            candidate = self.open[index]
            if (
                candidate.family == family
                and abs(candidate.indent - indent) <= 1
                and candidate.last_number is not None
                and number == candidate.last_number + 1
            ):
                return index
        return None

    def _prose(self, start: int, end: int, indent: int) -> None:
        if not self.open:
            return
        if self.interrupted:
            self.pending_end = end
            return
        if indent > self.open[-1].indent or not self.blank_seen:
            self._extend(end)
            return
        # An unindented paragraph after a blank line ends the list, unless the numbering resumes.
        self.interrupted = True
        self.pending_end = end


def parse_lists(text: str, *, min_items: int = 2) -> list[ParsedList]:
    """All lists of >= ``min_items`` sibling items in ``text``, in order of their first item.

    Ranks use lists of two or more; entity discovery also reads one-item lists (a lone bullet
    under a category still names a place).
    """
    return _Parser(text, min_items).parse()


def list_rank(mentions: Sequence[tuple[int, int]], lists: Sequence[ParsedList]) -> int | None:
    """Position of the item in which a brand is first mentioned as a list item, else None.

    "Mentioned as a list item" is read as: the brand is named in the item's lead (bold lead,
    first clause, heading title or first non-rank table cell). If several items qualify, the
    shallowest wins, then the earliest, so a brand named in passing inside another item's
    sub-bullets is ranked by its own item. A brand named only in the body of list or table
    items takes the rank of the first (outermost) item containing it. A heading item is its
    title only: a section's prose runs on into comparisons and conclusions, so a brand named
    there is not ranked by the heading.
    """
    items = [item for lst in lists for item in lst.items]
    if not items or not mentions:
        return None
    headed = [
        item
        for item in items
        if any(item.head_start <= start < item.head_end for start, _ in mentions)
    ]
    if headed:
        return min(headed, key=lambda item: (item.depth, item.head_start)).position
    bodies = [item for item in items if item.kind != "heading"]
    for start, _ in sorted(mentions):
        inside = [item for item in bodies if item.start <= start < item.end]
        if inside:
            return min(inside, key=lambda item: (item.depth, item.start)).position
    return None


def mention_orders(first_offsets: dict[str, int | None]) -> dict[str, int | None]:
    """1 + the number of brands whose first mention is earlier (None when not mentioned)."""
    return {
        name: (
            None
            if offset is None
            else 1
            + sum(1 for other in first_offsets.values() if other is not None and other < offset)
        )
        for name, offset in first_offsets.items()
    }
