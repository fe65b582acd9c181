"""Search text handling: whatever a member types becomes plain words, never query syntax; where
those words occur in a note, as offsets (engines build their queries, the ui renders the matches)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

MAX_QUERY_LENGTH = 500
"""Longest query the /note search option accepts; longer input is cut, not refused."""
MAX_QUERY_TOKENS = 16
"""Words beyond this many are ignored so that one query cannot get expensive."""
MAX_TOKEN_LENGTH = 64
MAX_SUGGESTIONS = 3
SUGGESTION_CUTOFF = 60.0
"""rapidfuzz WRatio score (0-100) a topic or tag needs to be suggested."""

_WORD = re.compile(r"[^\W_]+")


def tokenize(text: str) -> tuple[str, ...]:
    """The searchable words in `text`: letters and digits of any script, lower-cased, deduplicated.

    Everything else (quotes, operators, `*`, `^`, `:`, brackets, emoji, punctuation) separates words.
    """
    words: list[str] = []
    for word in _WORD.findall(text[:MAX_QUERY_LENGTH].casefold()):
        word = word[:MAX_TOKEN_LENGTH]
        if word not in words:
            words.append(word)
        if len(words) == MAX_QUERY_TOKENS:
            break
    return tuple(words)


@dataclass(frozen=True, slots=True)
class Snippet:
    """A window of a note's text and the (start, end) offsets in it of the words that matched."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()


def snippet(text: str, tokens: Iterable[str], *, width: int = 160) -> Snippet:
    """A window of `text` around the first matching word, with the spans of the matches in it."""
    pattern = _token_pattern(tokens)
    flat = " ".join(text.split())
    if pattern is None:
        return Snippet(flat[:width])
    first = pattern.search(flat)
    start = 0 if first is None else max(0, first.start() - width // 3)
    window = flat[start : start + width]
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(flat) else ""
    spans = tuple((len(prefix) + match.start(), len(prefix) + match.end()) for match in pattern.finditer(window))
    return Snippet(f"{prefix}{window}{suffix}", spans)


def _token_pattern(tokens: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching any of the tokens, longest first; None when there is no token."""
    words = [t for t in tokens if t]
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)


def suggest(query: str, candidates: Iterable[str], *, limit: int = MAX_SUGGESTIONS) -> tuple[str, ...]:
    """Topics or tags that look like what the member typed (for "nothing found" replies)."""
    pool = list(dict.fromkeys(c for c in candidates if c))
    text = " ".join(tokenize(query))
    if not text or not pool:
        return ()
    found: list[str] = []
    for word in (text, *tokenize(query)):
        for choice, _score, _index in process.extract(
            word,
            pool,
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            limit=limit,
            score_cutoff=SUGGESTION_CUTOFF,
        ):
            if choice not in found:
                found.append(choice)
    return tuple(found[:limit])
