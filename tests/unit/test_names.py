"""Matching typed names against the catalog and topic lists."""

from __future__ import annotations

from bot.domain.names import match_name, rank_names, suggest_names

CATALOG = ["E-Commerce", "Movie Recommendation", "Online Poll System", "Job Board", "Social Media Feed"]


def test_prefix_and_word_matches_rank_before_fuzzy_ones():
    assert rank_names("ecom", CATALOG, 5)[0] == "E-Commerce"
    assert rank_names("feed", CATALOG, 5)[0] == "Social Media Feed"
    assert rank_names("", CATALOG, 2) == CATALOG[:2]


def test_exact_ignoring_punctuation_prefix_and_near_matches_are_accepted():
    assert match_name("ecommerce", CATALOG) == "E-Commerce"
    assert match_name("e commerce", CATALOG) == "E-Commerce"
    assert match_name("movie", CATALOG) == "Movie Recommendation"
    assert match_name("Job Bord", CATALOG) == "Job Board"
    assert match_name("Job Board Backend", CATALOG) == "Job Board"  # the names before the rename


def test_unknown_short_or_ambiguous_text_is_not_accepted():
    assert match_name("Spaceship Backend", CATALOG) is None
    assert match_name("jb", CATALOG) is None
    assert match_name("Jobb Bored", CATALOG) is None
    assert suggest_names("Jobb Bored", CATALOG) == ["Job Board"]
    assert match_name("Django", ["Django", "Django REST"]) == "Django"
    assert match_name("Djan", ["Django", "Django REST"]) is None  # a prefix of both
