"""The plain-text part of an email, derived from its HTML.

Readable rather than faithful: head, style and script are dropped, blocks
become lines, links read "label (url)", and at most one blank line separates
paragraphs, whatever layout tables MJML produced.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

from journeys.links import TEXT_CLOSE, TEXT_OPEN

PLACEHOLDER_MARK = "jjph"

_BLOCKS = frozenset({"p", "div", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
                     "ol", "section", "article", "header", "footer", "blockquote", "center"})
_SKIP = frozenset({"head", "style", "script", "title"})


class _TextParser(HTMLParser):
    def __init__(self, template_mode: bool, link: Callable[[str], str] | None) -> None:
        super().__init__(convert_charrefs=True)
        self.template_mode = template_mode
        self.link = link
        self.parts: list[str] = []
        self.skipping = 0
        self.links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), len(self.parts)))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self.skipping:
                self.parts.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n" if tag in ("p", "h1", "h2", "h3", "table") else "\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            href = href.strip() if href else href
            label = " ".join("".join(self.parts[start:]).split())
            if href and self._is_link(href):
                del self.parts[start:]
                url = f"{TEXT_OPEN}{href}{TEXT_CLOSE}" if self.template_mode else href
                if self.link is not None and not self.template_mode:
                    url = self.link(href)
                self.parts.append(url if not label or label == href else f"{label} ({url})")

    def _is_link(self, href: str) -> bool:
        if href.lower().startswith(("http://", "https://", "mailto:")):
            return True
        return self.template_mode and PLACEHOLDER_MARK in href

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str, *, template_mode: bool = False,
                 link: Callable[[str], str] | None = None) -> str:
    """Plain text of `markup`, with `link` applied to each URL shown.

    In template mode the markup still holds placeholders for Jinja constructs,
    and link URLs are marked for the link filter instead.
    """
    parser = _TextParser(template_mode, link)
    parser.feed(markup)
    parser.close()
    return tidy("".join(parser.parts))


_LINE_ENDS = re.compile(r"[ \t]*\n[ \t]*")
_RUNS = re.compile(r"[ \t]{2,}")
_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy_rendered(text: str) -> str:
    """`tidy` for text that was tidy before personalisation: a few C-speed passes."""
    # Python's regex engine is slow per character; most texts need no pass at all.
    if "  " in text or "\t" in text:
        text = _RUNS.sub(" ", text)
    if " \n" in text or "\n " in text or "\t" in text:
        text = _LINE_ENDS.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip() + "\n"


def tidy(text: str) -> str:
    """One space between words, no trailing spaces, at most one blank line in a row."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    text, blank = [], False
    for line in lines:
        if line:
            text.append(line)
            blank = False
        elif not blank and text:
            text.append("")
            blank = True
    return "\n".join(text).strip() + "\n"
