"""Marketers' templates are untrusted: no escape from the context, no runaway work."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from journeys.errors import TemplateError
from journeys.rendering import Renderer, TemplateSource

SECRET = "s3cr3t-sentinel-7f1c"  # a module global the templates must never reach
FORBIDDEN_OUTPUT = ("subclasses", "<class", "class '", "function", "module", "globals", "builtins",
                    SECRET, "popen", "uid=", "/bin", "os.", "config")

PAYLOADS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ ''.__class__.__base__ }}",
    "{{ config }}",
    "{{ config.items() }}",
    "{{ request }}",
    "{{ self }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ range.__init__.__globals__ }}",
    "{{ contact.__class__ }}",
    "{{ contact|attr('__class__') }}",
    "{{ (contact|attr('__class__')).__mro__ }}",
    "{{ contact.items.__self__ }}",
    "{{ 'a'.format.__globals__ }}",
    "{{ '{0.__class__}'.format(contact) }}",
    "{{ '{0.__class__.__mro__}'.format('') }}",
    "{{ '%s'|format(contact.__class__) }}",
    "{{ contact.first_name.__class__.__mro__ }}",
    "{{ [].__class__.__base__.__subclasses__() }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ dict(a=1) }}",
    "{{ url_for.__globals__ }}",
    "{{ get_flashed_messages.__globals__ }}",
    "{% import 'os' as os %}{{ os }}",
    "{{ [1]|map('attribute', '__class__')|list }}",
    "{{ contact|map('upper') }}",
]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def body(text: str) -> TemplateSource:
    return TemplateSource("s", f"<mjml><mj-body><mj-section><mj-column><mj-text>{text}"
                               "</mj-text></mj-column></mj-section></mj-body></mjml>")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_read_nothing_outside_the_context(renderer: Renderer, payload: str) -> None:
    context = {"contact": {"first_name": "Ana"}}
    for source in (body(payload), TemplateSource(payload, body("x").mjml)):
        try:
            email = renderer.render(source, context)
        except TemplateError:
            continue  # refused outright: fine
        text = (email.subject + email.html.split("<body", 1)[-1]).lower()
        for word in FORBIDDEN_OUTPUT:
            assert word.lower() not in text, (payload, word)


@pytest.mark.parametrize("payload", [
    "{% set x = contact.update({'admin': 1}) %}",
    "{{ event['items'].append(1) }}",
    "{{ event['items'].pop() }}",
    "{{ contact.clear() }}",
    "{% set _ = event['items'].extend([1, 2]) %}",
])
def test_the_context_cannot_be_changed(renderer: Renderer, payload: str) -> None:
    context: dict[str, Any] = {"contact": {"first_name": "Ana"}, "event": {"items": [1]}}
    before = copy.deepcopy(context)
    with pytest.raises(TemplateError) as caught:
        renderer.render(body(payload), context)
    assert caught.value.kind == "render"
    assert context == before


@pytest.mark.parametrize("payload", [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for c in 'x' * 1000000 %}{% endfor %}",
    "{% for i in range(99999) %}{% for j in range(99999) %}{{ i }}{% endfor %}{% endfor %}",
    "{{ 'x' * 100000000 }}",
    "{{ ['x'] * 100000000 }}",
    "{{ 9 ** 9999999 }}",
    "{{ 'x'.ljust(100000000) }}",
    "{{ 'x'|center(100000000) }}",
    "{{ '%0100000000d'|format(1) }}",
    "{{ '{:>100000000}'.format(1) }}",
    "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "{% set s = 'x' * 1000000 %}{{ s ~ s ~ s }}",
    "{% for i in range(3000) %}{{ 'y' * 1000 }}{% endfor %}",
])
def test_runaway_templates_are_stopped_with_a_clear_error(payload: str) -> None:
    renderer = Renderer(max_output_chars=2_000_000, max_operations=200_000)
    with pytest.raises(TemplateError) as caught:
        renderer.render(body(payload), {"contact": {}})
    assert caught.value.kind in ("limit", "render")
    assert str(caught.value)


def test_honest_loops_are_not_limited(renderer: Renderer) -> None:
    items = [{"title": f"item {i}", "price": i} for i in range(500)]
    email = renderer.render(body("{% for item in event['items'] %}{{ item.title }} {{ item.price }};"
                                 "{% endfor %}"), {"event": {"items": items}})
    assert "item 499 499;" in email.html


def test_a_subscript_reads_data_only_never_a_dict_method():
    """event['items'] of an event without items is empty, not dict.items (DESIGN: subscript
    is how a template names a property that shares its name with a dict method)."""
    from journeys.rendering import Renderer, TemplateSource

    source = TemplateSource("{% for i in event['items'] %}{{ i }}{% endfor %}none",
                            "<mjml><mj-body><mj-section><mj-column><mj-text>x</mj-text>"
                            "</mj-column></mj-section></mj-body></mjml>")
    renderer = Renderer()
    assert renderer.render(source, {"event": {}}).subject == "none"
    assert renderer.render(source, {"event": {"items": ["a", "b"]}}).subject == "abnone"


def test_output_after_many_empty_chunks_is_kept():
    """The size check drains output in batches: a run of empty chunks must not end it."""
    from journeys.rendering import Renderer, TemplateSource

    source = TemplateSource("{% for i in range(300) %}{{ '' }}{% endfor %}end",
                            "<mjml><mj-body><mj-section><mj-column><mj-text>x</mj-text>"
                            "</mj-column></mj-section></mj-body></mjml>")
    assert Renderer().render(source, {}).subject == "end"
