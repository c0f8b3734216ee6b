"""Brand specs and alias expansion: suffix rules, common-word aliases and gating (metrics §2).

The spellings :mod:`records.analysis.brands` matches: a tracked brand's name and aliases, their
forms without store/legal suffixes or a trailing (…), and which of them need context to count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from records.analysis.normalize import normalize

# Legal and store suffixes removed to form an extra alias, longest first.
_HAN_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "养生馆",
    "中医馆",
    "集团",
    "连锁",
    "分店",
    "店",
)
_LATIN_SUFFIX = re.compile(
    r"[\s,]+(?:inc\.?|ltd\.?|co\.?,?\s*ltd\.?|corp\.?|corporation|llc|gmbh|co\.)$"
)
_STORE_PAREN = re.compile(r"\s*\([^()]*店\)\s*$")
_TRAILING_PAREN = re.compile(r"^(?P<outer>[^()]+?)\s*\((?P<inner>[^()]+)\)\s*$")

# Brand names that are also everyday words; they need a category word nearby.
COMMON_WORD_ALIASES = frozenset(
    {
        "小米",
        "苹果",
        "大众",
        "长城",
        "美的",
        "中华",
        "光明",
        "红旗",
        "平安",
        "太平",
        "联想",
        "统一",
        "白象",
        "青岛",
        "雪花",
        "三星",
        "一点点",
        "凤凰",
        "永久",
        "海马",
        "apple",
        "amazon",
        "puma",
        "gap",
        "coach",
        "dove",
        "target",
        "orange",
        "shell",
        "jaguar",
        "mango",
        "subway",
        "corona",
        "on",
        "wave",
        "keen",
        "理想",
    }
)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN_OR_DIGIT = re.compile(r"[a-z0-9]")


@dataclass(frozen=True)
class BrandSpec:
    """A tracked brand: name, user aliases, own web domains, and whether short aliases are safe."""

    name: str
    aliases: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    safe_aliases: bool = False

    def __post_init__(self) -> None:
        # Callers often pass JSON lists; tuples keep the spec hashable (the matcher is cached).
        object.__setattr__(self, "aliases", tuple(self.aliases))
        object.__setattr__(self, "domains", tuple(self.domains))


def _clean(alias: str) -> str:
    return " ".join(normalize(alias).split())


def _han_count(text: str) -> int:
    return len(_HAN.findall(text))


def strip_suffixes(alias: str) -> set[str]:
    """Forms of ``alias`` without store/legal suffixes, kept only if >= 2 Han chars remain."""
    found: set[str] = set()
    current = alias
    changed = True
    while changed:
        changed = False
        without_paren = _STORE_PAREN.sub("", current)
        if without_paren != current and _han_count(without_paren) >= 2:
            current = without_paren.strip()
            found.add(current)
            changed = True
            continue
        for suffix in _HAN_SUFFIXES:
            if current.endswith(suffix) and _han_count(current[: -len(suffix)]) >= 2:
                current = current[: -len(suffix)].strip()
                found.add(current)
                changed = True
                break
    latin = _LATIN_SUFFIX.sub("", alias)
    if latin != alias and len(latin) >= 2:
        found.add(latin.strip())
    return found


def expand_aliases(brand: BrandSpec) -> list[tuple[str, str]]:
    """All (normalised alias, display form) pairs of ``brand``.

    Width variants need no entry of their own because aliases and text are normalised the same
    way; spacing variants are handled by the pattern (see
    :func:`records.analysis.brands._alias_pattern`).
    """
    seeds = [brand.name, *brand.aliases]
    out: dict[str, str] = {}
    for seed in seeds:
        display = " ".join(seed.split())
        cleaned = _clean(seed)
        if not cleaned:
            continue
        forms = {cleaned}
        paren = _TRAILING_PAREN.match(cleaned)
        if paren and not paren["inner"].endswith("店"):
            # "华为（HUAWEI）" is two spellings of one brand.
            forms |= {paren["outer"].strip(), paren["inner"].strip()}
        for form in list(forms):
            forms |= strip_suffixes(form)
        for form in list(forms):
            joined = re.sub(r"(?<=[a-z0-9])[\s-]+(?=[a-z0-9])", "", form)
            # Joined Latin words only when long: "li ning" -> "lining" would match the word.
            if joined != form and len(joined) >= 8:
                forms.add(joined)
        for form in forms:
            if form:
                out.setdefault(form, display if form == cleaned else form)
    return list(out.items())


def is_gated(alias: str) -> bool:
    """True for aliases that are too short or too common to trust without context."""
    if alias in COMMON_WORD_ALIASES:
        return True
    han = _han_count(alias)
    if han and han == len(alias.replace(" ", "")):
        return han == 1
    if not han:
        return len(_LATIN_OR_DIGIT.findall(alias)) <= 3
    return False
