"""Brand aliases and the single leftmost-longest brand matcher (docs/metrics.md §2)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from records.analysis.aliases import (
    _HAN,
    _LATIN_OR_DIGIT,
    COMMON_WORD_ALIASES,
    BrandSpec,
    _clean,
    expand_aliases,
    is_gated,
    strip_suffixes,
)
from records.analysis.normalize import fold_width

__all__ = [
    "COMMON_WORD_ALIASES",
    "CONTEXT_WINDOW",
    "GENERIC_CONTEXT_WORDS",
    "Alias",
    "BrandMatcher",
    "BrandSpec",
    "Match",
    "brand_matcher",
    "context_words_from_questions",
    "expand_aliases",
    "is_gated",
    "strip_suffixes",
]

CONTEXT_WINDOW = 30

# Everyday compounds that contain a common-word alias: (preceding chars, following chars) that
# make the alias part of an ordinary word (完美的, 联想到, 小米粥, 苹果汁, 少一点点, 理想的).
_WORD_USES: dict[str, tuple[str, str]] = {
    "美的": ("完优甜精唯柔健秀赞俊审华", ""),
    "联想": ("", "到起"),
    "小米": ("", "粥饭椒酒"),
    "苹果": ("", "汁醋派干皮树园酱味"),
    "一点点": ("了有差贵多少好快慢高低大小长短宜甜淡浓", ""),
    "理想": ("", "的化中状"),
    "大众": ("广社", "化点"),
}

# Category words that make a short/common alias credible even when the caller passes none.
GENERIC_CONTEXT_WORDS = (
    "品牌",
    "牌子",
    "手机",
    "官网",
    "旗舰",
    "门店",
    "产品",
    "型号",
    "机型",
    "系列",
    "公司",
    "集团",
    "售后",
    "电脑",
    "笔记本",
    "平板",
    "耳机",
    "手表",
    "家电",
    "汽车",
    "车型",
    "brand",
    "brands",
    "phone",
    "phones",
    "smartphone",
    "laptop",
    "laptops",
    "store",
    "stores",
    "company",
    "official",
    "flagship",
    "products",
    "model",
    "models",
)

_QUESTION_STOPWORDS = (
    "哪家好",
    "哪家",
    "哪个好",
    "哪个",
    "哪些",
    "哪款",
    "推荐一下",
    "推荐",
    "什么",
    "怎么样",
    "如何",
    "怎么",
    "有哪些",
    "比较好",
    "最好",
    "靠谱",
    "性价比",
    "排名",
    "排行",
    "请问",
    "可以",
    "一下",
    "的",
    "吗",
    "呢",
    "和",
    "与",
)
_ENGLISH_STOPWORDS = frozenset(
    "a an the best top good what which who where how is are for with and or to of in on my me i "
    "you your do does should most recommend recommended recommendation recommendations buy "
    "vs versus than better cheap cheapest worth any some".split()
)
_MODEL_AFTER = re.compile(r"[ \t]?(?:[a-z]+[ \t]?)?\d")


@dataclass(frozen=True, slots=True)
class Alias:
    """One matchable spelling of a brand, already normalised."""

    brand: int
    text: str
    display: str
    gated: bool
    # Set for gated Latin aliases entered with capitals ("On", "HP"): they must match that case.
    cased: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """One accepted brand match in the answer (offsets into the original text)."""

    brand: int
    alias: str
    start: int
    end: int


def _alias_pattern(alias: str) -> str:
    """Regex for one normalised alias: ASCII boundaries on Latin/digit ends, flexible spacing."""
    parts: list[str] = []
    i = 0
    while i < len(alias):
        ch = alias[i]
        if ch in " -":
            j = i
            while j < len(alias) and alias[j] in " -":
                j += 1
            prev, nxt = alias[i - 1], alias[j] if j < len(alias) else ""
            if _LATIN_OR_DIGIT.match(prev) and _LATIN_OR_DIGIT.match(nxt):
                parts.append(r"[ \t-]+")
            else:
                parts.append(r"[ \t-]*")
            i = j
            continue
        parts.append(re.escape(ch))
        if i + 1 < len(alias) and alias[i + 1] not in " -":
            nxt = alias[i + 1]
            # Chinese writers are inconsistent about spacing between Han and Latin ("华为 Mate").
            if bool(_HAN.match(ch)) != bool(_HAN.match(nxt)) and not (
                ch.isspace() or nxt.isspace()
            ):
                parts.append(r"[ \t]*")
        i += 1
    body = "".join(parts)
    if _LATIN_OR_DIGIT.match(alias[0]):
        body = r"(?<![a-z0-9])" + body
    if _LATIN_OR_DIGIT.match(alias[-1]):
        body += r"(?![a-z0-9])"
    return body


class BrandMatcher:
    """One compiled alternation over every alias of every tracked brand.

    Alternatives are sorted longest first, and Python's regex engine takes the first alternative
    that matches at the leftmost position, which gives leftmost-longest matching: 良子 inside
    华夏良子 is never a separate match when both are brands.
    """

    def __init__(self, brands: Sequence[BrandSpec], context_words: Iterable[str] = ()) -> None:
        aliases: dict[str, Alias] = {}
        for index, brand in enumerate(brands):
            for text, display in expand_aliases(brand):
                gated = is_gated(text) and not brand.safe_aliases
                cased = None
                if gated and not _HAN.search(text) and any(ch.isupper() for ch in display):
                    cased = fold_width(display)
                # The first brand to claim a spelling keeps it (the main brand wins ties).
                aliases.setdefault(text, Alias(index, text, display, gated, cased))
        self.aliases = sorted(aliases.values(), key=lambda a: (-len(a.text), a.brand))
        if self.aliases:
            self._pattern: re.Pattern[str] | None = re.compile(
                "|".join(f"({_alias_pattern(a.text)})" for a in self.aliases)
            )
        else:
            self._pattern = None
        words = {_clean(w) for w in (*GENERIC_CONTEXT_WORDS, *context_words)}
        words.discard("")
        self._context = (
            re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
            if words
            else None
        )
        self._context_reach = max((len(w) for w in words), default=0)

    def _credible(
        self,
        alias: Alias,
        norm: str,
        text: str,
        span: tuple[int, int],
        anchors: list[tuple[int, int]],
        heads: Sequence[tuple[int, int]],
    ) -> bool:
        """Whether a gated (short or common-word) alias match is really the brand.

        Evidence: a category word within the window; or a tracked brand matched by an ungated
        alias within the window ("小米、华为和OPPO", "苹果 iPhone"); or, for a Han alias, a
        model number right after it ("小米 14", "苹果15"), which the common word never has; or
        the match opens a list item's lead ("**HP Pavilion 15** – ...", a table's first cell);
        or a capitalised common word of 4+ letters used mid-sentence ("cheaper, Puma's"), the
        English sign of a proper noun. Never when the match is part of an everyday compound
        (完美的, 联想到).
        """
        start, end = span
        if alias.cased is not None and fold_width(text[start:end]) != alias.cased:
            return False
        before, after = _WORD_USES.get(alias.text, ("", ""))
        if (start and norm[start - 1] in before) or (end < len(norm) and norm[end] in after):
            return False
        if any(hs <= start < he and not norm[hs:start].strip(" [") for hs, he in heads):
            return True
        if alias.cased is not None and len(alias.text) >= 4:
            previous = text[:start].rstrip(" \t*_\"'([")
            if previous and previous[-1] not in ".!?:\n#>|-":
                return True
        low, high = max(0, start - CONTEXT_WINDOW), end + CONTEXT_WINDOW
        if self._context is not None:
            # A context word counts when at most CONTEXT_WINDOW characters separate it from the
            # match, so the search reaches one word-length further.
            reach = self._context_reach
            for m in self._context.finditer(norm, max(0, low - reach), start):
                if m.end() >= low:
                    return True
            for m in self._context.finditer(norm, end, high + reach):
                if m.start() <= high:
                    return True
        if any(s < high and e > low for s, e in anchors):
            return True
        return bool(_HAN.match(alias.text[-1]) and _MODEL_AFTER.match(norm, end))

    def find(
        self,
        norm: str,
        text: str | None = None,
        *,
        heads: Sequence[tuple[int, int]] = (),
        exclude: Sequence[tuple[int, int]] = (),
    ) -> list[Match]:
        """Accepted matches in normalised text, in text order.

        ``text`` is the original (for case checks), ``heads`` the spans of list-item leads, and
        ``exclude`` spans whose matches do not count (URLs: a brand inside a link target is a
        citation, not a mention).
        """
        if self._pattern is None:
            return []
        text = norm if text is None else text
        raw = [
            (self.aliases[m.lastindex - 1], m.span())
            for m in self._pattern.finditer(norm)
            if not any(m.start() < e and s < m.end() for s, e in exclude)
        ]
        anchors = [span for alias, span in raw if not alias.gated]
        return [
            Match(alias.brand, alias.display, *span)
            for alias, span in raw
            if not alias.gated or self._credible(alias, norm, text, span, anchors, heads)
        ]


@lru_cache(maxsize=64)
def _cached_matcher(brands: tuple[BrandSpec, ...], context: tuple[str, ...]) -> BrandMatcher:
    return BrandMatcher(brands, context)


def brand_matcher(brands: Sequence[BrandSpec], context_words: Sequence[str] = ()) -> BrandMatcher:
    """A (cached) matcher: one run analyses many answers with the same brands and context."""
    return _cached_matcher(tuple(brands), tuple(context_words))


def context_words_from_questions(
    questions: Iterable[str], brand_names: Iterable[str] = ()
) -> tuple[str, ...]:
    """Category words derived from the run's questions, for gating short/common aliases.

    '北京中医推拿哪家好？' gives 北京中医推拿, 推拿, 医推拿, 中医推拿, 北京; 'best running shoes for
    flat feet' gives running, shoes, shoe, flat, feet. Brand names are removed first.
    """
    names = sorted({_clean(n) for n in brand_names if n.strip()}, key=len, reverse=True)
    stop = re.compile("|".join(re.escape(w) for w in _QUESTION_STOPWORDS))
    words: dict[str, None] = {}
    for question in questions:
        text = _clean(question).replace("{brandname}", " ").replace("{competitorbrand}", " ")
        for name in names:
            text = text.replace(name, " ")
        for chunk in re.findall(r"[\u4e00-\u9fff]+", text):
            for piece in stop.split(chunk):
                if len(piece) < 2:
                    continue
                words[piece] = None
                for size in (2, 3, 4):
                    if len(piece) > size:
                        words[piece[-size:]] = None
                words[piece[:2]] = None
        for word in re.findall(r"[a-z][a-z0-9-]+", text):
            if word in _ENGLISH_STOPWORDS or len(word) < 3:
                continue
            words[word] = None
            if word.endswith("s") and len(word) > 4:
                words[word[:-1]] = None
    return tuple(words)
