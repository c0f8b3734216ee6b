"""Length-preserving text normalisation (docs/metrics.md §1).

Every function here returns a string of exactly the input's length, so an offset found in the
normalised text is the same offset in the stored answer. NFKC is never applied: it changes length.
"""

from __future__ import annotations

_ZERO_WIDTH = "\u200b\u200c\u200d\ufeff"

# Width and spacing folds shared by both views of the text.
_FOLD: dict[int, str] = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = " "
_FOLD.update({ord(ch): " " for ch in _ZERO_WIDTH})
# Curly apostrophes would otherwise split aliases such as "Levi’s" from "Levi's".
_FOLD.update({0x2018: "'", 0x2019: "'"})

_MARKDOWN = {ord("*"): " ", ord("_"): " ", ord("`"): " "}
_NORMALIZE = {**_FOLD, **_MARKDOWN}


def _lower(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters (e.g. U+0130) lower-case to two code points; keep those as they are.
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


def fold_width(text: str) -> str:
    """Fold full-width ASCII, ideographic and zero-width spaces; keep case and Markdown marks."""
    return text.translate(_FOLD)


def fold(text: str) -> str:
    """Fold like :func:`fold_width` and lower-case; keep Markdown marks.

    Used where Markdown structure matters (list and heading parsing).
    """
    return _lower(text.translate(_FOLD))


def normalize(text: str) -> str:
    """Fold like :func:`fold` and also blank out Markdown emphasis marks (``*``, ``_``, backtick).

    This is the view brand matching, sentiment and named-source detection run on.
    """
    return _lower(text.translate(_NORMALIZE))
