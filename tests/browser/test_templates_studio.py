"""The templates studio, the A/B preview and Settings in a real browser: live preview while
typing, MJML errors on their line, a test send that reaches an SMTP server, both variants of a
split side by side, a settings change that the next send uses; every page at 1280×800."""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect

from app import clock, create_app
from app.db import db
from app.services import journeys as journey_service
from tests.browser.canvas_support import VIEWPORT, shoot
from tests.conftest import PASSWORD, make_user
from tests.engine_support import SMTPServer, event, post, work
from tests.integration.test_journey_preview import GRAPH
from app.starters import template_starters
from tests.studio_support import make_template

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
SAMPLE_IMAGE = "/static/img/samples/scarf.svg"  # the preview frame resolves it against this server


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def frame_text(page: Page, selector: str = "#preview-email .email-frame") -> str:
    return page.frame_locator(selector).locator("body").inner_text()


def fits(page: Page) -> None:
    """Nothing sticks out sideways at 1280×800."""
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"{page.url} is {width}px wide"


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def mail_server(app, settings, smtp):  # type: ignore[no-untyped-def]
    """A live server of the app configured with SMTP_URL pointing at the in-process SMTP server."""
    from waitress.server import create_server

    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
    server = create_server(application, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield application, f"http://127.0.0.1:{server.effective_port}"
    server.close()
    application.extensions["db_engine"].dispose()


@pytest.fixture
def mail_page(browser, mail_server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=mail_server[1], viewport=VIEWPORT)
    tab = context.new_page()
    tab.console_problems = []  # type: ignore[attr-defined]
    tab.on("console", lambda msg: msg.type == "error" and tab.console_problems.append(msg.text))  # type: ignore[attr-defined]
    tab.on("pageerror", lambda exc: tab.console_problems.append(str(exc)))  # type: ignore[attr-defined]
    yield tab
    context.close()


def _no_script_errors(page: Page) -> None:
    """No CSP violation or script error. Refused requests (422s on purpose) and remote resources of
    the emails (MJML links its default web font; tests run without internet) do not count."""
    expected = ("the server responded with a status of 4", "the server responded with a status of 5",
                "net::ERR_NAME_NOT_RESOLVED")
    assert [p for p in page.console_problems if not any(r in p for r in expected)] == []  # type: ignore[attr-defined]


def test_the_editor_previews_what_is_typed_marks_errors_on_their_line_and_sends_a_test(mail_server, mail_page, smtp):
    application, _ = mail_server
    page = mail_page
    make_user(application, "mia@example.com", "marketer")
    sign_in(page, "mia@example.com")
    page.goto("/templates/new")
    fits(page)
    page.click("label.starter-card:has-text('Abandoned cart')")
    page.fill("input[name=slug]", "cart-reminder")
    page.fill("input[name=name]", "Abandoned cart")
    page.click("text=Create and edit")
    page.wait_for_url("**/templates/cart-reminder/edit")
    page.wait_for_function("() => !!window.templateEditor")
    expect(page.locator("#preview-email .inbox-subject")).to_have_text("Your Merino Wool Beanie is waiting")
    assert "You left something behind" in frame_text(page)

    # Typing in the subject and in the MJML re-renders the preview (debounced, by the server).
    page.fill("#subject", "")
    page.type("#subject", "Still thinking, {{ contact.first_name }}?")
    expect(page.locator("#preview-email .inbox-subject")).to_have_text("Still thinking, Ana?")
    heading = page.evaluate("window.templateEditor.getValue().split('\\n').findIndex(l => l.includes('You left something behind'))")
    page.evaluate(f"window.templateEditor.setCursor({{line: {heading}, ch: 0}})")
    page.locator(".CodeMirror").click()  # focus stays where the cursor was put
    page.evaluate(f"window.templateEditor.setCursor({{line: {heading}, ch: 0}}); window.templateEditor.focus()")
    page.keyboard.type("Psst! ")
    page.wait_for_function("() => document.querySelector('#preview-email .email-frame').srcdoc.includes('Psst!')")
    assert "Psst!" in frame_text(page)
    expect(page.locator("#dirty-state")).to_be_visible()
    fits(page)
    shoot(page, "template-editor.png")

    # Break the MJML: the error is marked on its line, the last good preview stays (dimmed).
    line = page.evaluate("""() => { const cm = window.templateEditor;
        const n = cm.getValue().split('\\n').findIndex(l => l.trim() === '</mj-wrapper>');
        cm.replaceRange('', {line: n, ch: 0}, {line: n + 1, ch: 0}); return n; }""")
    expect(page.locator(".CodeMirror .cm-problem-marker.cm-problem-error")).to_have_count(1)
    marked = page.evaluate("""() => { const cm = window.templateEditor; let at = -1;
        cm.eachLine(h => { if (h.gutterMarkers && h.gutterMarkers['jr-problems']) at = cm.getLineNumber(h); }); return at; }""")
    opened = page.evaluate("window.templateEditor.getValue().split('\\n').findIndex(l => l.includes('<mj-wrapper'))")
    assert marked == opened  # the wrapper left open, on the line it opens
    expect(page.locator(".problem-error")).to_contain_text("<mj-wrapper>")
    expect(page.locator(".problem-error button[data-goto-line]")).to_have_text(f"line {opened + 1}")
    expect(page.locator("#preview-email")).to_have_class("preview-email stale")
    page.click(".problem-error button[data-goto-line]")
    assert page.evaluate("window.templateEditor.getCursor().line") == opened
    page.evaluate(f"window.templateEditor.replaceRange('    </mj-wrapper>\\n', {{line: {line}, ch: 0}})")
    expect(page.locator(".problem-ok")).to_be_visible()
    expect(page.locator(".CodeMirror .cm-problem-marker")).to_have_count(0)

    # Save with Ctrl+S: a new version; test send what the editor shows.
    page.keyboard.press("Control+s")
    expect(page.locator("#save-status")).to_contain_text("Saved as version 2")
    expect(page.locator("#version-badge")).to_have_text("v2")
    expect(page.locator("#dirty-state")).to_be_hidden()
    page.click("text=Send a test")
    page.fill("#test-to", "boss@example.com")
    page.click("#test-send-button")
    expect(page.locator("#test-result")).to_contain_text("Sent to boss@example.com")
    [mail] = smtp.box.to("boss@example.com")
    assert mail["Subject"] == "[Test] Still thinking, Ana?"
    assert "Psst! You left something behind" in " ".join(mail.get_body(("html",)).get_content().split())
    page.fill("#test-to", "not an address")
    page.click("#test-send-button")
    expect(page.locator("#test-result")).to_contain_text("is not an email address")
    assert smtp.box.count() == 1
    _no_script_errors(page)


def test_the_ab_preview_shows_both_variants_for_a_chosen_contact(app, page):
    page.set_viewport_size(VIEWPORT)
    make_user(app, "mia@example.com", "marketer")
    # Variant A sends the cart-reminder starter; B the same with a code in the subject and the heading.
    cart = template_starters()["cart-reminder"]
    make_template(app, "cart-plain", cart.subject, mjml=cart.mjml)
    make_template(app, "cart-discount", "10% off your {{ event['items'][0].title }}",
                  mjml=cart.mjml.replace("You left something behind", "Use {{ event.discount_code }} for 10% off"))
    with app.app_context():
        with db.transaction() as s:
            journey_id = journey_service.create_journey(s, name="Cart A/B", graph=GRAPH, user_id=None,
                                                        now=clock.now()).id
    post(app, event("cart_abandoned", "ola@example.pl", discount_code="OLA5", currency="EUR", total="189.00",
                    recovery_url="https://shop.example/cart/ola",
                    items=[{"title": "Rain Jacket", "price": "189.00", "quantity": 1, "image": SAMPLE_IMAGE}]))
    work(app)
    sign_in(page, "mia@example.com")
    page.goto(f"/journeys/{journey_id}/preview?node=ab")
    expect(page.locator(".variant")).to_have_count(2)
    page.fill(".contact-search", "ola@")
    page.click("[data-pick-contact]:has-text('ola@example.pl')")
    expect(page.locator("#preview-as-label")).to_have_text("ola@example.pl")
    a, b = page.locator(".variant[data-variant=A]"), page.locator(".variant[data-variant=B]")
    expect(a.locator(".inbox-subject")).to_have_text("Your Rain Jacket is waiting")
    expect(b.locator(".inbox-subject")).to_have_text("10% off your Rain Jacket")
    plain = frame_text(page, ".variant[data-variant=A] .email-frame")
    discount = frame_text(page, ".variant[data-variant=B] .email-frame")
    assert "You left something behind" in plain and "Hi Ola, your cart is saved" in plain and "Rain Jacket" in plain
    assert "Use OLA5 for 10% off" in discount and "Hi Ola, your cart is saved" in discount
    expect(page.locator(".variant.is-assigned")).to_have_count(1)
    fits(page)
    shoot(page, "ab-preview.png")
    page.click("button[data-width=mobile]")
    assert page.locator(".variant[data-variant=A] .email-frame").bounding_box()["width"] == 375
    page.click("button[data-width=text]")
    expect(page.locator(".variant[data-variant=B] .email-text")).to_contain_text("Use OLA5 for 10% off")
    _no_script_errors(page)


def test_a_sender_changed_in_settings_is_used_by_the_next_send(mail_server, mail_page, smtp):
    application, _ = mail_server
    page = mail_page
    make_user(application, "root@example.com", "admin")
    sign_in(page, "root@example.com")
    page.goto("/settings/email")
    fits(page)
    page.fill("input[name=from_address]", "hello@acme")  # the browser takes it; the server does not
    page.click("text=Save sender")
    expect(page.locator(".field-error")).to_contain_text("is not an email address")
    page.fill("input[name=from_name]", "Acme Outdoor")
    page.fill("input[name=from_address]", "hello@acme.example")
    page.fill("input[name=reply_to]", "support@acme.example")
    page.click("text=Save sender")
    expect(page.locator(".flashes")).to_contain_text("Sender saved")
    page.goto("/settings/workspace")
    fits(page)
    page.fill("input[name=shop_name]", "Acme Outdoor")
    page.click("text=Save workspace settings")
    expect(page.locator(".flashes")).to_contain_text("Workspace settings saved")

    from tests.engine_support import chain, journey, send, template

    with application.app_context():
        with db.transaction() as s:
            template(s, "welcome", "Welcome to {{ shop.name }}", now=T0)
            journey(s, chain("signed_up", send("hello", "welcome")), now=T0)
    post(application, event("signed_up", "klara@example.com"))
    work(application)
    [mail] = smtp.box.to("klara@example.com")
    assert mail["From"] == "Acme Outdoor <hello@acme.example>" and mail["Reply-To"] == "support@acme.example"
    assert mail["Subject"] == "Welcome to Acme Outdoor"
    _no_script_errors(page)


def test_every_studio_page_fits_1280_by_800(app, page):
    page.set_viewport_size(VIEWPORT)
    make_user(app, "root@example.com", "admin")
    make_template(app, "welcome", "Hello {{ contact.first_name }}")
    with app.app_context():
        with db.transaction() as s:
            journey_id = journey_service.create_journey(s, name="Cart A/B", graph=GRAPH, user_id=None,
                                                        now=clock.now()).id
    sign_in(page, "root@example.com")
    for path in ("/templates", "/templates/new", "/templates/welcome/edit", "/templates/welcome/versions",
                 "/templates/welcome/versions/1", f"/journeys/{journey_id}/preview", "/settings/workspace",
                 "/settings/email"):
        page.goto(path)
        assert page.locator("h1").first.is_visible(), path
        fits(page)
    page.goto("/templates/welcome/edit")
    box = page.locator("#preview-email .email-frame").bounding_box()
    assert box["y"] + 200 < VIEWPORT["height"] and box["width"] > 500  # the preview is on screen, beside the source
    _no_script_errors(page)
