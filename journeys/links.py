"""Link rewriting inside templates, for click tracking.

At compile time every anchor's href value (and every URL in the text part)
becomes a link slot of the Jinja template; when a render outputs a slot, its
personalised URL passes through the rewriting function the shell handed in.
The core signs nothing: the function decides what a tracked URL looks like.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from jinja2 import Undefined, pass_context
from jinja2.runtime import Context

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
        known = self.mapped.get(url)
        if known is not None:
            return known
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            return url
        return self.rewritten(url)

    def rewritten(self, url: str) -> str:
        """`final` for a URL known to be stripped and http(s)."""
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
"""Markers around an href value in the compiled HTML, and (TEXT_*) around a URL
in the derived text part; `link_slots` replaces them before Jinja compiles."""
TEXT_OPEN, TEXT_CLOSE = "\x03", "\x04"

SLOT = "__jl{}"
STATE = "__jstate"
LINK = "__jlink"
LINK_HTML = "__jlink_html"
_CONSTRUCT = ("{{", "{%", "{#")
_ONE_EXPRESSION = re.compile(r"\{\{-?((?:(?!\}\}).)*?)-?\}\}", re.DOTALL)


def wrap_anchor_hrefs(markup: str) -> str:
    """Mark every anchor's href value."""
    return _ANCHOR_HREF.sub(lambda m: f"{m.group(1)}{m.group(2)}{OPEN}{m.group(3)}{CLOSE}{m.group(2)}",
                            markup)


def link_slots(template: str, urls: list[str], *, html_mode: bool) -> str:
    """Template text whose marked URLs become link slots, at compile time.

    A static URL becomes `{{ __jlN }}` (N its place in `urls`, a lazy value that
    asks the rewriting function only when it is output); an href that is one
    expression passes through `__jlink(...)`; anything mixed is captured with
    `{% set %}` first. So a render never scans its output for links.
    """
    open_, close = (OPEN, CLOSE) if html_mode else (TEXT_OPEN, TEXT_CLOSE)
    pattern = re.compile(f"{open_}([^{open_}{close}]*){close}")
    captures = 0

    def one(match: re.Match[str]) -> str:
        nonlocal captures
        value = match.group(1)
        if not any(mark in value for mark in _CONSTRUCT):
            url = (html.unescape(value) if html_mode else value).strip()
            if not url.lower().startswith(("http://", "https://")):
                return value
            if url not in urls:
                urls.append(url)
            return "{{ " + SLOT.format(urls.index(url)) + " }}"
        single = _ONE_EXPRESSION.fullmatch(value)
        if single and "{%" not in value:
            return "{{ (" + single.group(1).strip() + ")|" + LINK + " }}"
        captures += 1
        name = f"__jlc{captures}"
        call = LINK_HTML if html_mode else LINK
        return "{% set " + name + " %}" + value + "{% endset %}{{ " + name + "|" + call + " }}"

    return pattern.sub(one, template)


class _Slot:
    """A static URL of the template; rewritten when (and only if) it is output."""

    __slots__ = ("state", "url")

    def __init__(self, state: LinkState, url: str) -> None:
        self.state = state
        self.url = url

    def __str__(self) -> str:
        return self.state.rewritten(self.url)

    def __html__(self) -> str:
        final = self.state.rewritten(self.url)
        return html.escape(final, quote=True) if _NEEDS_ESCAPE.search(final) else final


def link_context(state: LinkState, urls: tuple[str, ...]) -> dict[str, Any]:
    """The names `link_slots` used, bound to this render's link state."""
    names: dict[str, Any] = {SLOT.format(i): _Slot(state, url) for i, url in enumerate(urls)}
    names[STATE] = state
    return names


@pass_context
def _link(context: Context, value: Any) -> str:
    text = "" if value is None or isinstance(value, Undefined) else str(value)
    state = context.get(STATE)
    return state.final(text) if isinstance(state, LinkState) else text


@pass_context
def _link_html(context: Context, captured: Any) -> str:
    text = html.unescape(str(captured))
    state = context.get(STATE)
    return state.final(text) if isinstance(state, LinkState) else text


LINK_FILTERS = {LINK: _link, LINK_HTML: _link_html}
"""Registered on the template environment (unguarded: they do no work a template controls)."""


def rewrite_anchor_hrefs(markup: str, state: LinkState) -> str:
    """The slow path, for finished HTML: rewrite hrefs by scanning it."""
    def one(match: re.Match[str]) -> str:
        url = html.unescape(match.group(3))
        return f"{match.group(1)}{match.group(2)}{html.escape(state.final(url), quote=True)}{match.group(2)}"
    return _ANCHOR_HREF.sub(one, markup)
