"""The offline ``demo`` platform: deterministic synthetic answers, clearly labelled as such.

It lets a new user watch a whole run with no API keys. The text looks like a real assistant's
answer (a numbered list naming brands, including untracked ones, a prose caveat and cited URLs)
so that the analysis has something realistic to measure, but every reply is marked synthetic.

A monitor's run (a prompt with a ``day``) follows slow deterministic waves by date, so a demo
monitor's history shows visibility rising and falling and brands overtaking each other; a
one-off test does not depend on the date.

In ``search`` mode it answers as a searching assistant does: numbered sources it "retrieved"
(review sites and, now and then, a tracked brand's own site), inline markers ([1], 【2】,
[citation:3]) pointing at some of them, others retrieved but never cited, the web queries it
"ran" and one billable search call, so the whole search pipeline can be watched offline.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import threading
from datetime import date
from urllib.parse import quote

from records.engine.base import Prompt, Reply

DEMO_MODEL = "demo-synthetic-1"

# Brands an assistant would also recommend; they are not tracked, so they compete for rank.
_UNTRACKED_ZH = ("百年老字号", "康源堂", "仁和馆", "悦康坊")
_UNTRACKED_EN = ("Northwind", "Contoso", "Fabrikam", "Tailspin")
_PRAISE_ZH = (
    "口碑很好，推荐",
    "服务专业，值得一试",
    "性价比高，评价不错",
    "环境整洁，技师经验丰富",
)
_PRAISE_EN = ("well reviewed and recommended", "good value", "consistently praised by customers")
_CAVEAT_ZH = ("一般，部分用户反映排队时间较长", "不推荐首次体验选择高价套餐")
_CAVEAT_EN = ("average; some reviews mention long waits", "not recommended for first-time buyers")
_SOURCES = (
    "https://www.dianping.com/search/keyword/2/0_{q}",
    "https://www.zhihu.com/question/{n}",
    "https://www.xiaohongshu.com/explore/{n}",
    "https://baike.baidu.com/item/{q}",
)

# What a search-mode answer "retrieved": (URL template, title, site name).
_SEARCH_SOURCES = (
    ("https://www.dianping.com/search/keyword/2/0_{q}", "{topic} - 大众点评", "大众点评"),
    ("https://www.zhihu.com/question/{n}", "{topic}？ - 知乎", "知乎"),
    ("https://www.xiaohongshu.com/explore/{n}", "{topic}｜亲测推荐 - 小红书", "小红书"),
    ("https://baike.baidu.com/item/{q}", "{topic} - 百度百科", "百度百科"),
)
# Inline marker styles platforms use, in the order the demo cycles through them.
_MARKERS_ZH = ("【{i}】", "[{i}]", "[citation:{i}]")
_MARKERS_EN = ("[{i}]", "[citation:{i}]", "^{i}")

_HAN = re.compile(r"[\u4e00-\u9fff]")
_SLUG = re.compile(r"[^a-z0-9]+")


class DemoAdapter:
    """Answers offline after a small configurable latency; the same prompt gives the same text."""

    access_modes: tuple[str, ...] = ("plain", "search")

    platform = "demo"

    def __init__(self, *, latency_ms: int = 300, cancel_event: threading.Event | None = None):
        self.latency_ms = latency_ms
        # Waiting on an event (rather than sleeping) lets a stopping runner wake us early.
        self._wait = (cancel_event or threading.Event()).wait

    def ask(self, prompt: Prompt) -> Reply:
        if prompt.access_mode not in self.access_modes:
            raise ValueError(f"the demo platform has no {prompt.access_mode!r} mode")
        rng = random.Random(hashlib.sha256(f"{prompt.seed}|{prompt.question}".encode()).digest())
        latency = int(self.latency_ms * rng.uniform(0.6, 1.4)) if self.latency_ms else 0
        if latency:
            self._wait(latency / 1000)
        if prompt.access_mode == "search":
            text, sources, queries = synthesise_search_answer(prompt, rng)
        else:
            text, sources, queries = synthesise_answer(prompt, rng), [], []
        return Reply(
            text=text,
            model=DEMO_MODEL,
            latency_ms=latency,
            prompt_tokens=len(prompt.question),
            completion_tokens=len(text),
            sources=sources,
            web_queries=queries,
            search_calls=1 if prompt.access_mode == "search" else 0,
            synthetic=True,
        )


def presence(index: int, day: date) -> float:
    """How likely tracked brand ``index`` (0 = the main brand) is to be named on ``day``.

    Slow waves of different periods and phases, so over a few weeks the main brand rises and
    falls and competitors overtake it now and then; always between 0.1 and 0.95.
    """
    t = day.toordinal()
    if index == 0:
        wave = 0.55 + 0.3 * math.sin(2 * math.pi * t / 42) + 0.08 * math.sin(2 * math.pi * t / 9)
    else:
        period = 35 + 11 * index
        wave = 0.6 + 0.25 * math.sin(2 * math.pi * t / period + 2.1 * index)
    return min(0.95, max(0.1, wave))


def _entries_of_the_day(
    tracked: list[str], day: date, rng: random.Random, chinese: bool
) -> list[str]:
    """The names a monitor's answer lists on ``day``: each tracked brand with its presence of
    the day, ranked higher the more present it is, among two untracked names."""
    weights = {brand: presence(i, day) for i, brand in enumerate(tracked)}
    named = [brand for brand in tracked if rng.random() < weights[brand]]
    untracked = rng.sample(_UNTRACKED_ZH if chinese else _UNTRACKED_EN, 2)
    weights |= dict.fromkeys(untracked, 0.45)
    # A noisy sort: the more present a brand is that day, the nearer the top it tends to be.
    return sorted(named + untracked, key=lambda name: rng.random() - weights[name])


def _entries(prompt: Prompt, rng: random.Random, chinese: bool) -> list[str]:
    """The names an answer lists, in order (by the day's presence for a monitor's run)."""
    tracked = list(prompt.brands)
    if prompt.day is None:
        # Each tracked brand is left out now and then, so mention rates are not all 100%.
        named = [brand for brand in tracked if rng.random() > 0.2] or tracked[:1]
        entries = named + rng.sample(_UNTRACKED_ZH if chinese else _UNTRACKED_EN, 2)
        rng.shuffle(entries)
        return entries
    return _entries_of_the_day(tracked, prompt.day, rng, chinese)


def _is_chinese(prompt: Prompt) -> bool:
    return bool(_HAN.search(prompt.question)) or any(_HAN.search(b) for b in prompt.brands)


def demo_brand_site(brand: str) -> str:
    """The synthetic own site of a tracked brand: ``acme.com`` for "Acme"; a name without
    Latin letters gets a stable made-up one (``brand-1a2b3c.cn``). A monitor that lists this
    domain for the brand sees the demo cite its own site."""
    slug = _SLUG.sub("-", brand.lower()).strip("-")
    if slug:
        return f"{slug}.com"
    return f"brand-{hashlib.sha256(brand.encode()).hexdigest()[:6]}.cn"


def synthesise_search_answer(
    prompt: Prompt, rng: random.Random
) -> tuple[str, list[dict], list[str]]:
    """A list-style answer as a searching assistant writes it: (text with inline markers, the
    numbered sources it retrieved, the web queries it ran). Some sources are cited by a marker,
    the others only retrieved; the main brand's own site is among them when it is listed."""
    chinese = _is_chinese(prompt)
    entries = _entries(prompt, rng, chinese)
    topic = prompt.question.strip().rstrip("？?")
    q = quote(re.sub(r"\s+", "", topic)[:12])
    picked = rng.sample(_SEARCH_SOURCES, 3)
    sources = [
        {
            "url": url.format(q=q, n=rng.randint(10**8, 10**9)),
            "title": title.format(topic=topic),
            "site_name": site,
        }
        for url, title, site in picked
    ]
    main = prompt.brands[0] if prompt.brands else ""
    own = None
    if main and main in entries and rng.random() < 0.6:
        own = {"url": f"https://www.{demo_brand_site(main)}/", "title": main, "site_name": main}
        sources.insert(rng.randint(0, len(sources)), own)
    for index, source in enumerate(sources, 1):
        source |= {"index": index, "cited": None}
    styles = _MARKERS_ZH if chinese else _MARKERS_EN
    style = styles[rng.randrange(len(styles))]
    # Listed names cite a review source now and then (the main brand its own site); the last
    # review source is never cited: retrieved only.
    citable = [s["index"] for s in sources if s is not own][:-1]
    lines = (
        [f"根据搜索结果，关于「{topic}」，以下几家评价较多：", ""]
        if chinese
        else [f"From a web search on “{topic}”, these come up most:", ""]
    )
    for i, entry in enumerate(entries, 1):
        marker = ""
        if rng.random() < 0.7:
            index = own["index"] if own is not None and entry == main else rng.choice(citable)
            marker = style.format(i=index)
        praise = rng.choice(_PRAISE_ZH if chinese else _PRAISE_EN)
        lines.append(
            f"{i}. **{entry}**：{praise}{marker}。"
            if chinese
            else f"{i}. **{entry}**: {praise}{marker}."
        )
    caveat_brand = rng.choice(entries)
    caveat = rng.choice(_CAVEAT_ZH if chinese else _CAVEAT_EN)
    lines += [
        "",
        f"需要注意的是，{caveat_brand}{caveat}。"
        if chinese
        else f"Note that {caveat_brand} is {caveat}.",
    ]
    queries = [topic, f"{topic} 推荐 评价" if chinese else f"{topic} reviews"]
    return "\n".join(lines), sources, queries


def synthesise_answer(prompt: Prompt, rng: random.Random) -> str:
    """Build a plausible list-style answer naming the tracked brands in a seeded order."""
    chinese = _is_chinese(prompt)
    entries = _entries(prompt, rng, chinese)
    topic = prompt.question.strip().rstrip("？?")
    # Percent-encoded, as a real link to a search page would be.
    q = quote(re.sub(r"\s+", "", topic)[:12])
    sources = [s.format(q=q, n=rng.randint(10**8, 10**9)) for s in rng.sample(_SOURCES, 2)]
    caveat_brand = rng.choice(entries)
    if chinese:
        lines = [f"关于「{topic}」，综合公开评价，以下几家比较常被提到：", ""]
        for i, entry in enumerate(entries, 1):
            lines.append(f"{i}. **{entry}**：{rng.choice(_PRAISE_ZH)}。")
        lines += [
            "",
            f"需要注意的是，{caveat_brand}{rng.choice(_CAVEAT_ZH)}。",
            f"参考来源：{sources[0]} ，以及{sources[1]}。",
        ]
    else:
        lines = [f"On “{topic}”, these names come up most often in public reviews:", ""]
        for i, entry in enumerate(entries, 1):
            lines.append(f"{i}. **{entry}**: {rng.choice(_PRAISE_EN)}.")
        lines += [
            "",
            f"Note that {caveat_brand} is {rng.choice(_CAVEAT_EN)}.",
            f"Sources: {sources[0]} and {sources[1]}.",
        ]
    return "\n".join(lines)
