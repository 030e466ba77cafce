"""Is a template's source usable: every problem that stops it compiling, each with its part
(/subject, /preheader, /mjml) and line; and what compiles but should be fixed."""
from __future__ import annotations

import re

from jinja2.exceptions import TemplateSyntaxError

from app.errors import FieldProblem
from journeys.errors import TemplateError
from journeys.rendering import Renderer, TemplateSource, template_has_unsubscribe_link
from journeys.sandbox import Sandbox

_text_sandbox, _html_sandbox = Sandbox(autoescape=False), Sandbox(autoescape=True)


def check_source(subject: str, preheader: str, mjml: str) -> list[FieldProblem]:
    """Every problem that stops the template compiling, each with its part's pointer and line."""
    problems = [_syntax(env, text, where) for env, text, where in (
        (_text_sandbox, subject, "subject"), (_html_sandbox, preheader, "preheader"), (_html_sandbox, mjml, "mjml"))]
    found = [p for p in problems if p is not None]
    if found:
        return found
    try:
        Renderer(cache_size=1).compile(TemplateSource(subject, mjml, preheader))
    except TemplateError as exc:
        if exc.line is None and exc.kind == "mjml":
            located = unbalanced_tag(mjml)
            if located:
                line, what = located
                return [FieldProblem(f"line {line}: {what}; {exc.message}", pointer="/mjml")]
        return [problem_of(exc, "mjml")]
    return []


_MJ_TAG = re.compile(r"<(/?)(mjml|mj-[a-z-]+)\b[^>]*?(/?)>")


def unbalanced_tag(mjml: str) -> tuple[int, str] | None:
    """(line, what) of the first MJML tag closed wrongly or left open: the MJML compiler
    reports such mistakes without a position, and a line is what the author needs."""
    if not mjml.lstrip().startswith("<mjml"):
        return 1, "an MJML body starts with <mjml> and ends with </mjml>"
    stack: list[tuple[str, int]] = []
    for match in _MJ_TAG.finditer(mjml):
        closing, name, self_closing = match.groups()
        line = mjml.count("\n", 0, match.start()) + 1
        if self_closing:
            continue
        if not closing:
            stack.append((name, line))
        elif any(open_name == name for open_name, _ in stack) and stack[-1][0] != name:
            inner, opened = stack[-1]
            return opened, f"<{inner}> is not closed before </{name}> on line {line}"
        elif not stack or stack[-1][0] != name:
            return line, f"</{name}> closes a tag that is not open"
        else:
            stack.pop()
    if stack:
        name, line = stack[-1]
        return line, f"<{name}> is never closed"
    return None


def _syntax(env: Sandbox, text: str, where: str) -> FieldProblem | None:
    try:
        env.from_string(text)
    except TemplateSyntaxError as exc:
        return FieldProblem(f"line {exc.lineno}: {exc.message}", pointer=f"/{where}")
    return None


def problem_of(exc: TemplateError, where: str) -> FieldProblem:
    message = exc.message
    for part in ("subject", "preheader", "body"):
        if message.startswith(part + ": "):
            message, where = message[len(part) + 2:], "mjml" if part == "body" else part
    return FieldProblem(f"line {exc.line}: {message}" if exc.line else message, pointer=f"/{where}")


def warnings_for(category: str, mjml: str) -> list[FieldProblem]:
    """What compiles but a reader should fix: a marketing template with no unsubscribe link."""
    if category == "marketing" and not template_has_unsubscribe_link(mjml):
        return [FieldProblem('a marketing template needs a link to {{ unsubscribe_url }} '
                             '(e.g. <a href="{{ unsubscribe_url }}">Unsubscribe</a>)', pointer="/mjml")]
    return []
