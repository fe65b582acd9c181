"""Search text handling: whatever a member types becomes plain words, never query syntax."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz, process, utils

from bot.domain.text import safe_text

MAX_QUERY_LENGTH = 500
"""Longest query the /note search option accepts; longer input is cut, not refused."""
MAX_QUERY_TOKENS = 16
"""Words beyond this many are ignored so that one query cannot get expensive."""
MAX_TOKEN_LENGTH = 64
MAX_SUGGESTIONS = 3
SUGGESTION_CUTOFF = 60.0
"""rapidfuzz WRatio score (0-100) a topic or tag needs to be suggested."""

HIGHLIGHT_START = "\ue000"
HIGHLIGHT_END = "\ue001"
"""Private-use characters that mark matches in raw snippets; they survive escaping, then become bold."""

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


def fts5_string(token: str) -> str:
    """`token` as an FTS5 string literal: wrapped in double quotes, embedded quotes doubled."""
    return '"' + token.replace('"', '""') + '"'


def fts5_match(tokens: Iterable[str], *, any_word: bool = False, prefix: bool = False) -> str:
    """An FTS5 MATCH expression in which every token is a quoted string, never an operator.

    All words must match unless `any_word`; with `prefix`, each word also matches longer words.
    """
    star = " *" if prefix else ""
    parts = [fts5_string(token) + star for token in tokens]
    return (" OR " if any_word else " ").join(parts)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with `%`, `_` and the escape `\\` escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def render_snippet(raw: str, *, limit: int) -> str:
    """A snippet marked with HIGHLIGHT_START/END, made safe for Discord, with matches in bold."""
    text = " ".join(raw.split())
    rendered = safe_text(text)
    rendered = rendered.replace(HIGHLIGHT_START, "**").replace(HIGHLIGHT_END, "**")
    rendered = rendered.replace("****", "")
    if len(rendered) > limit:
        rendered = rendered[: limit - 1].rstrip() + "…"
        if rendered.count("**") % 2:
            rendered = rendered[:-1].rstrip("*") + "**…"
    return rendered


def highlight(text: str, tokens: Iterable[str], *, width: int = 160) -> str:
    """A window of `text` around the first matching word, matches marked for render_snippet."""
    words = [t for t in tokens if t]
    flat = " ".join(text.split())
    if not words:
        return flat[:width]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    first = pattern.search(flat)
    start = 0 if first is None else max(0, first.start() - width // 3)
    window = flat[start : start + width]
    marked = pattern.sub(lambda m: f"{HIGHLIGHT_START}{m.group(0)}{HIGHLIGHT_END}", window)
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(flat) else ""
    return f"{prefix}{marked}{suffix}"


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
