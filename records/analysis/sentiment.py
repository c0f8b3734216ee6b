"""Per-brand sentiment (docs/metrics.md): a Chinese+English lexicon over the answer text.

The lexicon analyser reads the sentences that mention a brand (plus the brand-less sentences of
a list item whose lead names it), handles negation (不推荐, not recommended), contrast (但是,
不过, however: the clause after weighs twice) and comparison (A 不如 B, A is better than B), and
keeps every cue's offsets as evidence.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LABEL_SCORES = {"positive": 1, "neutral": 0, "negative": -1, "mixed": 0}

_POSITIVE_ZH = """
推荐 首选 值得 值得推荐 值得信赖 值得一试 专业 正规 靠谱 可靠 口碑好 口碑不错 口碑佳
口碑很好 好评 好评如潮 好评率高 广受好评 性价比高 性价比很高 性价比突出 高性价比
物美价廉 实惠 划算 亲民 优秀 出色 出众 卓越 领先 顶尖 一流 顶级 最佳 最好 很好
挺好 较好 更好 良好 不错 很棒 优质 满意 舒适 舒服 放心 信赖 认可 正宗 热门 知名
老字号 经典 稳定 流畅 耐用 好用 亮眼 强大 最强 很强 更强 突出 贴心 周到 干净 整洁
到位 精湛 扎实 人气高 受欢迎 毫不逊色 不输 不贵 不差 无可挑剔 省心 高效 有效 效果好
效果明显 效果显著 技术好 手法好 服务好 体验好 温馨 惊艳 出彩 优越 闭眼入
""".split()
_NEGATIVE_ZH = """
不推荐 不建议 不太推荐 慎选 谨慎选择 避坑 避雷 踩雷 踩坑 有坑 坑人 被坑 翻车 差评
投诉 口碑差 口碑一般 口碑下滑 一般般 较差 很差 太差 比较差 差劲 质量差 服务差 态度差
体验差 效果差 做工差 售后差 糟糕 失望 不满 不好 缺点 不足 短板 槽点 问题较多
质量问题 有问题 偏贵 较贵 太贵 很贵 比较贵 昂贵 价格贵 价格偏高 价格较高 偏高 溢价
智商税 割韭菜 虚标 虚假 夸大 劣质 过时 落后 卡顿 发热 发烫 广告多 推销 强制消费
乱收费 隐形消费 不如 逊色 不稳定 不专业 参差不齐 良莠不齐 一言难尽 下滑 不值 不划算
不舒服 排队久 嘈杂 老旧 缩水 争议
""".split()
_POSITIVE_EN = (
    "best", "better", "great", "excellent", "outstanding", "superb", "good", "recommend",
    "recommended", "favorite", "favourite", "reliable", "comfortable", "durable", "popular",
    "impressive", "solid", "ideal", "perfect", "love", "loved", "well-made", "worth it",
    "worth the money", "value for money", "great value", "highly rated", "highly recommended",
    "stands out", "standout", "praised", "trusted", "affordable", "smooth", "responsive",
    "versatile", "supportive", "excels", "top-rated", "top pick", "top choice", "fan favorite",
    "well-reviewed",
)  # fmt: skip
_NEGATIVE_EN = (
    "bad", "poor", "worst", "avoid", "overpriced", "expensive", "pricey", "disappointing",
    "disappointed", "uncomfortable", "mediocre", "subpar", "unreliable", "flimsy", "cheaply made",
    "issues", "problems", "complaints", "drawback", "drawbacks", "downside", "downsides",
    "not recommended", "wouldn't recommend", "would not recommend", "do not recommend",
    "don't recommend", "falls short", "fall short", "wears out", "wear out", "breaks down",
    "lacks", "lacking", "inconsistent", "outdated", "scam", "defects", "worse", "inferior",
)  # fmt: skip
# Aspects (what a cue is about), by the words that name them; the cue takes the nearest one
# before it in its clause.
ASPECTS: dict[str, tuple[str, ...]] = {
    "service": ("服务", "态度", "接待", "前台", "流程", "护理", "售后", "service", "staff"),
    "environment": ("环境", "装修", "氛围", "房间", "场馆", "空间", "位置", "交通", "地段"),
    "hygiene": ("卫生", "消毒", "清洁", "hygiene"),
    "price": ("价格", "收费", "价位", "人均", "费用", "定价", "price", "pricing"),
    "value": ("性价比", "value"),
    "skill": (
        "手法", "技术", "技师", "医生", "师傅", "医师", "教练", "团队", "专家", "资历", "水平",
        "经验", "培训", "专业度", "标准化", "老师", "实力", "staff",
    ),
    "effect": ("效果", "疗效", "result", "results"),
    "quality": ("质量", "品质", "药材", "食材", "设备", "设施", "器械", "餐食", "课程", "quality"),
    "wait": ("排队", "等位", "预约", "挂号", "专家号", "高峰期", "wait", "queue"),
}  # fmt: skip
_ASPECT_OF = {word: aspect for aspect, words in ASPECTS.items() for word in words}
_ASPECT_WORDS = re.compile("|".join(sorted(map(re.escape, _ASPECT_OF), key=len, reverse=True)))
# Logistics notes (a queue, booking ahead) are advice about a popular place more than criticism.
_ASPECT_WEIGHT = {"wait": 0.5}
# Descriptive phrases that praise or criticise without a classic sentiment word ("系统培训，标准化
# 程度高", "回头客多"); a reader sees their polarity at once.
# A recommending verb right before a brand ("日常放松选华夏良子") is praise of that brand.
_RECOMMENDS_BRAND = re.compile(
    r"(?:推荐|首选|优先选|建议选|可以选|就选|选|可以去|不妨试试|试试)\s*$"
)
_DESCRIPTIVE_POSITIVE = """
系统培训 统一培训 专业培训 持证上岗 医保定点 可用医保 名医 专家坐诊 医师坐诊 回头客多 复购率高
资历深 经验丰富 擅长 权威 完整 体系完整 娴熟 老师傅 流程规范 流程成熟 设施齐全 设备新 不重样
国家级重点专科 重点专科 排名第一 排名靠前 全国有名 有名 名老中医 招牌 够用 不绑
标杆 有保障 不用办卡 宽敞 优雅 安静 细致 耐心 热情 规范 地道 新鲜 丰富 透明 齐全 适中 合理
交通便利 地段好 位置方便 靠近地铁 口碑稳定 口碑好 人气旺 百年老号 手法扎实 效果立竿见影
""".split()
_DESCRIPTIVE_NEGATIVE = """
排队久 排队时间长 等位久 挂号难 专家号难挂 难约 推销私教 推销办卡 强制办卡 办卡推销 人多 拥挤
偏小 狭小 老化 维护一般 不透明 乱收费 态度冷淡 敷衍 吵 脏 异味 收费高 价格高 价格较高 推课 推卡 慎重
""".split()
# "<aspect> (程度)? (很|较…)? <adjective>": polarity from the adjective, and for price and queues
# from the aspect (价格低 is praise, 排队长 is not).
_ASPECT_PHRASE = re.compile(
    r"(?P<aspect>" + _ASPECT_WORDS.pattern + r")(?:程度|水平|度)?(?:都|也|很|非常|比较|相当|较|更|"
    r"特别|十分|挺|超|极|偏|略)?(?P<neg>不太|不够|不|没那么|没有|没)?"
    r"(?P<adj>高|好|强|足|棒|佳|优|多|低|差|贵|便宜|长|久|短|快|慢|少|难|乱|一般)(?![一-鿿])"
)
_GOOD_WHEN_LOW = {"price", "wait"}
_ANNOUNCES = re.compile(r"缺点|不足|短板|槽点|drawbacks?|downsides?")

# Cues that already carry their own negation; a preceding negator does not flip them again.
_SELF_NEGATED = re.compile(r"^(?:不|没|无|毫不|not |wouldn't|would not|do not|don't)")
_NEGATOR_ZH = re.compile(r"(?:不|没有|没|未|别|并非|绝非)(?:太|够|是很|是|怎么|算|那么|很|大|会)?$")
_NEGATOR_EN = re.compile(
    r"(?<![a-z])(?:not|no|never|hardly|barely|isn't|aren't|wasn't|don't|doesn't|didn't|won't|"
    r"wouldn't|can't|cannot)(?:\s+(?!only\b|doubt\b)[a-z'-]+){0,2}\s+$"
)
_CONTRAST = re.compile(
    r"(?<!不)但(?!凡)是?|不过|然而|可是|只是|(?<![a-z])(?:but(?! also)|however|yet)(?![a-z])"
)
_CONCESSIVE = re.compile(r"虽然|虽|尽管|(?<![a-z])(?:although|even though|though)(?![a-z])")
_SENTENCE_END = re.compile(r"[。!?;\n]+|\.(?=\s|$)")
_CLAUSE_END = re.compile(r"[,:，]")
# Comparison pivots: inherent polarity of the left side (0 = take it from the clause's cues).
_PIVOTS = re.compile(
    r"不如|逊色于|逊于|优于|胜过|强于|(?<!相)比(?!较|如|例|赛|拼)|(?<![a-z])than(?![a-z])"
)
_PIVOT_POLARITY = {"不如": -1, "逊色于": -1, "逊于": -1, "优于": 1, "胜过": 1, "强于": 1}


def _lexicon_pattern() -> tuple[re.Pattern[str], dict[str, int]]:
    polarity = {word: 1 for word in (*_POSITIVE_ZH, *_POSITIVE_EN)}
    polarity |= {word: -1 for word in (*_NEGATIVE_ZH, *_NEGATIVE_EN)}
    polarity |= {word: 1 for word in _DESCRIPTIVE_POSITIVE if word not in polarity}
    polarity |= {word: -1 for word in _DESCRIPTIVE_NEGATIVE if word not in polarity}
    alternatives = []
    for word in sorted(polarity, key=len, reverse=True):
        body = re.escape(word)
        if word[0].isascii():
            body = r"(?<![a-z])" + body
        if word[-1].isascii():
            body += r"(?![a-z])"
        alternatives.append(body)
    # 一般 is negative only at the end of a clause ("效果一般。"), not in "一般来说".
    alternatives.append(r"一般(?=[,。!?;\s]|$)")
    polarity["一般"] = -1
    return re.compile("|".join(alternatives)), polarity


_LEXICON, _POLARITY = _lexicon_pattern()


@dataclass(slots=True)
class Cue:
    """One sentiment cue in the text, after negation, with its contrast weight."""

    start: int
    end: int
    polarity: int
    weight: float
    aspect: str | None = None


def split_sentences(norm: str) -> list[tuple[int, int]]:
    """Sentence spans of the (normalised) text."""
    spans = []
    start = 0
    for m in _SENTENCE_END.finditer(norm):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(norm):
        spans.append((start, len(norm)))
    return [(s, e) for s, e in spans if norm[s:e].strip()]


def _weights(norm: str, start: int, end: int) -> list[tuple[int, float]]:
    """(position, weight) breakpoints: text after a contrast (or a concession's clause) weighs 2."""
    contrast = _CONTRAST.search(norm, start, end)
    if contrast:
        return [(start, 1.0), (contrast.end(), 2.0)]
    concession = _CONCESSIVE.search(norm, start, end)
    if concession:
        comma = _CLAUSE_END.search(norm, concession.end(), end)
        if comma:
            return [(start, 1.0), (comma.end(), 2.0)]
    return [(start, 1.0)]


def _aspect_before(norm: str, start: int, clause_start: int) -> str | None:
    """The aspect named closest before ``start`` in its clause (at most 8 characters back)."""
    found = None
    for m in _ASPECT_WORDS.finditer(norm, max(clause_start, start - 8), start):
        found = _ASPECT_OF[m.group()]
    return found


def _aspect_phrases(norm: str, start: int, end: int) -> list[tuple[int, int, int, str]]:
    """(start, end, polarity, aspect) of "<aspect> <adjective>" phrases such as 标准化程度高."""
    found = []
    for m in _ASPECT_PHRASE.finditer(norm, start, end):
        aspect, adj = _ASPECT_OF[m.group("aspect")], m.group("adj")
        low = adj in {"低", "便宜", "短", "快", "少"}
        if adj in {"差", "乱", "一般", "难", "慢"}:
            polarity = -1
        elif aspect in _GOOD_WHEN_LOW:
            polarity = 1 if low else -1
        else:
            polarity = -1 if low else 1
        if m.group("neg"):
            polarity = -polarity
        found.append((m.start(), m.end(), polarity, aspect))
    return found


def find_cues(norm: str, start: int, end: int) -> list[Cue]:
    """Lexicon and aspect-phrase cues in ``norm[start:end]`` with negation and contrast applied."""
    breakpoints = _weights(norm, start, end)
    cues = []
    phrases = _aspect_phrases(norm, start, end)
    for p_start, p_end, polarity, aspect in phrases:
        weight = next(w for pos, w in reversed(breakpoints) if pos <= p_start)
        cues.append(Cue(p_start, p_end, polarity, weight * _ASPECT_WEIGHT.get(aspect, 1), aspect))
    for m in _LEXICON.finditer(norm, start, end):
        if any(ps <= m.start() < pe or m.start() <= ps < m.end() for ps, pe, _, _ in phrases):
            continue
        word = m.group()
        polarity = _POLARITY.get(word, -1)
        cue_start = m.start()
        if not _SELF_NEGATED.match(word):
            clause_start = max(start, m.start() - 30)
            before = norm[clause_start : m.start()]
            before = re.split(r"[,:，]", before)[-1]
            negator = _NEGATOR_ZH.search(before) or _NEGATOR_EN.search(before)
            if negator:
                polarity = -polarity
                cue_start = m.start() - (len(before) - negator.start())
        weight = next(w for pos, w in reversed(breakpoints) if pos <= m.start())
        clause_start = max(norm.rfind(",", start, m.start()), norm.rfind(":", start, m.start()))
        aspect = _aspect_before(norm, m.start(), max(clause_start + 1, start))
        if aspect is None:
            aspect = next((_ASPECT_OF[w] for w in _ASPECT_OF if w in word), None)
        weight *= _ASPECT_WEIGHT.get(aspect or "", 1)
        cues.append(Cue(cue_start, m.end(), polarity, weight, aspect))
    cues.sort(key=lambda cue: cue.start)
    # "缺点是排队久": the label announces the cue after it and is not a second criticism.
    return [
        cue
        for index, cue in enumerate(cues)
        if not (
            _ANNOUNCES.fullmatch(norm, cue.start, cue.end)
            and any(other.start >= cue.end for other in cues[index + 1 :])
        )
    ]


def _clauses(norm: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    pos = start
    for m in _CLAUSE_END.finditer(norm, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return spans


def label_for(positive: float, negative: float) -> str:
    """Label from weighted cue totals: one side must reach twice the other to win."""
    if positive == 0 and negative == 0:
        return "neutral"
    if positive >= 2 * negative:
        return "positive"
    if negative >= 2 * positive:
        return "negative"
    return "mixed"


def _attribute(
    norm: str,
    sentence: tuple[int, int],
    mentions: list[tuple[int, int, str]],
    scores: dict[str, list[tuple[Cue, int]]],
) -> None:
    """Credit each cue of one sentence to the brands it is about, with the polarity it has."""
    cues = find_cues(norm, *sentence)
    if not cues:
        return
    clauses = _clauses(norm, *sentence)
    clause_brands = [
        [(start, brand) for start, _, brand in mentions if cs <= start < ce] for cs, ce in clauses
    ]
    # Leading brand-less clauses ("在北京，华夏良子最好") are about the sentence's first brands.
    current = {brand for _, brand in next(b for b in clause_brands if b)}
    prior: set[str] = set()
    seen = False
    for (cs, ce), here in zip(clauses, clause_brands, strict=True):
        in_clause = [cue for cue in cues if cs <= cue.start < ce]
        if here:
            # The subject of an earlier clause is the implicit left side of "不如" ("A：不如B").
            prior = current if seen else set()
            current = {b for _, b in here}
            seen = True
        pivot = _PIVOTS.search(norm, cs, ce) if in_clause else None
        if pivot is not None:
            left = {b for start, b in here if start < pivot.start()} or prior
            right = {b for start, b in here if start >= pivot.end()} - left
            inherent = _PIVOT_POLARITY.get(pivot.group(), 0)
            others = [cue for cue in in_clause if not (cue.start <= pivot.start() < cue.end)]
            if (left or right) and (inherent or others):
                polarity = inherent or (1 if sum(c.polarity for c in others) > 0 else -1)
                evidence = [Cue(pivot.start(), pivot.end(), polarity, 1.0)] if inherent else others
                for brand in left:
                    scores[brand].extend((cue, polarity) for cue in evidence)
                for brand in right:
                    scores[brand].extend((cue, -polarity) for cue in evidence)
                continue
        for brand in current:
            scores[brand].extend((cue, cue.polarity) for cue in in_clause)


def _aspect_labels(credited: Sequence[tuple[Cue, int]]) -> dict[str, str]:
    """Label per aspect (service, price, skill …) from the credited cues that name one."""
    totals: dict[str, list[float]] = {}
    for cue, sign in credited:
        if cue.aspect is not None:
            side = totals.setdefault(cue.aspect, [0.0, 0.0])
            side[0 if sign > 0 else 1] += cue.weight
    return {aspect: label_for(p, n) for aspect, (p, n) in sorted(totals.items())}


def analyse_sentiment(
    text: str,
    norm: str,
    mentions: Mapping[str, Sequence[tuple[int, int]]],
    item_scopes: Mapping[str, Sequence[tuple[int, int]]] | None = None,
) -> dict[str, dict]:
    """Lexicon sentiment for every mentioned brand.

    ``mentions`` maps brand -> match spans; ``item_scopes`` maps brand -> extents of list items
    whose lead names it, whose brand-less sentences (pros/cons bullets) are also about it.
    """
    flat = sorted((s, e, brand) for brand, spans in mentions.items() for s, e in spans)
    starts = [start for start, _, _ in flat]
    scores: dict[str, list[tuple[Cue, int]]] = {brand: [] for brand in mentions if mentions[brand]}
    for sentence in split_sentences(norm):
        inside = flat[bisect_left(starts, sentence[0]) : bisect_left(starts, sentence[1])]
        if inside:
            _attribute(norm, sentence, inside, scores)
            continue
        owners = [
            brand
            for brand, scopes in (item_scopes or {}).items()
            if brand in scores and any(s <= sentence[0] < e for s, e in scopes)
        ]
        if owners:
            cues = find_cues(norm, *sentence)
            for brand in owners:
                scores[brand].extend((cue, cue.polarity) for cue in cues)
    for brand, spans in mentions.items():
        for start, _ in spans:
            verb = _RECOMMENDS_BRAND.search(norm, max(0, start - 5), start)
            if verb and not _NEGATOR_ZH.search(norm, max(0, verb.start() - 3), verb.start()):
                scores[brand].append((Cue(verb.start(), verb.end(), 1, 1.0), 1))
    result = {}
    for brand, credited in scores.items():
        positive = sum(cue.weight for cue, sign in credited if sign > 0)
        negative = sum(cue.weight for cue, sign in credited if sign < 0)
        label = label_for(positive, negative)
        seen: set[tuple[int, int]] = set()
        evidence = []
        for cue, _ in sorted(credited, key=lambda pair: pair[0].start):
            if (cue.start, cue.end) not in seen:
                seen.add((cue.start, cue.end))
                evidence.append([cue.start, cue.end, text[cue.start : cue.end]])
        result[brand] = {
            "label": label,
            "score": LABEL_SCORES[label],
            "evidence": evidence,
            "aspects": _aspect_labels(credited),
            "method": "lexicon",
        }
    return result


def sentence_attitude(norm: str, offset: int) -> str:
    """Overall tone of the sentence containing ``offset`` (for legacy cited-source attitude)."""
    for start, end in split_sentences(norm):
        if start <= offset < end:
            cues = find_cues(norm, start, end)
            positive = sum(c.weight for c in cues if c.polarity > 0)
            negative = sum(c.weight for c in cues if c.polarity < 0)
            label = label_for(positive, negative)
            return label if label in {"positive", "negative"} else "neutral"
    return "neutral"
