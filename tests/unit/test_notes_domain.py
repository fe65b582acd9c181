"""Pure note logic: tokenising, snippets, validation and the README renderer; FTS5 quoting and
snippet rendering, which are pure too."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from bot.domain.errors import ValidationError
from bot.domain.notes import NoteKind, parse_note_ref, parse_tags, validate_note
from bot.domain.readme import SECTION_TITLES, Collaboration, ReadmeNote, render_readme
from bot.domain.search import (
    MAX_QUERY_LENGTH,
    CleanQuery,
    Snippet,
    cjk_bigrams,
    clean_query,
    filter_only,
    query_terms,
    search_terms,
    snippet,
    tokenize,
)
from bot.services.notes.fts5 import fts5_match
from bot.services.notes.search import SearchResult
from bot.ui.search import nothing_found, render_snippet


def test_tokenize_keeps_words_of_any_script_and_drops_syntax():
    assert tokenize('"JWT" AND (docker*) ^title:x NEAR') == ("jwt", "and", "docker", "title", "x", "near")
    assert tokenize("日本語 Джанго 🐍 !!!") == ("日本語", "джанго")
    assert tokenize("   ") == ()
    assert len(tokenize(" ".join(f"w{i}" for i in range(100)))) == 16


def test_fts5_match_quotes_every_token():
    assert fts5_match(["jwt", 'a"b']) == '"jwt" "a""b"'
    assert fts5_match(["a", "b"], any_word=True, prefix=True) == '"a" * OR "b" *'


def test_snippet_finds_the_spans_of_matching_words():
    found = snippet("Use  JWT tokens;\nrotate jwt refresh tokens", ["jwt", "tokens"])
    assert found.text == "Use JWT tokens; rotate jwt refresh tokens"
    assert [found.text[start:end] for start, end in found.spans] == ["JWT", "tokens", "jwt", "tokens"]
    assert snippet("no match here", []) == Snippet("no match here")


def test_snippet_is_a_window_around_the_first_match():
    text = "filler " * 50 + "the docker compose file" + " filler" * 50
    found = snippet(text, ["docker"], width=60)
    assert found.text.startswith("…") and found.text.endswith("…") and len(found.text) == 62
    assert [found.text[start:end] for start, end in found.spans] == ["docker"]


def test_render_snippet_bolds_matches_and_escapes_the_rest():
    text = "use jwt with **care** @everyone"
    rendered = render_snippet(Snippet(text, ((4, 7),)), limit=200)
    assert "**jwt**" in rendered and "\\*\\*care\\*\\*" in rendered and "@everyone" not in rendered


@pytest.mark.parametrize("control", ["\u200b", "\x07", "\u202e", ""])
def test_render_snippet_drops_control_characters_whatever_the_path(control):
    text = f"use jw{control}t with <@123> and # care"
    rendered = render_snippet(Snippet(text, ((0, 3),)), limit=200)
    assert rendered == "**use** jwt with <@\u200b123> and # care"


def test_render_snippet_merges_adjacent_matches_and_closes_bold_when_cut():
    assert render_snippet(Snippet("jwtjwt x", ((0, 3), (3, 6))), limit=200) == "**jwtjwt** x"
    cut = render_snippet(Snippet("aaaa bbbbbbbbbb", ((5, 15),)), limit=10)
    assert cut.count("**") % 2 == 0 and cut.endswith("…")


@pytest.mark.parametrize(("text", "expected"), [("12", 12), ("#7", 7), (" 3 ", 3), ("abc", None), ("0", None)])
def test_parse_note_ref(text, expected):
    assert parse_note_ref(text) == expected


def test_tags_are_normalised_and_bounded():
    assert parse_tags("JWT, #auth  drf,jwt") == ("jwt", "auth", "drf")
    with pytest.raises(ValidationError):
        parse_tags(", ".join(f"t{i}" for i in range(11)))


def test_validate_note_rules():
    with pytest.raises(ValidationError, match="blank"):
        validate_note(NoteKind.LEARNING, " \u200b\x00 ", "body")
    with pytest.raises(ValidationError, match="Only challenges"):
        validate_note(NoteKind.PRACTICE, "t", "b", "solution")
    assert validate_note(NoteKind.CHALLENGE, "  a   b ", "body", "fix").title == "a b"


def _sections(markdown: str) -> list[str]:
    tokens = MarkdownIt().parse(markdown)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]


def test_readme_has_six_sections_even_with_hostile_bodies():
    notes = [
        ReadmeNote("## Fake", "## heading\ntext\n===\n<!-- open\n```\nunclosed", NoteKind.LEARNING, "Django"),
        ReadmeNote("C", "problem", NoteKind.CHALLENGE, "Docker", solution=None),
        ReadmeNote("Tip", "pin tags", NoteKind.TIP, "Docker"),
    ]
    markdown = render_readme("Ada *L*", notes)
    assert _sections(markdown) == list(SECTION_TITLES)
    assert "Not recorded yet." in markdown and "No solution recorded yet" in markdown


def test_readme_collaboration_and_empty_notes():
    markdown = render_readme("Ada", [], Collaboration("Nexus API", "Backend", ("Grace", "Linus")))
    assert _sections(markdown) == list(SECTION_TITLES)
    assert "Nexus API" in markdown and "Grace, Linus" in markdown and "has not recorded any notes" in markdown


def test_snippet_never_bolds_letters_inside_another_word():
    found = snippet("A JOIN fixed the N+1 queries; the transaction was on time", tokenize("N+1 queries on"))
    assert [found.text[start:end] for start, end in found.spans] == ["N", "1", "queries", "on"]
    prefixed = snippet("transactions and trans", ["trans"], prefix=True)
    assert [prefixed.text[start:end] for start, end in prefixed.spans] == ["transactions", "trans"]
    assert snippet("Café crème", ["cafe"]).spans == ((0, 4),)


def test_snippet_window_never_bolds_a_word_it_cuts():
    text = "x" * 10 + " jwtjwt jwt"
    found = snippet(text, ["jwt"], width=8)
    assert all(found.text[start:end] == "jwt" for start, end in found.spans)


def test_cjk_runs_become_bigrams_in_the_index_and_the_query():
    assert search_terms("我们用缓存", None, "plain english") == "我们 们用 用缓 缓存"
    assert search_terms("Redis缓存 库") == "redis 缓存 库"
    assert search_terms("no cjk here") == ""
    assert query_terms(tokenize("数据库 db缓存 jwt 库")) == ("数据 据库", "db", "缓存", "jwt", "库")
    assert query_terms(tokenize("キャッシュ")) == ("キャ ャッ ッシ シュ",)
    assert cjk_bigrams("한국어") == ["한국", "국어"]


def test_clean_query_says_what_it_changed():
    assert clean_query("idem\u200dpotency") == CleanQuery("idempotency", ignored_invisible=True)
    assert clean_query("idempotency\x00") == CleanQuery("idempotency")
    assert clean_query("a\nb\tc") == CleanQuery("a b c")
    assert clean_query("👨\u200d👩\u200d👧") == CleanQuery("👨👩👧")
    long = clean_query("y" * (MAX_QUERY_LENGTH + 1))
    assert long.cut and len(long.text) == MAX_QUERY_LENGTH
    assert not clean_query("y" * MAX_QUERY_LENGTH).cut


def test_nothing_found_replies_say_what_was_changed():
    result = SearchResult(("idempotency",), ignored_invisible=True, cut=True)
    text = nothing_found("idem\u200dpotency", result)
    assert "“idempotency”" in text
    assert "(ignored invisible characters)" in text
    assert f"(your search was cut to the first {MAX_QUERY_LENGTH} characters)" in text
    assert "ignored" not in nothing_found("jwt", SearchResult(("jwt",)))


@pytest.mark.parametrize(
    ("counts", "notes", "expected"),
    [
        # bench/search.py's "refresh token rotation": "token" is in 57% of the notes
        ({"refresh": 3038, "token": 57232, "rotation": 3038}, 100_000, {"token"}),
        # exactly half: bm25's weight log((N - n + 0.5) / (n + 0.5)) is 0, clamped to 1e-6
        ({"the": 50_000, "cache": 2_874}, 100_000, {"the"}),
        ({"the": 49_999, "cache": 2_874}, 100_000, set()),
        # every word that common: nothing left to rank by
        ({"the": 93_675, "a": 55_869}, 100_000, set()),
        # the word left is in more than 5% of the notes: ranking all it matches costs more
        ({"the": 70_000, "mid": 45_000}, 100_000, set()),
        ({"the": 70_000, "mid": 5_000}, 100_000, {"the"}),
        ({"the": 70_000, "mid": 5_001}, 100_000, set()),
        # a word in no note (or one FTS5 cannot index): the old ranking decides
        ({"the": 70_000, "zzz": 0}, 100_000, set()),
        # a small server ranks by every word
        ({"the": 7_000, "cache": 30}, 9_999, set()),
        ({"the": 7_000, "cache": 30}, 10_000, {"the"}),
    ],
)
def test_words_in_half_the_notes_only_filter_a_large_enough_search(counts, notes, expected):
    assert filter_only(counts, notes) == expected
