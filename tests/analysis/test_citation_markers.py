"""Sources a platform returned: inline markers resolved to them by index, cited versus retrieved
(docs/metrics.md §6), and the citation panel that keeps the two apart."""

import pytest

from records.analysis import BrandSpec, analyse_answer, score_execution
from records.analysis.citations import extract_citations

BRANDS = [BrandSpec("Acme", domains=("acme.com",)), BrandSpec("Globex", domains=("globex.com",))]
SOURCES = [
    # Numbered by the platform, not by position: markers refer to these numbers.
    {"index": 3, "url": "https://www.zhihu.com/question/1", "title": "知乎", "cited": None},
    {"index": 7, "url": "https://www.acme.com/about", "title": "Acme", "cited": None},
    {"index": 9, "url": "https://www.dianping.com/shop/2", "title": "点评", "cited": None},
]


def by_domain(citations):
    return {c.domain: c for c in citations}


@pytest.mark.parametrize("marker", ["[7]", "[citation:7]", "【7】", "^7", "[^7]", "【7†source】"])
def test_each_marker_style_resolves_to_the_source_with_that_index(marker):
    text = f"Acme is the best choice{marker}."
    citations, structured = extract_citations(text, SOURCES, [("Acme", ["acme.com"])])
    found = by_domain(citations)
    assert structured is True
    own = found["acme.com"]
    assert (own.index, own.cited, own.kind, own.owner) == (7, True, "inline_marker", "own")
    assert text[own.start : own.end] == marker
    # The other two came back from the search but the answer never cites them.
    assert found["zhihu.com"].cited is False and found["zhihu.com"].index == 3
    assert found["dianping.com"].cited is False and found["dianping.com"].kind == "structured"


def test_a_marker_with_no_such_source_cites_nothing():
    citations, _ = extract_citations("Acme [2] and Globex [1, 4].", SOURCES)
    assert all(c.cited is False for c in citations)


def test_without_indexes_markers_count_positions_and_list_markers_cite_several():
    sources = [{"url": s["url"], "title": s["title"]} for s in SOURCES]
    citations, _ = extract_citations("Acme [1, 3] is popular.", sources)
    cited = {c.domain for c in citations if c.cited}
    assert cited == {"zhihu.com", "dianping.com"}


def test_the_platforms_own_cited_flag_and_a_link_in_the_text_also_cite():
    sources = [
        {"index": 1, "url": "https://www.zhihu.com/question/1", "cited": True},
        {"index": 2, "url": "https://www.dianping.com/shop/2", "cited": False},
        {"index": 3, "url": "https://www.acme.com/about", "cited": None},
    ]
    text = "Acme, see https://www.acme.com/about for opening hours."
    found = by_domain(extract_citations(text, sources)[0])
    assert found["zhihu.com"].cited is True  # flagged by the platform
    assert found["acme.com"].cited is True  # the text links the returned source
    assert found["dianping.com"].cited is False


def test_analysis_stores_index_and_cited_and_plain_text_citations_stay_cited():
    result = analyse_answer(
        "Acme【7】 is well reviewed; also see globex.com.", BRANDS, sources=SOURCES
    )
    rows = {c["domain"]: c for c in result["citations"]}
    assert (rows["acme.com"]["index"], rows["acme.com"]["cited"]) == (7, True)
    assert rows["globex.com"]["cited"] is True and rows["globex.com"]["index"] is None
    assert rows["globex.com"]["owner"] == "competitor"
    assert rows["zhihu.com"]["cited"] is False
    plain = analyse_answer("Acme, per https://www.zhihu.com/question/1 .", BRANDS)
    assert [(c["domain"], c["cited"]) for c in plain["citations"]] == [("zhihu.com", True)]
    assert plain["has_structured_sources"] is False


def _answer(platform, q, text, sources=()):
    return {
        "platform": platform,
        "question_index": q,
        "run_index": 0,
        "valid": True,
        "analysis": analyse_answer(text, BRANDS, sources=list(sources)),
    }


def test_the_panel_keeps_retrieved_domains_apart_and_owned_rate_counts_only_cited():
    answers = [
        # Cites its own site; zhihu and dianping only retrieved.
        _answer("search", 0, "Acme [7] leads.", SOURCES),
        # Cites zhihu; acme.com only retrieved: not an owned citation.
        _answer("search", 1, "Globex [3] is cheaper.", SOURCES),
        # Came back without sources: still in the platform's denominator.
        _answer("search", 2, "Acme and Globex."),
        _answer("plain", 0, "Acme, see zhihu.com."),
    ]
    panel = score_execution(answers, ["Acme", "Globex"], ["search", "plain"])["citations"]
    search = panel["search"]
    assert (search["answers"], search["answers_with_sources"]) == (3, 2)
    assert search["owned_citation_rate"] == pytest.approx(1 / 3, abs=1e-6)
    cited = {r["domain"]: r["answers"] for r in search["domains"]}
    retrieved = {r["domain"]: r["answers"] for r in search["retrieved_domains"]}
    assert cited == {"acme.com": 1, "zhihu.com": 1}
    assert retrieved == {"acme.com": 1, "zhihu.com": 1, "dianping.com": 2}
    assert search["citation_rate"] == pytest.approx(2 / 3, abs=1e-6)
    plain = panel["plain"]
    assert plain["returns_sources"] is False and plain["owned_citation_rate"] == "n/a"
    assert plain["retrieved_domains"] == [] and plain["domains"][0]["citation_rate"] == "n/a"


def test_a_returned_sources_site_name_names_the_citation():
    sources = [
        {"index": 1, "url": "https://www.zhihu.com/q/1", "title": "某问题", "site_name": "知乎"}
    ]
    (found,) = extract_citations("见[1]。", sources)[0]
    assert found.site_name == "知乎"
    (titled,) = extract_citations("见[1]。", [{"url": "https://a.com/x", "title": "A page"}])[0]
    assert titled.site_name == "A page"


def test_a_grounding_redirect_is_classified_by_the_domain_its_site_name_gives():
    redirect = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/AbC"
    sources = [
        {"index": 1, "url": redirect + "1", "title": "huaxialiangzi.com", "cited": True},
        {"index": 2, "url": redirect + "2", "title": "大众点评", "cited": True},
    ]
    citations, structured = extract_citations(
        "华夏良子口碑好。", sources, [("华夏良子", ["huaxialiangzi.com"])]
    )
    assert structured
    own, other = citations
    assert (own.domain, own.owner, own.url) == ("huaxialiangzi.com", "own", redirect + "1")
    # A site name that is not a domain leaves the redirect's own host.
    assert (other.domain, other.owner) == ("google.com", "third_party")
