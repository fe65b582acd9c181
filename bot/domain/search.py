"""Search text handling: whatever a member types becomes plain words, never query syntax; where
those words occur in a note, as offsets (engines build their queries, the ui renders the matches).

Chinese, Japanese and Korean runs have no spaces between words, so both engines index them as
overlapping two-character pieces (bigrams) kept in a column of their own (`search_terms`), and a
query's run becomes a phrase of the same bigrams: "数据库" finds "…减少数据库查询…".
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from bot.domain.text import strip_control

MAX_QUERY_LENGTH = 500
"""Longest query the /note search option accepts; longer input is cut (and the reply says so)."""
MAX_QUERY_TOKENS = 16
"""Words beyond this many are ignored so that one query cannot get expensive."""
MAX_TOKEN_LENGTH = 64
MAX_SUGGESTIONS = 3
SUGGESTION_CUTOFF = 60.0
"""rapidfuzz WRatio score (0-100) a topic or tag needs to be suggested."""

_WORD = re.compile(r"[^\W_]+")
CJK_RANGES = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
"""Hangul Jamo, Hiragana, Katakana, Hangul compatibility Jamo, CJK ideographs (with extensions and
compatibility ideographs), Hangul syllables and half-width Katakana: scripts written without spaces."""
_CJK_RUN = re.compile(f"[{CJK_RANGES}]+")
_PIECE = re.compile(f"[{CJK_RANGES}]+|[^{CJK_RANGES}]+")


@dataclass(frozen=True, slots=True)
class CleanQuery:
    """What a member searched for, cleaned: the text searched, and what was changed to get it."""

    text: str
    ignored_invisible: bool = False
    """Invisible characters (zero-width joiners, NUL, other control and format characters) were
    dropped, and that changed the words searched for."""
    cut: bool = False
    """The query was longer than MAX_QUERY_LENGTH and only its start is searched."""


def clean_query(query: str) -> CleanQuery:
    """`query` without invisible characters (whitespace counts as a space), cut to MAX_QUERY_LENGTH."""
    spaced = " ".join(query.split())
    cleaned = " ".join(strip_control(spaced, keep_newlines=False).split())
    cut = len(cleaned) > MAX_QUERY_LENGTH
    cleaned = cleaned[:MAX_QUERY_LENGTH]
    # a zero-width joiner inside an emoji sequence changes no word: nothing worth mentioning
    ignored = cleaned != spaced[: len(cleaned)] and tokenize(cleaned) != tokenize(spaced)
    return CleanQuery(cleaned, ignored, cut)


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


def cjk_bigrams(run: str) -> list[str]:
    """A run of CJK characters as overlapping two-character pieces (a single character stays whole)."""
    if len(run) < 2:
        return [run] if run else []
    return [run[i : i + 2] for i in range(len(run) - 1)]


def search_terms(*texts: str | None) -> str:
    """The extra index text of a note's `texts`: for every word holding CJK characters, its CJK runs
    as bigrams and its other letters as words of their own (so "Redis缓存" is found by "redis" and
    "缓存"); empty when the texts have no CJK character."""
    terms: list[str] = []
    for text in texts:
        if not text or _CJK_RUN.search(text) is None:
            continue
        for word in _WORD.findall(text.casefold()):
            if _CJK_RUN.search(word) is None:
                continue
            for piece in _PIECE.findall(word):
                terms.extend(cjk_bigrams(piece) if _CJK_RUN.fullmatch(piece) else [piece])
    return " ".join(terms)


def query_terms(words: Iterable[str]) -> tuple[str, ...]:
    """What the engines look for, from a query's words: each term is a word, or, for a CJK run, a
    phrase of its bigrams (space-separated, in order). A word mixing scripts gives one term a piece."""
    terms: list[str] = []
    for word in words:
        pieces = _PIECE.findall(word) if _CJK_RUN.search(word) else [word]
        for piece in pieces:
            term = " ".join(cjk_bigrams(piece)) if _CJK_RUN.fullmatch(piece) else piece
            if term and term not in terms:
                terms.append(term)
    return tuple(terms)


RANK_SPLIT_MIN_NOTES = 10_000
"""Fewer notes than this, and a search ranks by every word: nothing to save there, and a young
server's word counts, kept for minutes, would go stale fastest."""
RANK_SPLIT_MAX_SHARE = 0.05
"""Share of the notes the rarest word left to rank by may be in, for the common words to only filter."""


def counts_matter(notes: int) -> bool:
    """Whether a search over `notes` notes may set common words aside (`filter_only`): if not, the
    words need not be counted."""
    return notes >= RANK_SPLIT_MIN_NOTES


def filter_only(counts: Mapping[str, int], notes: int) -> frozenset[str]:
    """The words of an all-words search that only filter its hits, given how many of the `notes`
    notes hold each word: those bm25 all but ignores, in half the notes or more.

    bm25 weighs a word in n of N notes by log((N - n + 0.5) / (n + 0.5)), which FTS5 clamps to 1e-6
    once 2n >= N; yet it walks the word's whole index entry to find n. Left out of the ranking, such
    a word moves no score by more than 2.2e-6 (the clamped weight times bm25's largest term factor,
    k1 + 1), though notes tied on the other words then keep their plain order (newest first).

    None of them when there are fewer than RANK_SPLIT_MIN_NOTES notes, when no other word is left,
    or when the rarest word left is in no note (FTS5 drops a word it cannot index from an all-words
    match) or in more than RANK_SPLIT_MAX_SHARE of them: the notes it matches, ranked without the
    common words to narrow them, would cost more than the walks saved.
    """
    if not counts_matter(notes):
        return frozenset()
    common = frozenset(word for word, count in counts.items() if 2 * count >= notes)
    left = [count for word, count in counts.items() if word not in common]
    if not common or not left or not 0 < min(left) <= RANK_SPLIT_MAX_SHARE * notes:
        return frozenset()
    return common


@dataclass(frozen=True, slots=True)
class Snippet:
    """A window of a note's text and the (start, end) offsets in it of the words that matched."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()


def _fold(word: str) -> str:
    """`word` lower-cased without diacritics, as SQLite's unicode61 tokenizer compares words."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def match_spans(text: str, tokens: Iterable[str], *, prefix: bool = False) -> Iterator[tuple[int, int]]:
    """Where in `text` the query's words matched, in order, as the engines tokenise: whole words
    equal to (with `prefix`, starting with) a query word, and inside CJK runs the query's CJK runs."""
    plain, runs, ascii_words = _query_pieces(tuple(tokens))
    if ascii_words and text.isascii():
        # the common case, one regular expression scan: ASCII words fold by lower-casing alone,
        # and ASCII text holds no CJK run
        if plain:
            yield from (found.span() for found in _ascii_matcher(plain, prefix).finditer(text))
        return

    def matches(word: str) -> bool:
        folded = _fold(word)
        return folded in plain or (prefix and any(folded.startswith(p) for p in plain))

    for found in _WORD.finditer(text):
        if matches(found.group()):
            yield found.span()
        elif _CJK_RUN.search(found.group()):
            for piece in _PIECE.finditer(found.group()):
                base = found.start() + piece.start()
                if not _CJK_RUN.fullmatch(piece.group()):
                    if matches(piece.group()):
                        yield base, base + len(piece.group())
                    continue
                yield from _run_spans(piece.group(), runs, base)


@functools.lru_cache(maxsize=256)
def _query_pieces(tokens: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str], bool]:
    """A query's plain words and CJK runs, folded as the engines compare them, and whether the plain
    words are all ASCII (cached: a search builds a snippet per hit from the same words)."""
    plain: set[str] = set()
    runs: set[str] = set()
    for word in tokens:
        for piece in _PIECE.findall(word):
            (runs if _CJK_RUN.fullmatch(piece) else plain).add(_fold(piece))
    plain.discard("")
    return frozenset(plain), frozenset(runs), all(word.isascii() for word in plain)


@functools.lru_cache(maxsize=256)
def _ascii_matcher(plain: frozenset[str], prefix: bool) -> re.Pattern[str]:
    """Whole ASCII words equal to (with `prefix`, starting with) one of `plain`, any case: the same
    spans as `match_spans`'s word-by-word loop gives on ASCII text."""
    # longest first, so that a word is never cut short by a shorter alternative that is its prefix
    words = "|".join(re.escape(word) for word in sorted(plain, key=len, reverse=True))
    rest = "[a-z0-9]*" if prefix else "(?![a-z0-9])"
    return re.compile(f"(?<![a-z0-9])(?:{words}){rest}", re.ASCII | re.IGNORECASE)


def _run_spans(run: str, wanted: frozenset[str], base: int) -> list[tuple[int, int]]:
    """Where the `wanted` CJK runs occur in `run` (offset by `base`), overlaps merged."""
    hits = sorted(
        (base + m.start(), base + m.start() + len(w)) for w in wanted for m in re.finditer(f"(?={re.escape(w)})", run)
    )
    merged: list[tuple[int, int]] = []
    for start, end in hits:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, tokens: Iterable[str], *, width: int = 160, prefix: bool = False) -> Snippet:
    """A window of `text` around the first matching word, with the spans of the whole matched words."""
    words = [t for t in tokens if t]
    flat = " ".join(text.split())
    found = match_spans(flat, words, prefix=prefix) if words else iter(())
    first = next(found, None)
    start = max(0, first[0] - width // 3) if first else 0
    window = flat[start : start + width]
    lead = "…" if start else ""
    suffix = "…" if start + width < len(flat) else ""
    end = start + len(window)
    spans: list[tuple[int, int]] = []
    for a, b in itertools.chain([first] if first else [], found):
        if b > end:
            break
        spans.append((len(lead) + a - start, len(lead) + b - start))
    return Snippet(f"{lead}{window}{suffix}", tuple(spans))


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
