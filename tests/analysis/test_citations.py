import pytest

from records.analysis import BrandSpec, analyse_answer
from records.analysis.citations import normalize_url, registrable_domain

BRANDS = [
    BrandSpec("华夏良子", domains=("huaxialiangzi.com",)),
    BrandSpec("良子", domains=("https://www.liangzi.cn/",)),
]


def citations(text, sources=(), brands=BRANDS):
    return analyse_answer(text, brands, sources=sources)["citations"]


def test_structured_sources_come_first_and_inline_markers_map_to_them_by_index():
    sources = [
        {"url": "https://www.zhihu.com/question/1", "title": "知乎回答"},
        {"url": "https://m.dianping.com/shop/2", "title": "点评"},
        {"url": "https://example.com/3", "title": "三"},
        {"url": "https://example.org/4", "title": "四"},
        {"url": "https://example.net/5", "title": "五"},
    ]
    text = (
        "推荐华夏良子[citation:2]，环境好【3】。Also^4 and [1]. 另见https://baike.baidu.com/item/x"
    )
    found = citations(text, sources)
    assert [(c["domain"], c["kind"]) for c in found] == [
        ("zhihu.com", "inline_marker"),
        ("dianping.com", "inline_marker"),
        ("example.com", "inline_marker"),
        ("example.org", "inline_marker"),
        ("example.net", "structured"),
        ("baidu.com", "bare_url"),
    ]
    assert text[found[1]["start"] : found[1]["end"]] == "[citation:2]"
    assert found[4]["start"] is None and found[0]["site_name"] == "知乎回答"


def test_chatgpt_style_markers_and_marker_lists_map_to_sources():
    sources = [{"url": "https://a.com/"}, {"url": "https://b.com/"}, {"url": "https://c.com/"}]
    found = citations("See 【1†source】 and [2, 3].", sources)
    assert [c["kind"] for c in found] == ["inline_marker"] * 3


def test_markers_without_structured_sources_are_ignored():
    result = analyse_answer("华夏良子很好[1]。", BRANDS)
    assert result["citations"] == [] and result["has_structured_sources"] is False


def test_markdown_links_are_citations_with_their_label():
    link = "[大众点评页面](https://www.dianping.com/shop/1?utm_source=x)"
    found = citations(f"详见{link}。")
    assert found == [
        {
            # A citation in the text: cited, and no returned source's number.
            "index": None,
            "cited": True,
            "url": "https://www.dianping.com/shop/1",
            "domain": "dianping.com",
            "site_name": "大众点评页面",
            "kind": "markdown_link",
            "owner": "third_party",
            "owner_brand": None,
            "start": 2,
            "end": 2 + len(link),
            "attitude": "neutral",
        }
    ]


def test_bare_url_followed_by_chinese_punctuation_is_clean():
    text = "详见https://www.dianping.com/shop/123。"
    (found,) = citations(text)
    assert found["url"] == "https://www.dianping.com/shop/123"
    assert text[found["start"] : found["end"]] == "https://www.dianping.com/shop/123"
    assert found["kind"] == "bare_url" and found["site_name"] == "大众点评"


def test_bare_url_trailing_punctuation_and_unbalanced_brackets_are_stripped():
    found = citations(
        "(see https://en.wikipedia.org/wiki/Shiatsu_(massage)). Or https://x.com/a?b=1, "
        "and [https://y.org/z]."
    )
    assert [c["url"] for c in found] == [
        "https://en.wikipedia.org/wiki/Shiatsu_(massage)",
        "https://x.com/a?b=1",
        "https://y.org/z",
    ]


def test_bare_domain_next_to_han_characters_is_a_citation():
    (found,) = citations("可在meituan.com查看评价")
    assert (found["domain"], found["kind"], found["start"], found["end"]) == (
        "meituan.com",
        "bare_domain",
        2,
        13,
    )


def test_bare_domain_with_path_and_multi_label_suffix():
    (found,) = citations("访问 www.sina.com.cn/news 了解")
    assert found["url"] == "https://www.sina.com.cn/news" and found["domain"] == "sina.com.cn"


def test_email_address_is_not_a_domain_citation():
    assert citations("联系 foo@bar.com 或 someone@mail.example.org") == []


def test_names_without_a_public_suffix_and_file_names_are_not_domains():
    assert citations("see README.md, setup.py, notes.txt, e.g. v1.2 and Node.js") == []


def test_named_chinese_sources_map_to_their_domains():
    found = citations("在知乎、小红书和B站上口碑都不错，大众点评评分4.8。")
    assert [(c["domain"], c["kind"], c["site_name"]) for c in found] == [
        ("zhihu.com", "named_source", "知乎"),
        ("xiaohongshu.com", "named_source", "小红书"),
        ("bilibili.com", "named_source", "B站"),
        ("dianping.com", "named_source", "大众点评"),
    ]


def test_named_english_sources_map_to_their_domains():
    found = citations("Reddit threads and Wirecutter agree.", brands=[BrandSpec("Nike")])
    assert [c["domain"] for c in found] == ["reddit.com", "nytimes.com"]


def test_named_source_already_cited_by_url_is_not_repeated():
    found = citations("大众点评（https://www.dianping.com/shop/9）评分高")
    assert [c["kind"] for c in found] == ["bare_url"]


def test_named_source_that_is_a_tracked_brand_is_a_mention_not_a_citation():
    result = analyse_answer("外卖平台推荐美团和饿了么", [BrandSpec("美团"), BrandSpec("饿了么")])
    assert result["brands"]["美团"]["mentioned"] and result["citations"] == []


def test_bare_domain_that_is_a_brand_name_is_a_mention_not_a_citation():
    result = analyse_answer(
        "monday.com is visual; get ClickUp at clickup.com.",
        [BrandSpec("Monday.com"), BrandSpec("ClickUp")],
    )
    assert result["brands"]["Monday.com"]["mentioned"]
    assert [c["domain"] for c in result["citations"]] == ["clickup.com"]


def test_urls_are_normalised():
    assert (
        normalize_url(
            "HTTPS://M.Dianping.COM:443/Shop/1?utm_source=a&spm=b&from=c&share_id=d&id=7#x"
        )
        == "https://m.dianping.com/Shop/1?id=7"
    )
    assert normalize_url("www.zhihu.com") == "https://www.zhihu.com/"
    assert normalize_url("ftp://x.com/") is None


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("m.dianping.com", "dianping.com"),
        ("news.sina.com.cn", "sina.com.cn"),
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("foo.txt", None),
        ("127.0.0.1", "127.0.0.1"),
    ],
)
def test_registrable_domain(host, domain):
    assert registrable_domain(host) == domain


def test_citations_are_deduplicated_per_answer():
    text = "https://www.zhihu.com/q/1?utm_source=x 和 https://www.zhihu.com/q/1#answer 以及知乎"
    assert [c["url"] for c in citations(text)] == ["https://www.zhihu.com/q/1"]


def test_owner_is_own_competitor_or_third_party():
    sources = [
        {"url": "https://shop.huaxialiangzi.com/a"},
        {"url": "https://liangzi.cn/b"},
        {"url": "https://notliangzi.cn/c"},
    ]
    found = citations("见下", sources)
    assert [(c["owner"], c["owner_brand"]) for c in found] == [
        ("own", "华夏良子"),
        ("competitor", "良子"),
        ("third_party", None),
    ]


def test_citation_attitude_follows_its_sentence():
    found = citations("大众点评上差评很多，避坑。知乎上口碑很好。")
    assert [c["attitude"] for c in found] == ["negative", "positive"]
