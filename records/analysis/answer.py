"""Analysis of one answer: mentions, positions, ranks, sentiment and citations (§1-§6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from records.analysis.brands import BrandSpec, brand_matcher
from records.analysis.citations import extract_citations, url_spans
from records.analysis.entities import extract_entities
from records.analysis.normalize import normalize
from records.analysis.ranking import list_rank, mention_orders, parse_lists
from records.analysis.sentiment import analyse_sentiment, sentence_attitude

ANALYZER_VERSION = "analyzer-1.2"


def analyse_answer(
    text: str,
    brands: Sequence[BrandSpec],
    *,
    sources: Sequence[Mapping] = (),
    context_words: Sequence[str] = (),
) -> dict:
    """Analyse one answer for every tracked brand; ``brands[0]`` is the main brand.

    ``sources`` are the structured sources the platform returned (``[{"url", "title"}]``);
    ``context_words`` are category words that let short or common aliases count. The result is
    JSON-serialisable and every offset points into ``text`` (normalisation preserves length).
    """
    if not brands:
        raise ValueError("at least one brand is required")
    names = [brand.name for brand in brands]
    if len(set(names)) != len(names):
        raise ValueError("brand names must be unique")

    norm = normalize(text)
    lists = parse_lists(text)
    matches = brand_matcher(brands, context_words).find(
        norm,
        text,
        heads=[(item.head_start, item.head_end) for lst in lists for item in lst.items],
        exclude=url_spans(text),
    )
    spans: dict[str, list[tuple[int, int]]] = {name: [] for name in names}
    by_brand: dict[str, list[list]] = {name: [] for name in names}
    for match in matches:
        name = names[match.brand]
        spans[name].append((match.start, match.end))
        by_brand[name].append([match.alias, match.start, match.end])

    first_offsets = {name: (spans[name][0][0] if spans[name] else None) for name in names}
    orders = mention_orders(first_offsets)
    item_scopes = {
        name: [
            (item.start, item.end)
            for lst in lists
            for item in lst.items
            if any(item.head_start <= start < item.head_end for start, _ in spans[name])
        ]
        for name in names
    }
    sentiments = analyse_sentiment(text, norm, spans, item_scopes)

    result_brands = {}
    for name in names:
        mentioned = bool(spans[name])
        ranked_by_list = list_rank(spans[name], lists) if mentioned else None
        rank = ranked_by_list if ranked_by_list is not None else orders[name]
        first = first_offsets[name]
        result_brands[name] = {
            "mentioned": mentioned,
            "mention_count": len(spans[name]),
            "matches": by_brand[name],
            "first_offset": first,
            "rel_pos": (first / len(text)) if first is not None and text else None,
            "mention_order": orders[name],
            "list_rank": ranked_by_list,
            "rank": rank,
            "rank_method": (
                None if not mentioned else "list" if ranked_by_list is not None else "mention_order"
            ),
            "sentiment": sentiments.get(name) if mentioned else None,
        }

    citations, has_structured = extract_citations(
        text,
        sources,
        [(brand.name, brand.domains) for brand in brands],
        [(m.start, m.end) for m in matches],
    )
    for citation in citations:
        if citation.start is not None:
            citation.attitude = sentence_attitude(norm, citation.start)

    entities = extract_entities(
        text,
        lists,
        [(names[m.brand], m.start, m.end) for m in matches],
        exclude=url_spans(text),
        categories=context_words,
    )

    return {
        "analyzer_version": ANALYZER_VERSION,
        "length": len(text),
        "brands": result_brands,
        "lists": [lst.as_dict() for lst in lists],
        "citations": [citation.as_dict() for citation in citations],
        "has_structured_sources": has_structured,
        "entities": entities,
    }
