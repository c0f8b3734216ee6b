"""Deterministic analysis of AI answers and execution scoring (docs/metrics.md). No Django.

Public API: :class:`BrandSpec`, :func:`analyse_answer` (one answer), :func:`score_execution`
(one execution), :func:`context_words_from_questions`;
legacy compatibility views live in :mod:`records.analysis.legacy`.
"""

from records.analysis.answer import ANALYZER_VERSION, analyse_answer
from records.analysis.brands import BrandSpec, context_words_from_questions
from records.analysis.scoring import SCORING_VERSION, WEIGHTS, score_execution

__all__ = [
    "ANALYZER_VERSION",
    "SCORING_VERSION",
    "WEIGHTS",
    "BrandSpec",
    "analyse_answer",
    "context_words_from_questions",
    "score_execution",
]
