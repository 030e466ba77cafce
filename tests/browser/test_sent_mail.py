"""The sent-mail viewer in a real browser: the demo's post-purchase email shows in its sandboxed
frame under the page's CSP, pictures and all, and a link inside the frame goes nowhere."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from pathlib import Path

from playwright.sync_api import expect

from app.db import db
from app.demo import content, loader, population
from app.integrations import shopify
from app.mail.backends import OutboxBackend
from app.mail.message import build_message
from app.services import templates as template_service
from app.services import workspace
from app.services.event_input import parse
from journeys.rendering import TemplateSource
from tests.conftest import PASSWORD, make_user

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)


def _post_purchase_mail(app, base_url: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The demo's post-purchase email for a demo order, as the outbox would hold it."""
    settings = app.config["SETTINGS"]
    person = next(p for p in population.population(NOW, count=40) if len(p.orders) >= 2)
    order = person.orders[-1]
    body = loader.order_body(settings.with_overrides(base_url=base_url), person, order)
    event = parse(shopify.map_webhook("orders/create", body).event)  # type: ignore[union-attr]
    template = next(t for t in content.templates(base_url, "https://alder-and-stone.example")
                    if t.slug == "post-purchase")
    sample = {"contact": {"email": person.email, "attributes": {"first_name": person.first_name},
                          "timezone": person.timezone}, "event": event.properties}
    with app.app_context():
        with db.transaction() as s:
            workspace.update(s, loader.SHOP, actor="test", now=NOW)  # the shop's name and footer
        email = template_service.render_preview(db.session, TemplateSource(template.subject, template.mjml,
                                                                           template.preheader),
                                                contact=None, sample=sample, settings=settings)
    html = email.html.replace("</body>", f'<a id="tracked" href="{base_url}/t/c/1.1.x">tracked</a></body>')
    message = build_message(key=f"demo:{secrets.token_hex(4)}", sender="Alder & Stone <hello@alder-and-stone.example>",
                            to=person.email, subject=email.subject, html=html, text=email.text, now=NOW,
                            domain="alder-and-stone.example")
    return OutboxBackend(settings.outbox_path).send(message), email.subject


def test_a_sent_email_shows_in_its_frame_and_its_links_go_nowhere(app, page, live_server):
    name, subject = _post_purchase_mail(app, live_server)
    make_user(app, "mia@example.com", "marketer")
    try:
        page.goto("/login")
        page.fill("input[name=email]", "mia@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.click("nav >> text=Sent mail")
        page.click(f"text={subject}")
        page.wait_for_url(f"**/sent-mail/{name}")
        frame = page.frame_locator("iframe.email-frame")
        expect(frame.locator("text=You might also like")).to_be_visible()
        pictures = frame.locator("img")
        assert pictures.count() >= 3
        loaded = pictures.evaluate_all("imgs => imgs.filter(i => i.naturalWidth > 0).length")
        assert loaded == pictures.count(), "a product picture did not load under the viewer's CSP"
        page.set_viewport_size({"width": 1280, "height": 1500})
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "sent-mail.png"))
        problems_before = list(page.console_problems)
        assert problems_before == [], problems_before
        frame.locator("#tracked").click()
        page.wait_for_timeout(500)
        inner = page.frames[1]
        # The page's frame-src 'none' blocks the navigation before any request: no click is recorded.
        assert "/t/c/" not in inner.url and inner.url in ("about:srcdoc", "chrome-error://chromewebdata/")
        # What the console says now: the navigation refused by frame-src, and the frame's sandbox
        # refusing scripts (the email has none; a click in the frame makes the browser say so).
        refused = [p for p in page.console_problems if "frame-src" in p]
        assert refused and all("frame-src" in p or "sandboxed" in p for p in page.console_problems), \
            page.console_problems
        page.click("text=text")
        expect(page.locator("pre.sent-mail-text")).to_contain_text("Thank you")
        page.click("text=mobile")
        box = page.locator("iframe.email-frame").bounding_box()
        assert box is not None and box["width"] <= 380
    finally:
        (app.config["SETTINGS"].outbox_path / name).unlink(missing_ok=True)
