"""Discovered entities: the businesses, brands and institutions an answer names (metrics §4).

Tracked brands are only the names the user typed in; answers recommend many more. This module
finds named entities from the answer's own structure, deterministically and with offsets:
list-item leads, table cells (the row's lead and the cells of name columns), enumerations after
如/比如/例如/包括/推荐, bold names and quoted names, plus every tracked-brand match. Each entity is
``{name, surface, start, end, role, rank, tracked, via, count}``:

- ``role`` is ``recommended`` (offered as a place or product to go for: a list item, a table row,
  an inline example, a bold or quoted name in a recommending sentence), ``source`` (an
  information source such as 大众点评, 小红书, 知乎) or ``other`` (named in passing, or to avoid);
- ``rank`` is the position of the list item or table row whose lead the entity is;
- ``tracked`` is the tracked brand's name when the entity is one, else null.

Generic categories (公立医院推拿科, 盲人按摩店, 中医馆), places (朝阳区), item labels (特点, 价格)
and phrases (注重标准化服务) are not entities. Names are keyed with the alias suffix rules of
:mod:`records.analysis.brands` (华夏良子(朝阳店), 固生堂中医馆 → 华夏良子, 固生堂).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from records.analysis.entities.finder import (
    _Candidate,
    _Finder,
    _without_groupings,
)
from records.analysis.entities.lexicon import (
    _INFO_CUE,
    _ROLE_PRIORITY,
    ROLES,
    SOURCE_NAMES,
)
from records.analysis.entities.names import (
    _generic_for,
    _prose_role,
    entity_key,
    generic_pattern,
    is_entity_name,
)
from records.analysis.normalize import normalize
from records.analysis.ranking import ParsedList, parse_lists

__all__ = [
    "ROLES",
    "SOURCE_NAMES",
    "aggregate_entities",
    "entity_key",
    "extract_entities",
    "generic_pattern",
    "is_entity_name",
]


def _source_names() -> re.Pattern[str]:
    return re.compile(
        "|".join(
            (r"(?<![a-z0-9])" + re.escape(name) if name[0].isascii() else re.escape(name))
            + (r"(?![a-z0-9])" if name[-1].isascii() else "")
            for name in sorted(SOURCE_NAMES, key=len, reverse=True)
        )
    )


_SOURCES = _source_names()


def extract_entities(
    text: str,
    lists: Sequence[ParsedList],
    tracked: Sequence[tuple[str, int, int]] = (),
    exclude: Sequence[tuple[int, int]] = (),
    categories: Sequence[str] = (),
) -> list[dict]:
    """Entities of one answer, one per name, in text order.

    ``lists`` are the answer's parsed lists, ``tracked`` the accepted tracked-brand matches as
    (brand name, start, end), ``exclude`` spans that hold no entity (URLs), ``categories`` the
    run's category words (a generic name may be built from them: 大型驾校).
    """
    # One-item lists count here (a lone bullet under a category names a place), not for ranks.
    lists = parse_lists(text, min_items=1)
    finder = _Finder(text, lists, _generic_for(tuple(categories)))
    finder.taken.extend(exclude)
    finder.heads()
    finder.table_cells()
    finder.enumerations()
    finder.marked()
    norm = finder.norm
    candidates = _without_groupings(finder.candidates, text)
    # Information sources: a source name is a source unless it heads an item that offers it
    # as a place to go (a booking platform with no reviews or searching mentioned).
    items = [item for lst in lists for item in lst.items]
    source_spans = []
    for m in _SOURCES.finditer(norm):
        if any(s < m.end() and m.start() < e for s, e in exclude):
            continue
        source_spans.append(m.span())
    for candidate in candidates:
        key = entity_key(text[candidate.start : candidate.end])
        if key not in SOURCE_NAMES:
            continue
        owner = next(
            (i for i in items if i.head_start <= candidate.start < max(i.head_end, candidate.end)),
            None,
        )
        offered = owner is not None and not _INFO_CUE.search(norm, owner.head_end, owner.end)
        if not (candidate.via in {"list", "table"} and offered):
            candidate.role, candidate.rank = "source", None
    for start, end in source_spans:
        if not any(c.start < end and start < c.end for c in candidates):
            candidates.append(_Candidate(start, end, "source", "source"))
    # Tracked brands: flag the candidate that holds the match, or add the match itself.
    for brand, start, end in tracked:
        holder = next(
            (c for c in candidates if c.start <= start < c.end or start <= c.start < end), None
        )
        if holder is not None:
            holder.tracked = holder.tracked or brand
            continue
        candidates.append(
            _Candidate(start, end, "tracked", _prose_role(norm, start, end), None, brand)
        )

    groups: dict[str, list[_Candidate]] = defaultdict(list)
    for candidate in sorted(candidates, key=lambda c: c.start):
        name = candidate.tracked or entity_key(text[candidate.start : candidate.end])
        groups[name].append(candidate)
    entities = []
    for name, found in groups.items():
        role = min((c.role for c in found), key=_ROLE_PRIORITY.__getitem__)
        best = [c for c in found if c.role == role]
        ranked = [c for c in best if c.rank is not None]
        chosen = ranked[0] if ranked else best[0]
        tracked_brand = next((c.tracked for c in found if c.tracked), None)
        key = normalize(entity_key(text[chosen.start : chosen.end]))
        entities.append(
            {
                "name": name,
                "surface": text[chosen.start : chosen.end],
                "start": chosen.start,
                "end": chosen.end,
                "role": role,
                "rank": chosen.rank if role == "recommended" else None,
                "tracked": tracked_brand,
                "via": chosen.via,
                "count": max(len(found), norm.count(key) if key else 0),
            }
        )
    entities.sort(key=lambda e: e["start"])
    return entities


def aggregate_entities(
    answers: Iterable[tuple[str, Mapping | None]], *, limit: int | None = None
) -> list[dict]:
    """Entities ranked by how often they are recommended across answers.

    ``answers`` are (platform, analysis) pairs of valid answers. Per name: ``answers`` (how many
    recommend it), ``platforms`` (which), ``mean_rank`` over the answers that rank it (with
    ``ranked_n``), ``mentions`` (answers naming it in any role) and ``tracked``. Sorted by
    answers, then mean rank, then name.
    """
    stats: dict[str, dict] = {}
    for platform, analysis in answers:
        for entity in (analysis or {}).get("entities") or ():
            row = stats.setdefault(
                entity["name"],
                {
                    "name": entity["name"],
                    "answers": 0,
                    "mentions": 0,
                    "platforms": set(),
                    "ranks": [],
                    "tracked": entity.get("tracked"),
                },
            )
            row["mentions"] += 1
            if entity["role"] != "recommended":
                continue
            row["answers"] += 1
            row["platforms"].add(platform)
            if entity.get("rank") is not None:
                row["ranks"].append(entity["rank"])
    rows = []
    for row in stats.values():
        if not row["answers"]:
            continue
        ranks = row.pop("ranks")
        rows.append(
            row
            | {
                "platforms": sorted(row["platforms"]),
                "mean_rank": round(sum(ranks) / len(ranks), 2) if ranks else None,
                "ranked_n": len(ranks),
            }
        )
    rows.sort(
        key=lambda r: (
            -r["answers"],
            r["mean_rank"] if r["mean_rank"] is not None else 1e9,
            r["name"],
        )
    )
    return rows[:limit] if limit is not None else rows
