"""Request parsers of both HTTP interfaces: JSON with a bounded nesting depth.

The standard library's decoder recurses once per level, so a 20 KB body of 10,000 nested
brackets raises ``RecursionError`` (a 500). No request of ours nests deeper than a few levels;
anything deeper than ``MAX_JSON_DEPTH`` is a 400 before it reaches the decoder.
"""

from __future__ import annotations

import re

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32
# Brackets and strings (whose brackets do not count); escapes inside strings are skipped whole.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays/objects deeper than ``limit`` (an iterative scan)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match[0]
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a depth limit, decoded by orjson: strict JSON (no NaN), valid
    UTF-8 and no lone surrogates (which no text column or encoder downstream accepts)."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        if json_depth_exceeds(body):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
