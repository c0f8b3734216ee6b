"""How a report prints its numbers: one place, so the page, the PDF and the digest e-mail say
the same thing (and the tests can compute what they must contain)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

# Metrics where a lower value is better (an average rank of 1 is the top).
LOWER_IS_BETTER = {"avg_rank"}
ALERT_KINDS = {
    "visibility_drop": "Visibility dropped",
    "overtaken": "Overtaken in share of voice",
    "negative_mention": "Negative mention",
    "owned_citation_lost": "Owned domain no longer cited",
    "run_problem": "Run problem",
}
OWNERS = {"own": "owned", "competitor": "competitor", "third_party": "third party"}
EVIDENCE_CHARS = 240


def value(kind: str, v: float | None) -> str:
    """score: 0–100 with one decimal; pct: a 0–1 rate as a percentage; rank: two decimals;
    nss: signed, two decimals. None: an em dash (nothing to measure, never a zero)."""
    if v is None:
        return "—"
    if kind == "pct":
        return f"{v * 100:.1f}%"
    if kind == "rank":
        return f"{v:.2f}"
    if kind == "nss":
        return f"{v:+.2f}"
    return f"{v:.1f}"


def delta(kind: str, d: float | None) -> str:
    """A change in the metric's unit: percentage points for rates."""
    if d is None:
        return "—"
    if kind == "pct":
        return f"{d * 100:+.1f} pts"
    if kind in ("rank", "nss"):
        return f"{d:+.2f}"
    return f"{d:+.1f}"


def se(kind: str, s: float | None) -> str:
    if s is None:
        return ""
    if kind == "pct":
        return f"± {s * 100:.1f}"
    if kind in ("rank", "nss"):
        return f"± {s:.2f}"
    return f"± {s:.1f}"


def verdict(metric: str, d: float | None, beyond: bool, tested: bool, *, noise_test: bool) -> str:
    """What a change means: beyond noise (|delta| > 2 SE on common cells), within it, or not
    testable (no previous runs, fewer than two common cells, or a metric without cell counts)."""
    if d is None:
        return "no comparison"
    if not noise_test:
        return "no noise test"
    if not tested:
        return "too few cells to test"
    if beyond:
        better = (d < 0) if metric in LOWER_IS_BETTER else (d > 0)
        return "beyond noise: " + ("better" if better else "worse")
    return "within noise"


def direction(metric: str, d: float | None, beyond: bool) -> str:
    """'good' / 'bad' for a change beyond noise (the page colours it), else ''."""
    if d is None or not beyond or d == 0:
        return ""
    better = (d < 0) if metric in LOWER_IS_BETTER else (d > 0)
    return "good" if better else "bad"


def owner(kind: str, brand: str | None) -> str:
    text = OWNERS.get(kind, kind)
    return f"{text} ({brand})" if brand else text


def alert_kind(kind: str) -> str:
    return ALERT_KINDS.get(kind, kind.replace("_", " ") or "alert")


def _day(v: Any) -> str:
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return str(v or "")[:10]


def period(start: Any, end: Any) -> str:
    a, b = _day(start), _day(end)
    return a if not b or a == b else f"{a} – {b}"


def _fact(v: Any) -> str:
    """One evidence value for a reader: numbers to 3 significant digits, a period as its days,
    a mapping as ``key value`` pairs, a list item by item."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, int | str):
        return str(v)
    if isinstance(v, Mapping):
        if set(v) == {"start", "end"}:
            return v["start"] if v["start"] == v["end"] else f"{v['start']} – {v['end']}"
        return ", ".join(f"{k} {_fact(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        flat = all(not isinstance(x, Mapping | list | tuple) for x in v)
        return (", " if flat else " | ").join(_fact(x) for x in v)
    return json.dumps(v, ensure_ascii=False, default=str)


def evidence(ev: Mapping[str, Any]) -> str:
    """An alert's evidence in one line: its facts (delta, se, n, quote …) as ``key: value``,
    numbers rounded, periods as days, cut to EVIDENCE_CHARS."""
    line = "; ".join(f"{key.replace('_', ' ')}: {_fact(v)}" for key, v in ev.items())
    return line if len(line) <= EVIDENCE_CHARS else line[: EVIDENCE_CHARS - 1] + "…"
