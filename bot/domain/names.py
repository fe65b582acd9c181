"""Matching what a member typed against a short list of names (catalog projects, note topics).

Ranking puts names the text is a prefix of, then names whose words the text's words begin, ahead
of fuzzy matches, so `ecom` finds E-Commerce before Movie Recommendation. Resolving a typed name
accepts an exact match ignoring case and punctuation (`ecommerce` is E-Commerce), a prefix only one
name has, or a near-match that is unambiguous: its score is at least NEAR_MATCH_SCORE and at least
NEAR_MATCH_LEAD ahead of the runner-up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz, process, utils

NEAR_MATCH_SCORE = 85
"""The least rapidfuzz WRatio (0-100) for a typed name to be taken as a near-match."""
NEAR_MATCH_LEAD = 10
"""How far the best near-match must be ahead of the second for it to be unambiguous."""
PREFIX_MIN = 3
"""The fewest letters (ignoring punctuation) a unique prefix needs to be accepted as the name."""
RANK_SCORE = 50
"""The least fuzzy score for a name to be offered in autocomplete."""
SUGGEST_SCORE = 60
"""The least fuzzy score for a name to be suggested in "did you mean"."""

_WORD = re.compile(r"[^\W_]+")


def compact(text: str) -> str:
    """Letters and digits only, case-folded: 'E-Commerce' and 'ecommerce' are the same."""
    return "".join(_WORD.findall(text.casefold()))


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _tier(query: str, name: str) -> int | None:
    """0: the text begins the name; 1: each typed word begins a word of the name; None otherwise."""
    typed = compact(query)
    if typed and compact(name).startswith(typed):
        return 0
    words = _words(name)
    typed_words = _words(query)
    if typed_words and all(any(w.startswith(t) for w in words) for t in typed_words):
        return 1
    return None


def _fuzzy(query: str, names: Sequence[str], limit: int, cutoff: float) -> list[tuple[str, float]]:
    found = process.extract(
        query, list(names), scorer=fuzz.WRatio, processor=utils.default_process, limit=limit, score_cutoff=cutoff
    )
    return [(name, score) for name, score, _ in found]


def rank_names(query: str, names: Sequence[str], limit: int) -> list[str]:
    """Names for an autocomplete box: prefix matches, then word-prefix matches, then fuzzy ones."""
    if not query.strip():
        return list(names)[:limit]
    tiers: dict[str, int] = {}
    for name in names:
        tier = _tier(query, name)
        if tier is not None:
            tiers[name] = tier
    ranked = sorted(tiers, key=lambda n: (tiers[n], n.casefold()))
    if len(compact(query)) >= PREFIX_MIN:  # fuzzy matches of one or two letters are noise
        ranked += [name for name, _ in _fuzzy(query, names, len(names), RANK_SCORE) if name not in tiers]
    return ranked[:limit]


def match_name(query: str, names: Sequence[str]) -> str | None:
    """The one name the text means, or None when it names none or several equally well."""
    typed = compact(query)
    if not typed:
        return None
    exact = [name for name in names if compact(name) == typed]
    if len(exact) == 1:
        return exact[0]
    if len(typed) >= PREFIX_MIN:
        prefixed = [name for name in names if compact(name).startswith(typed)]
        if len(prefixed) == 1:
            return prefixed[0]
    if len(typed) < PREFIX_MIN:
        return None
    best = _fuzzy(query, names, 2, 0)
    if not best or best[0][1] < NEAR_MATCH_SCORE:
        return None
    if len(best) > 1 and best[0][1] - best[1][1] < NEAR_MATCH_LEAD:
        return None
    return best[0][0]


def suggest_names(query: str, names: Sequence[str], limit: int = 3) -> list[str]:
    """Names that look like the text, best first, for a "did you mean" reply."""
    return [name for name, _ in _fuzzy(query, names, limit, SUGGEST_SCORE)]
