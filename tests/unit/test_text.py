from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.text import (
    ZERO_WIDTH_SPACE,
    escape_markdown,
    neutralise_mentions,
    safe_text,
    strip_control,
    strip_control_by_category,
    truncate,
)
from bot.sandbox.state import compute_pings


def test_mass_mentions_are_broken():
    text = neutralise_mentions("hi @everyone and @here <@&123> <@456> <@!789> <#42>")
    pings = compute_pings(text, None)  # even with Discord's most permissive default
    assert not pings.everyone and not pings.roles and not pings.users
    assert f"@{ZERO_WIDTH_SPACE}everyone" in text


def test_markdown_is_escaped():
    assert escape_markdown("**bold** `code` [x](y)") == r"\*\*bold\*\* \`code\` \[x\](y)"
    assert escape_markdown("# title\n> quote\n- item\nE-Commerce") == "\\# title\n\\> quote\n\\- item\nE-Commerce"


def test_control_characters_are_dropped_but_newlines_kept():
    assert strip_control(" a\x00b\u202ec\nd \x1b") == "abc\nd"


def test_safe_text_limits_length():
    result = safe_text("x" * 500, limit=100)
    assert len(result) == 100 and result.endswith("…")
    assert truncate("short", 10) == "short"


@given(st.text(), st.booleans())
def test_strip_control_fast_path_agrees_with_the_definition(text, keep_newlines):
    assert strip_control(text, keep_newlines=keep_newlines) == strip_control_by_category(
        text, keep_newlines=keep_newlines
    )


def test_strip_control_keeps_only_newlines_when_asked():
    assert strip_control("a\nb\u200bc", keep_newlines=False) == "abc"
    assert strip_control("a\nb\u00a0c") == "a\nb\u00a0c"  # a no-break space is not a control character
