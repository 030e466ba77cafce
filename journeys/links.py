"""Link rewriting inside templates, for click tracking.

At compile time every anchor's href value is put between marker characters;
after rendering, each marked (personalised) URL passes through the rewriting
function the shell handed in, found by splitting on the markers rather than
parsing the HTML. The core signs nothing: the function decides what a
tracked URL looks like.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

LinkRewriter = Callable[[str], str]
_NEEDS_ESCAPE = re.compile(r"""[&<>"']""")
_ANCHOR_HREF = re.compile(r"""(<a\b[^>]*?\shref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


class LinkState:
    __slots__ = ("rewrite", "unsubscribe", "mapped")

    def __init__(self, rewrite: LinkRewriter | None, unsubscribe: str) -> None:
        self.rewrite = rewrite
        self.unsubscribe = unsubscribe
        self.mapped: dict[str, str] = {}  # original → final, in order of appearance

    def final(self, url: str) -> str:
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            return url
        known = self.mapped.get(url)
        if known is None:
            rewrite = self.rewrite
            known = rewrite(url) if rewrite is not None and url != self.unsubscribe else url
            self.mapped[url] = known
        return known

    @property
    def links(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.mapped.values()))


OPEN, CLOSE = "\x01", "\x02"
"""Markers around an href value in the compiled HTML; they pass through Jinja as
text and are replaced by the final URL after rendering."""


def wrap_anchor_hrefs(markup: str) -> str:
    """Mark every anchor's href value."""
    return _ANCHOR_HREF.sub(lambda m: f"{m.group(1)}{m.group(2)}{OPEN}{m.group(3)}{CLOSE}{m.group(2)}",
                            markup)


TEXT_OPEN, TEXT_CLOSE = "\x03", "\x04"
"""Markers around a URL in the text part; replaced after rendering, no filter needed."""


def finish_text_links(text: str, state: LinkState) -> str:
    """Replace each marked URL with its final form (str.split: faster than a regex here)."""
    pieces = text.split(TEXT_OPEN)
    out = [pieces[0]]
    for piece in pieces[1:]:
        url, closed, rest = piece.partition(TEXT_CLOSE)
        out.append(state.final(url) + rest if closed else piece)
    return "".join(out).replace(TEXT_CLOSE, "")


def finish_html_links(markup: str, state: LinkState) -> str:
    """Replace each marked (HTML-escaped) href with its final, escaped form."""
    if OPEN not in markup:
        return markup
    pieces = markup.split(OPEN)
    out = [pieces[0]]
    for piece in pieces[1:]:
        escaped, closed, rest = piece.partition(CLOSE)
        if not closed:
            out.append(piece)
            continue
        url = html.unescape(escaped) if "&" in escaped else escaped
        final = state.final(url)
        if final is not url and final != url:
            escaped = html.escape(final, quote=True) if _NEEDS_ESCAPE.search(final) else final
        out.append(escaped + rest)
    return "".join(out).replace(CLOSE, "")


def rewrite_anchor_hrefs(markup: str, state: LinkState) -> str:
    """The slow path, for finished HTML: rewrite hrefs by scanning it."""
    def one(match: re.Match[str]) -> str:
        url = html.unescape(match.group(3))
        return f"{match.group(1)}{match.group(2)}{html.escape(state.final(url), quote=True)}{match.group(2)}"
    return _ANCHOR_HREF.sub(one, markup)
