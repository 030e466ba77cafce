"""Rendering: personalisation, MJML, text part, link rewriting, errors with lines."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.errors import TemplateError
from journeys.rendering import Renderer, TemplateSource, check_template, template_has_unsubscribe_link

SHARED = Path(__file__).resolve().parents[3] / "shared"
CORPUS = sorted((SHARED / "corpus" / "mjml").glob("*.mjml"))
EXAMPLES = SHARED / "examples" / "simulate" / "templates"


def mjml(*texts: str) -> str:
    body = "".join(f"<mj-text>{t}</mj-text>" for t in texts)
    return f"<mjml><mj-body><mj-section><mj-column>{body}</mj-column></mj-section></mj-body></mjml>"


CART = TemplateSource(
    subject="{{ contact.first_name|default('Hi') }}, your {{ event['items'][0].title }} is waiting",
    mjml=mjml("{% for item in event['items'] %}<p>{{ item.title }}: {{ '%.2f'|format(item.price) }} "
              "x{{ item.quantity }}</p><img src=\"{{ item.image }}\" alt=\"{{ item.title }}\"/>{% endfor %}",
              "<a href=\"{{ recovery_url }}\">Back to your cart</a> <a href=\"mailto:help@shop.example\">Help</a>",
              "<a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>"),
    preheader="{{ event['items']|length }} items saved for you")
CONTEXT: dict[str, Any] = {
    "contact": {"first_name": "Ana", "email": "ana@example.com"},
    "event": {"items": [{"title": "Wool Beanie", "price": 79, "quantity": 1, "image": "https://cdn.example/b.jpg"},
                        {"title": "Scarf", "price": 45.5, "quantity": 2, "image": "https://cdn.example/s.jpg"}]},
    "recovery_url": "https://shop.example/recover?c=1&t=2",
    "unsubscribe_url": "https://journeys.example/u/TOKEN",
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def test_personalised_subject_body_preheader_and_text(renderer: Renderer) -> None:
    email = renderer.render(CART, CONTEXT)
    assert email.subject == "Ana, your Wool Beanie is waiting"
    assert email.preheader == "2 items saved for you"
    assert "Wool Beanie: 79.00 x1" in email.html and "Scarf: 45.50 x2" in email.html
    assert 'src="https://cdn.example/s.jpg"' in email.html and "2 items saved for you" in email.html
    assert "Wool Beanie: 79.00 x1" in email.text
    assert "Back to your cart (https://shop.example/recover?c=1&t=2)" in email.text
    assert "<" not in email.text and "mj-" not in email.text and "{" not in email.text


def test_links_are_rewritten_after_personalisation_except_mailto_and_unsubscribe(renderer: Renderer) -> None:
    seen: list[str] = []

    def track(url: str) -> str:
        seen.append(url)
        return f"https://t.example/c/{len(seen)}"

    email = renderer.render(CART, CONTEXT, rewrite_link=track)
    assert seen == ["https://shop.example/recover?c=1&t=2"]  # unescaped before rewriting
    assert 'href="https://t.example/c/1"' in email.html
    assert 'href="mailto:help@shop.example"' in email.html
    assert email.links == ("https://t.example/c/1", "https://journeys.example/u/TOKEN")


LINKS = TemplateSource(
    subject="Links",
    mjml=mjml('{% for item in items %}<a href="https://shop.example/p/{{ item.handle }}?utm_source=mail&amp;x=1">'
              '{{ item.title }}</a> <a href="{{ item.url }}">again</a>{% endfor %}',
              '{% if vip %}<a href="https://shop.example/vip">VIP</a>{% endif %}',
              '<a href=" https://shop.example/static ">Shop</a> <a href="#top">Top</a>'))


@pytest.mark.parametrize("precompile", [True, False], ids=["precompiled", "per_render"])
def test_links_in_loops_mixed_hrefs_and_branches(precompile: bool) -> None:
    seen: list[str] = []

    def track(url: str) -> str:
        seen.append(url)
        return f"https://t.example/c/{len(seen)}?a=1&b=2"

    items = [{"handle": "beanie", "title": "Beanie", "url": 'https://shop.example/b" onclick="x'},
             {"handle": "scarf & co", "title": "Scarf", "url": "javascript:alert(1)"}]
    email = Renderer(precompile=precompile).render(LINKS, {"items": items, "vip": False}, rewrite_link=track)
    assert seen == ["https://shop.example/p/beanie?utm_source=mail&x=1",
                    'https://shop.example/b" onclick="x',
                    "https://shop.example/p/scarf & co?utm_source=mail&x=1",
                    "https://shop.example/static"]
    assert 'href="https://t.example/c/1?a=1&amp;b=2"' in email.html
    assert "onclick" not in email.html and "shop.example/vip" not in email.html
    assert 'href="javascript:alert(1)"' in email.html and 'href="#top"' in email.html
    assert email.links == tuple(f"https://t.example/c/{n}?a=1&b=2" for n in range(1, 5))
    assert "Beanie (https://t.example/c/1?a=1&b=2)" in email.text
    assert "Shop (https://t.example/c/4?a=1&b=2)" in email.text


def test_marker_characters_in_contact_data_are_just_text(renderer: Renderer) -> None:
    hostile = "\x01https://evil.example\x02 \x03https://evil.example\x04"
    email = renderer.render(CART, {**CONTEXT, "contact": {"first_name": hostile}},
                            rewrite_link=lambda url: "https://t.example/x")
    assert not any("evil" in link for link in email.links)


def test_missing_fields_render_empty(renderer: Renderer) -> None:
    source = TemplateSource("Hi {{ contact.first_name }}{{ contact.missing.deeper }}!",
                            mjml("[{{ event.nothing.here }}]{{ metrics.orders_count }}"))
    email = renderer.render(source, {"contact": {}})
    assert email.subject == "Hi !" and "[]" in email.html


def test_contact_data_is_escaped_in_the_body_and_subject_is_one_line(renderer: Renderer) -> None:
    source = TemplateSource("Hello {{ contact.first_name }}", mjml("Hello {{ contact.first_name }}"))
    email = renderer.render(source, {"contact": {"first_name": "<script>x</script>\r\nBcc: a@b.c"}})
    assert "<script>x" not in email.html and "&lt;script&gt;" in email.html
    assert "\n" not in email.subject and "\r" not in email.subject


def test_the_compile_is_cached_per_version(renderer: Renderer) -> None:
    first = renderer.compile(CART, key="cart@1")
    assert renderer.compile(CART, key="cart@1") is first
    assert first.mode == "precompiled"


def test_a_loop_around_sections_still_renders(renderer: Renderer) -> None:
    source = TemplateSource("s", "<mjml><mj-body>{% for item in event['items'] %}<mj-section><mj-column>"
                                 "<mj-text>{{ item.title }}</mj-text></mj-column></mj-section>{% endfor %}"
                                 "</mj-body></mjml>")
    email = renderer.render(source, CONTEXT)
    assert "Wool Beanie" in email.html and "Scarf" in email.html


@pytest.mark.parametrize("body, kind, line", [
    ("<mjml><mj-body>\n<mj-section>\n{{ contact.name }\n</mj-section></mj-body></mjml>", "syntax", 3),
    ("<mjml><mj-body>\n\n{% frobnicate %}</mj-body></mjml>", "syntax", 3),
    ("<mjml><mj-body>\n{% include 'other.html' %}</mj-body></mjml>", "syntax", 2),
    ("<mjml><mj-body>\n{% extends 'base' %}</mj-body></mjml>", "syntax", 2),
    ("<mjml><mj-body><mj-section><mj-column><mj-text>hi</mj-column></mj-section></mj-body></mjml>", "mjml", None),
    ("<mjml>\n<mj-body>\n<mj-section>\n<mj-text>x</mj-text>\n</mj-body>\n</mjml>", "mjml", None),
    ("hello", "mjml", None),
])
def test_templates_that_do_not_compile(renderer: Renderer, body: str, kind: str, line: int | None) -> None:
    with pytest.raises(TemplateError) as caught:
        renderer.compile(TemplateSource("s", body))
    assert caught.value.kind == kind and caught.value.line == line
    assert check_template(TemplateSource("s", body))[0].kind == kind


def test_a_render_error_names_the_authors_line(renderer: Renderer) -> None:
    source = TemplateSource("s", "<mjml><mj-body><mj-section><mj-column>\n<mj-text>ok</mj-text>\n"
                                 "<mj-text>{{ contact.first_name + 3 }}</mj-text>\n"
                                 "</mj-column></mj-section></mj-body></mjml>")
    with pytest.raises(TemplateError) as caught:
        renderer.render(source, {"contact": {"first_name": "Ana"}})
    assert caught.value.kind == "render" and caught.value.line == 3


def test_subject_syntax_error(renderer: Renderer) -> None:
    assert check_template(TemplateSource("{{ oops", mjml("x")))[0].kind == "syntax"
    assert check_template(CART) == []


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_every_corpus_template_renders_the_same_precompiled_and_per_render(path: Path) -> None:
    source_text = path.read_text()
    personalised = source_text
    first_text = personalised.find("<mj-text", personalised.find("<mj-body"))
    if first_text >= 0:
        close = personalised.index(">", first_text) + 1
        personalised = personalised[:close] + "Hi {{ contact.first_name }}! " + personalised[close:]
    source = TemplateSource("Hi {{ contact.first_name }}", personalised)
    renderer = Renderer()
    compiled = renderer.compile(source)
    assert compiled.mode == "precompiled"
    context = {"contact": {"first_name": "Zoë"}}
    fast = renderer.render(compiled, context, rewrite_link=lambda url: f"https://t.example/?{len(url)}")
    slow = Renderer(precompile=False).render(source, context,
                                             rewrite_link=lambda url: f"https://t.example/?{len(url)}")
    assert fast.html == slow.html and fast.links == slow.links
    assert fast.text == slow.text
    if first_text >= 0:
        assert "Hi Zoë!" in fast.html


@pytest.mark.parametrize("slug, context, subject", [
    ("cart", {"event": {"items": [{"title": "Wool Beanie", "price": 79.0, "quantity": 1}]}},
     "Your Wool Beanie is waiting"),
    ("welcome", {"contact": {"first_name": "Klara"}}, "Welcome, Klara"),
    ("tips", {}, "Three tips for your first order"),
])
def test_the_shared_example_templates(renderer: Renderer, slug: str, context: dict[str, Any], subject: str) -> None:
    data = json.loads((EXAMPLES / f"{slug}.json").read_text())
    source = TemplateSource(data["subject"], data["mjml"], data["preheader"], data["category"])
    email = renderer.render(source, {**context, "unsubscribe_url": "https://u.example/x"})
    assert email.subject == subject and "https://u.example/x" in email.links


@pytest.mark.parametrize("body, expected", [
    ('<a href="{{ unsubscribe_url }}">Unsubscribe</a>', True),
    ("<a href='{{unsubscribe_url}}'>x</a>", True),
    ('<a href="{{ unsubscribe_url|e }}">x</a>', True),
    ('<a href="{{ recovery_url }}">x</a> unsubscribe_url', False),
    ("no link at all", False),
])
def test_unsubscribe_link_detection(body: str, expected: bool) -> None:
    assert template_has_unsubscribe_link(mjml(body)) is expected


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=40), city=st.text(max_size=40))
def test_any_contact_data_renders_and_is_escaped(name: str, city: str) -> None:
    renderer = _shared
    email = renderer.render(_HOSTILE, {"contact": {"first_name": name, "city": city}})
    assert "<script" not in email.html.lower().replace("&lt;script", "")
    assert "\n" not in email.subject


_shared = Renderer()
_HOSTILE = TemplateSource("Hi {{ contact.first_name }} from {{ contact.city }}",
                          mjml("<script>alert(1)</script>".replace("<script>alert(1)</script>", "")
                               + "{{ contact.first_name }} / {{ contact.city }}"))
