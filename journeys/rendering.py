"""Render a template version for a contact: subject + MJML body with Jinja personalisation.

The MJML compile is the expensive part and the same for every contact, so it
runs once per template version: every Jinja construct is swapped for an
opaque placeholder, the MJML is compiled, and the constructs are put back
into the HTML, which becomes one cached Jinja template. Per contact only the
personalisation runs. When the MJML compiler moves or drops a placeholder
(a loop around whole sections, say) that template falls back to rendering
Jinja first and compiling MJML per render: slower, equally correct.
"""
from __future__ import annotations

import hashlib
import html
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from jinja2 import Template
from jinja2.exceptions import TemplateError as JinjaError
from jinja2.exceptions import TemplateSyntaxError
from mjml import mjml2html

from journeys.errors import TemplateError
from journeys.html_text import html_to_text, tidy_rendered
from journeys.links import LinkRewriter, LinkState, link_context, link_slots, rewrite_anchor_hrefs, \
    wrap_anchor_hrefs
from journeys.sandbox import COMBINED, Budget, Sandbox, reset_budget, with_budget

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_PLACEHOLDER = "jjph{:06d}x"
_PLACEHOLDER_RE = re.compile(r"jjph(\d{6})x")
_UNSUBSCRIBE = re.compile(r"""href\s*=\s*["']\s*\{\{-?\s*unsubscribe_url\b[^}]*\}\}""", re.IGNORECASE)
_POSITION = re.compile(r"position (\d+)")
_BODY_OPEN = re.compile(r"<body[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class TemplateSource:
    subject: str
    mjml: str
    preheader: str = ""
    category: str = "marketing"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str
    preheader: str
    links: tuple[str, ...]


@dataclass(frozen=True)
class CompiledTemplate:
    """One Jinja template holding four blocks (subject, preheader, body, text), so
    a render builds one context; `text_block` False: derive text from the HTML."""

    template: Template
    mode: Literal["precompiled", "per_render"]
    text_block: bool
    has_preview: bool
    source: TemplateSource
    urls: tuple[str, ...] = ()  # the static URLs behind the link slots


class Renderer:
    """Compiles and renders templates; one instance is shared by a process."""

    def __init__(self, *, max_output_chars: int = 2_000_000, max_operations: int = 200_000,
                 cache_size: int = 512, precompile: bool = True) -> None:
        self.precompile = precompile  # False: always the slow, simple path (tests compare both)
        self.max_output_chars = max_output_chars
        self.max_operations = max_operations
        self.cache_size = cache_size
        self._html = Sandbox(autoescape=True)
        self._text = Sandbox(autoescape=False)
        self._cache: OrderedDict[str, CompiledTemplate] = OrderedDict()
        self._text_cache: OrderedDict[str, Template] = OrderedDict()

    def compile(self, source: TemplateSource, key: str | None = None) -> CompiledTemplate:
        """The compiled form of `source`, cached under `key` (an immutable version id)."""
        cache_key = key or _digest(source)
        cached = self._cache.get(cache_key)
        if cached is not None:
            self._cache.move_to_end(cache_key)
            return cached
        compiled = self._compile(source)
        self._cache[cache_key] = compiled
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return compiled

    def render(self, source: TemplateSource | CompiledTemplate, context: Mapping[str, Any], *,
               rewrite_link: LinkRewriter | None = None, key: str | None = None) -> RenderedEmail:
        compiled = source if isinstance(source, CompiledTemplate) else self.compile(source, key)
        state = LinkState(rewrite_link, str(context.get("unsubscribe_url") or ""))
        budget = with_budget(Budget(self.max_operations, self.max_output_chars))
        try:
            parts = self._blocks(compiled, context, ("subject", "preheader", "body", "text"),
                                 link_context(state, compiled.urls))
        finally:
            reset_budget(budget)
        subject, preheader, body, text = parts
        if compiled.mode == "per_render":
            body = _mjml(body)
            text = html_to_text(body, link=state.final)
            body = rewrite_anchor_hrefs(body, state)
        elif compiled.text_block:
            text = tidy_rendered(text)
        else:
            text = html_to_text(body)
        preheader = _one_line(preheader)
        if preheader and not compiled.has_preview:
            body = _inject_preview(body, preheader)
        return RenderedEmail(_one_line(subject), body, text, preheader, state.links)

    def render_subject(self, source: TemplateSource | CompiledTemplate,
                       context: Mapping[str, Any]) -> str:
        compiled = source if isinstance(source, CompiledTemplate) else self.compile(source)
        budget = with_budget(Budget(self.max_operations, self.max_output_chars))
        try:
            links = link_context(LinkState(None, ""), compiled.urls)
            return _one_line(self._blocks(compiled, context, ("subject",), links)[0])
        finally:
            reset_budget(budget)

    def render_text(self, template: str, context: Mapping[str, Any], what: str = "text") -> str:
        """A plain-text template (a webhook body): sandboxed, not escaped.

        Compiled once per distinct source: a journey renders the same body for
        every contact that passes its node, and the source is its own cache key.
        """
        compiled = self._text_cache.get(template)
        if compiled is None:
            compiled = self._parse(self._text, template, what)
            self._text_cache[template] = compiled
            if len(self._text_cache) > self.cache_size:
                self._text_cache.popitem(last=False)
        else:
            self._text_cache.move_to_end(template)
        budget = with_budget(Budget(self.max_operations, self.max_output_chars))
        try:
            return self._run(compiled, context, what)
        finally:
            reset_budget(budget)

    def _blocks(self, compiled: CompiledTemplate, context: Mapping[str, Any],
                names: tuple[str, ...], links: Mapping[str, Any] | None = None) -> list[str]:
        template = compiled.template
        try:
            # Template.new_context copies the names twice (ours, then with the globals): the
            # context is built here from one merged dict, as new_context would build it.
            values = {**template.globals, **context, **links} if links else {**template.globals, **context}
            run = template.environment.context_class(template.environment, values, template.name,
                                                     template.blocks, globals=template.globals)
            return [self._drain(template.blocks[name](run), name) for name in names]
        except TemplateError:
            raise
        except _RENDER_ERRORS as exc:
            self._locate(compiled.source, context)  # raises with the author's line
            raise TemplateError(str(exc), kind="render") from exc

    def _locate(self, source: TemplateSource, context: Mapping[str, Any]) -> None:
        """Re-run each part on its own: Jinja then reports lines of the author's source."""
        for env, text, what in ((self._text, source.subject, "subject"),
                                (self._html, source.preheader, "preheader"),
                                (self._html, source.mjml, "body")):
            self._run(self._parse(env, text, what), context, what)

    def _drain(self, chunks: Iterable[str], what: str) -> str:
        # Chunks come in small batches so the size check runs at C speed; a
        # batch is bounded, since every value a template computes is.
        out: list[str] = []
        size, limit, iterator = 0, self.max_output_chars, iter(chunks)
        while batch := list(islice(iterator, _DRAIN_BATCH)):  # a batch of empty chunks is not the end
            piece = "".join(batch)
            size += len(piece)
            if size > limit:
                raise TemplateError(f"{what}: the output is longer than {limit:,} characters",
                                    kind="limit")
            out.append(piece)
        return "".join(out)  # one piece: CPython hands that string back, no copy

    def _run(self, template: Template, context: Mapping[str, Any], what: str) -> str:
        try:
            return self._drain(template.generate(context), what)
        except TemplateError:
            raise
        except _RENDER_ERRORS as exc:
            raise TemplateError(f"{what}: {exc}", line=_template_line(exc), kind="render") from exc

    def _compile(self, source: TemplateSource) -> CompiledTemplate:
        for env, text, what in ((self._text, source.subject, "subject"),
                                (self._html, source.preheader, "preheader"),
                                (self._html, source.mjml, "body")):
            self._parse(env, text, what)  # syntax errors with the author's line numbers
        has_preview = "<mj-preview" in source.mjml
        precompiled = self._precompile(source) if self.precompile else None
        if precompiled is not None:
            return precompiled
        _mjml(_JINJA.sub("", source.mjml))  # the MJML itself must compile
        return CompiledTemplate(self._combine(source, source.mjml, None), "per_render", False,
                                has_preview, source)

    def _precompile(self, source: TemplateSource) -> CompiledTemplate | None:
        constructs: list[str] = []

        def hold(match: re.Match[str]) -> str:
            constructs.append(match.group(0))
            return _PLACEHOLDER.format(len(constructs) - 1)

        compiled = _mjml(_JINJA.sub(hold, source.mjml))
        body = _assemble(wrap_anchor_hrefs(compiled), constructs, every=True)
        if body is None:
            return None  # the compiler moved, dropped or copied a construct
        text = _assemble(html_to_text(compiled, template_mode=True), constructs, every=False)
        for text_part in ((text, None) if text is not None else (None,)):
            urls: list[str] = []
            slotted_text = link_slots(text_part, urls, html_mode=False) if text_part is not None else None
            try:
                template = self._combine(source, link_slots(body, urls, html_mode=True), slotted_text)
            except TemplateSyntaxError:
                continue  # a construct split across MJML's output
            return CompiledTemplate(template, "precompiled", text_part is not None,
                                    "<mj-preview" in source.mjml, source, tuple(urls))
        return None

    def _combine(self, source: TemplateSource, body: str, text: str | None) -> Template:
        combined = (
            "{% block subject %}{% autoescape false %}" + source.subject
            + "{% endautoescape %}{% endblock %}{% block preheader %}" + source.preheader
            + "{% endblock %}{% block body %}" + body + "{% endblock %}"
            + "{% block text %}{% autoescape false %}" + (text or "")
            + "{% endautoescape %}{% endblock %}")
        code = self._html.compile(combined, name=COMBINED)
        return self._html.template_class.from_code(self._html, code, self._html.make_globals(None))

    def _parse(self, env: Sandbox, text: str, what: str) -> Template:
        try:
            return env.from_string(text)
        except TemplateSyntaxError as exc:
            raise TemplateError(f"{what}: {exc.message}", line=exc.lineno, kind="syntax") from exc


_DRAIN_BATCH = 64
_RENDER_ERRORS = (JinjaError, ArithmeticError, TypeError, ValueError, LookupError,
                  AttributeError, RecursionError)


def template_has_unsubscribe_link(mjml: str) -> bool:
    """True when the body links to {{ unsubscribe_url }} (filters and spacing allowed)."""
    return bool(_UNSUBSCRIBE.search(mjml))


def check_template(source: TemplateSource, renderer: Renderer | None = None) -> list[TemplateError]:
    """Compile problems for the editor: [] when the template compiles."""
    try:
        (renderer or Renderer(cache_size=1)).compile(source)
    except TemplateError as exc:
        return [exc]
    return []


def _mjml(source: str) -> str:
    try:
        return mjml2html(source)  # type: ignore[no-any-return]
    except ValueError as exc:
        position = _POSITION.search(str(exc))
        line = source.count("\n", 0, int(position.group(1))) + 1 if position else None
        raise TemplateError(f"MJML does not compile: {exc}", line=line, kind="mjml") from exc


def _literal(text: str) -> str:
    """MJML output as literal template text: anything Jinja would read is quoted."""
    if "{{" in text or "{%" in text or "{#" in text:
        return "{% raw %}" + text + "{% endraw %}"
    return text


def _assemble(marked: str, constructs: list[str], *, every: bool) -> str | None:
    """Template text from compiled output: placeholders back to their constructs.

    `every`: each construct must come back once, in order. Otherwise (the text
    part) expressions may be missing, as an image's src is, but every block
    tag must survive in order, or the template would not mean the same.
    """
    pieces = _PLACEHOLDER_RE.split(marked)
    order = [int(i) for i in pieces[1::2]]
    if every and order != list(range(len(constructs))):
        return None
    blocks = [i for i, c in enumerate(constructs) if not c.startswith("{{")]
    if order != sorted(set(order)) or not set(blocks) <= set(order):
        return None
    parts = []
    for index, literal in enumerate(pieces[0::2]):
        parts.append(_literal(literal))
        if index < len(order):
            parts.append(constructs[order[index]])
    return "".join(parts)


def _inject_preview(body: str, preheader: str) -> str:
    hidden = ('<div style="display:none;font-size:1px;line-height:1px;max-height:0;'
              f'max-width:0;opacity:0;overflow:hidden;">{html.escape(preheader)}</div>')
    match = _BODY_OPEN.search(body)
    if not match:
        return hidden + body
    return body[:match.end()] + hidden + body[match.end():]


def _one_line(text: str) -> str:
    """Headers are one line: CR/LF would let a template inject headers."""
    return " ".join(text.split())


def _template_line(exc: BaseException) -> int | None:
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _digest(source: TemplateSource) -> str:
    material = "\x1f".join((source.subject, source.preheader, source.mjml))
    return hashlib.sha256(material.encode()).hexdigest()
