from __future__ import annotations

from bot.domain.text import (
    ZERO_WIDTH_SPACE,
    escape_markdown,
    neutralise_mentions,
    safe_text,
    strip_control,
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
