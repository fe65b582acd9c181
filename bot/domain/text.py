"""Making member-written text safe to show: no pings, no broken markdown, bounded length."""

from __future__ import annotations

import re
import unicodedata

ZERO_WIDTH_SPACE = "\u200b"
_MASS_MENTION = re.compile(r"@(everyone|here)")
_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
_MARKDOWN = re.compile(r"([\\*_~`|\[\]])")
_LINE_START = re.compile(r"^(\s*)([>#-]|\d+\.)", re.MULTILINE)


_UNCARRIABLE = re.compile("[\x00\ud800-\udfff]")


def carriable(text: str) -> str:
    """`text` without what neither Discord nor the database can carry: NUL and lone surrogates."""
    return _UNCARRIABLE.sub("", text)


def neutralise_mentions(text: str) -> str:
    """Break @everyone, @here and <@...> mentions so they render as text and ping nobody."""
    text = _MASS_MENTION.sub(lambda m: f"@{ZERO_WIDTH_SPACE}{m.group(1)}", text)
    return _MENTION.sub(lambda m: f"<{m.group(1)}{ZERO_WIDTH_SPACE}{m.group(2)}>", text)


def escape_markdown(text: str) -> str:
    """Escape Discord markdown so member text cannot restyle or break an embed."""
    escaped = _MARKDOWN.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", escaped)


DROPPED_CATEGORIES = ("Cc", "Cf", "Cs")
"""Control and format characters, and lone surrogates (which no UTF-8 text, so neither Discord nor
the database, can carry; a decoded str holds a surrogate only when it stands alone)."""


def strip_control(text: str, *, keep_newlines: bool = True) -> str:
    """Drop control and format characters and lone surrogates (keeping newlines if asked), and trim."""
    # Fast path: printable text has no control or format characters (str.isprintable is False for
    # every Cc, Cf and Cs character, and also for some harmless ones, which take the careful path).
    printable = all(line.isprintable() for line in text.split("\n")) if keep_newlines else text.isprintable()
    return text.strip() if printable else strip_control_by_category(text, keep_newlines=keep_newlines)


def strip_control_by_category(text: str, *, keep_newlines: bool = True) -> str:
    """strip_control, character by character (the definition the fast path must agree with)."""
    kept = []
    for char in text:
        if keep_newlines and char == "\n":
            kept.append(char)
        elif unicodedata.category(char) in DROPPED_CATEGORIES:
            continue
        else:
            kept.append(char)
    return "".join(kept).strip()


def safe_text(text: str, *, limit: int | None = None) -> str:
    """Member text ready for an embed: control characters dropped, markdown escaped, no pings."""
    cleaned = neutralise_mentions(escape_markdown(strip_control(text)))
    if limit is not None:
        cleaned = truncate(cleaned, limit)
    return cleaned


def code_span(text: str) -> str:
    """`text` as inline code with its backticks removed, so member text inside can neither close the
    span early nor become a masked link or other markup."""
    return f"`{text.replace('`', '')}`"


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def quoted(text: str, limit: int = 60) -> str:
    """Member text echoed inside a sentence: one line, quoted, markdown escaped, pinging nobody."""
    return f"“{safe_text(' '.join(strip_control(text).split()), limit=limit)}”"
