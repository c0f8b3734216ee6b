"""Citation extraction, URL normalisation and owner classification (docs/metrics.md §6)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList

from records.analysis.normalize import normalize

_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*(https?://(?:[^()\s]|\([^()\s]*\))+)\s*\)", re.I)
_BARE_DOMAIN = re.compile(
    r"(?<![@A-Za-z0-9._-])((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})"
    r"(?![A-Za-z0-9-]|\.[A-Za-z0-9]|@)((?:/[A-Za-z0-9\-._~/%?=&+]*)?)"
)
_MARKER = re.compile(
    r"\[citation:\s*(\d{1,3})\]|【(\d{1,3})(?:†[^】]*)?】|\[\^(\d{1,3})\]|\^\[?(\d{1,3})\]?|"
    r"\[(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\](?!\()"
)
_TRAILING = ".,;:!?'\""
_TRACKING_PARAMS = {"spm", "from"}
_TRACKING_PREFIXES = ("utm_", "share_")
# Real TLDs that are far more often file extensions in prose ("README.md", "main.py").
_FILE_LIKE_TLDS = {"md", "py", "sh", "zip", "mov", "rs", "pl", "ps", "so", "cc", "js"}

# Named sources (6): spelling in answers (normalised) -> (canonical URL, site name).
NAMED_SOURCES: dict[str, tuple[str, str]] = {
    "知乎": ("https://www.zhihu.com/", "知乎"),
    "小红书": ("https://www.xiaohongshu.com/", "小红书"),
    "大众点评": ("https://www.dianping.com/", "大众点评"),
    "美团": ("https://www.meituan.com/", "美团"),
    "百度百科": ("https://baike.baidu.com/", "百度百科"),
    "百度贴吧": ("https://tieba.baidu.com/", "百度贴吧"),
    "抖音": ("https://www.douyin.com/", "抖音"),
    "b站": ("https://www.bilibili.com/", "B站"),
    "哔哩哔哩": ("https://www.bilibili.com/", "哔哩哔哩"),
    "微博": ("https://weibo.com/", "微博"),
    "微信公众号": ("https://mp.weixin.qq.com/", "微信公众号"),
    "什么值得买": ("https://www.smzdm.com/", "什么值得买"),
    "携程": ("https://www.ctrip.com/", "携程"),
    "今日头条": ("https://www.toutiao.com/", "今日头条"),
    "豆瓣": ("https://www.douban.com/", "豆瓣"),
    "汽车之家": ("https://www.autohome.com.cn/", "汽车之家"),
    "懂车帝": ("https://www.dongchedi.com/", "懂车帝"),
    "中关村在线": ("https://www.zol.com.cn/", "中关村在线"),
    "马蜂窝": ("https://www.mafengwo.cn/", "马蜂窝"),
    "好大夫在线": ("https://www.haodf.com/", "好大夫在线"),
    "丁香医生": ("https://dxy.com/", "丁香医生"),
    "虎扑": ("https://www.hupu.com/", "虎扑"),
    "黑猫投诉": ("https://tousu.sina.com.cn/", "黑猫投诉"),
    "reddit": ("https://www.reddit.com/", "Reddit"),
    "wikipedia": ("https://www.wikipedia.org/", "Wikipedia"),
    "youtube": ("https://www.youtube.com/", "YouTube"),
    "runrepeat": ("https://runrepeat.com/", "RunRepeat"),
    "wirecutter": ("https://www.nytimes.com/wirecutter/", "Wirecutter"),
    "consumer reports": ("https://www.consumerreports.org/", "Consumer Reports"),
    "rtings": ("https://www.rtings.com/", "RTINGS"),
    "gsmarena": ("https://www.gsmarena.com/", "GSMArena"),
    "dxomark": ("https://www.dxomark.com/", "DXOMARK"),
    "tripadvisor": ("https://www.tripadvisor.com/", "Tripadvisor"),
    "yelp": ("https://www.yelp.com/", "Yelp"),
    "trustpilot": ("https://www.trustpilot.com/", "Trustpilot"),
}
# Display names for well-known hosts, so a bare URL gets a readable site_name.
_HOST_NAMES: dict[str, str] = {
    (urlsplit(url).hostname or "").removeprefix("www."): name
    for url, name in NAMED_SOURCES.values()
    if urlsplit(url).path in {"", "/"}
}
_HOST_NAMES.update(
    {"baidu.com": "百度", "jd.com": "京东", "taobao.com": "淘宝", "tmall.com": "天猫"}
)
_NAMED = re.compile(
    "|".join(
        (r"(?<![a-z0-9])" + re.escape(name) if name[0].isascii() else re.escape(name))
        + (r"(?![a-z0-9])" if name[-1].isascii() else "")
        for name in sorted(NAMED_SOURCES, key=len, reverse=True)
    )
)


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # Only known suffixes count: "foo.txt" is not a domain.
    return PublicSuffixList(accept_unknown=False)


@dataclass(slots=True)
class Citation:
    """One cited source in an answer."""

    url: str
    domain: str
    site_name: str
    kind: str
    start: int | None = None
    end: int | None = None
    owner: str = "third_party"
    owner_brand: str | None = None
    attitude: str = "neutral"
    # A structured source's number (what the answer's markers refer to); None for a citation
    # found in the text only.
    index: int | None = None
    # False for a source the platform returned but the answer never cites (no marker, no link,
    # not flagged cited by the platform): retrieved, not cited. Text citations are cited.
    cited: bool = True

    def as_dict(self) -> dict:
        """JSON-serialisable form (the analysis contract)."""
        return {
            "index": self.index,
            "cited": self.cited,
            "url": self.url,
            "domain": self.domain,
            "site_name": self.site_name,
            "kind": self.kind,
            "owner": self.owner,
            "owner_brand": self.owner_brand,
            "start": self.start,
            "end": self.end,
            "attitude": self.attitude,
        }


def registrable_domain(host: str) -> str | None:
    """eTLD+1 of ``host`` by the public suffix list (m.dianping.com -> dianping.com)."""
    host = host.lower().strip(".")
    if not host:
        return None
    if re.fullmatch(r"[\d.]+|\[[0-9a-f:]+\]", host):
        return host
    return _psl().privatesuffix(host)


def normalize_url(url: str) -> str | None:
    """Canonical form: lower-case scheme and host, no fragment, no tracking parameters."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not host:
        return None
    netloc = host.lower() + (f":{port}" if port and port not in {80, 443} else "")
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in _TRACKING_PARAMS and not key.lower().startswith(_TRACKING_PREFIXES)
    ]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def _strip_trailing(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets from a bare URL."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        elif last == "]" and url.count("]") > url.count("["):
            url = url[:-1]
        else:
            break
    return url


def _host_key(domain: str) -> str:
    value = domain.strip().lower()
    if "://" not in value:
        value = "http://" + value
    host = urlsplit(value).hostname or ""
    return host.removeprefix("www.")


# Hosts whose URLs only redirect to the cited page; the platform names the page's site apart
# (Gemini's grounding chunks: the uri is a vertexaisearch redirect, the title is the domain).
_REDIRECT_HOSTS = frozenset({"vertexaisearch.cloud.google.com"})
_DOMAIN_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}")


def _redirect_target(host: str, site_name: str | None) -> str | None:
    """The host a redirect URL stands for, when its site name is a domain; else None."""
    if host not in _REDIRECT_HOSTS or not site_name:
        return None
    name = site_name.strip().lower().removeprefix("www.")
    return name if _DOMAIN_NAME.fullmatch(name) else None


def _site_name(host: str, domain: str) -> str:
    host = host.removeprefix("www.")
    return _HOST_NAMES.get(host) or _HOST_NAMES.get(domain) or domain


class _Collector:
    def __init__(self, brand_domains: Sequence[tuple[str, Sequence[str]]]) -> None:
        self.citations: list[Citation] = []
        self.by_url: dict[str, Citation] = {}
        self.owners = [
            (name, key) for name, domains in brand_domains for d in domains if (key := _host_key(d))
        ]
        self.main = brand_domains[0][0] if brand_domains else None

    def add(
        self,
        raw_url: str,
        kind: str,
        site_name: str | None = None,
        span: tuple[int, int] | None = None,
    ) -> Citation | None:
        url = normalize_url(raw_url)
        if url is None:
            return None
        if url in self.by_url:
            found = self.by_url[url]
            if kind != "structured":
                found.cited = True  # a returned source the text also links to
            return found
        host = urlsplit(url).hostname or ""
        # A redirect is classified by the site it leads to (the URL itself is kept).
        host = _redirect_target(host, site_name) or host
        domain = registrable_domain(host)
        if domain is None:
            return None
        citation = Citation(
            url=url,
            domain=domain,
            site_name=site_name or _site_name(host, domain),
            kind=kind,
            start=span[0] if span else None,
            end=span[1] if span else None,
        )
        for brand, key in self.owners:
            if host == key or host.endswith("." + key):
                citation.owner = "own" if brand == self.main else "competitor"
                citation.owner_brand = brand
                break
        self.by_url[url] = citation
        self.citations.append(citation)
        return citation


def url_spans(text: str) -> list[tuple[int, int]]:
    """Spans of link targets and bare URLs (brand names inside them are not mentions)."""
    spans = [m.span(2) for m in _MD_LINK.finditer(text)]
    for m in _URL.finditer(text):
        if not _overlaps(m.span(), spans):
            spans.append((m.start(), m.start() + len(_strip_trailing(m.group()))))
    return spans


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _structured_sources(collector: _Collector, sources: Sequence[Mapping]) -> dict[int, Citation]:
    """Add the platform's sources (§6 (1)); returns them by the number markers use: the
    source's own ``index`` where it gives one, else its 1-based position. A source starts as
    retrieved only, cited when the platform flags it (``cited: true``) or the text cites it."""
    by_index: dict[int, Citation] = {}
    for position, source in enumerate(sources, 1):
        url = source.get("url") if isinstance(source, Mapping) else None
        if not url:
            continue
        # The site's name where the platform gives one, else the page title.
        name = source.get("site_name") or source.get("title")
        citation = collector.add(str(url), "structured", str(name) if name else None)
        if citation is None:
            continue
        index = source.get("index")
        index = index if isinstance(index, int) and not isinstance(index, bool) else position
        if citation.kind == "structured" and citation.index is None:
            citation.index = index
            citation.cited = source.get("cited") is True
        elif source.get("cited") is True:
            citation.cited = True
        by_index.setdefault(index, citation)
    return by_index


def extract_citations(
    text: str,
    sources: Sequence[Mapping] = (),
    brand_domains: Sequence[tuple[str, Sequence[str]]] = (),
    brand_spans: Sequence[tuple[int, int]] = (),
) -> tuple[list[Citation], bool]:
    """Citations of one answer, deduplicated, in the order of §6; and whether it had sources.

    ``brand_domains`` is [(brand name, its domains)], main brand first. ``brand_spans`` are the
    accepted brand matches: a named source that is itself a tracked brand (美团 in a question
    about food delivery), or a bare domain that is a brand's name ("monday.com"), is a
    mention, not a citation.
    """
    collector = _Collector(brand_domains)
    by_index = _structured_sources(collector, sources)
    has_structured = bool(by_index)

    for m in _MARKER.finditer(text):
        numbers = next(g for g in m.groups() if g is not None)
        for token in re.split(r"\s*[,，]\s*", numbers):
            if (cited := by_index.get(int(token))) is not None:
                cited.cited = True
                if cited.kind == "structured":
                    cited.kind = "inline_marker"
                    cited.start, cited.end = m.span()

    taken: list[tuple[int, int]] = []
    for m in _MD_LINK.finditer(text):
        label = m.group(1).strip()
        name = label if label and not label.lower().startswith(("http://", "https://")) else None
        collector.add(m.group(2), "markdown_link", name, m.span())
        taken.append(m.span())

    for m in _URL.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        url = _strip_trailing(m.group())
        span = (m.start(), m.start() + len(url))
        collector.add(url, "bare_url", None, span)
        taken.append(span)

    for m in _BARE_DOMAIN.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        host = m.group(1).lower()
        suffix = _psl().publicsuffix(host)
        if suffix is None or suffix in _FILE_LIKE_TLDS or _psl().privatesuffix(host) is None:
            continue
        path = _strip_trailing(m.group(2))
        span = (m.start(), m.start(1) + len(m.group(1)) + len(path))
        if any(s <= span[0] and span[1] <= e for s, e in brand_spans):
            continue
        collector.add(f"https://{host}{path}", "bare_domain", None, span)
        taken.append(span)

    cited_domains = {c.domain for c in collector.citations}
    norm = normalize(text)
    for m in _NAMED.finditer(norm):
        if _overlaps(m.span(), taken) or _overlaps(m.span(), list(brand_spans)):
            continue
        url, site = NAMED_SOURCES[m.group()]
        if registrable_domain(urlsplit(url).hostname or "") in cited_domains:
            continue
        cited = collector.add(url, "named_source", site, m.span())
        if cited is not None:
            cited_domains.add(cited.domain)
    return collector.citations, has_structured
