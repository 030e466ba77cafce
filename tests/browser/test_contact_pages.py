"""The contact pages in a real browser: the consent filter swaps the rows, the detail opens with
its trace, and a contact's unsubscribe page works with no session at all."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import select

from app.db import db
from app.models import Contact, SubscriptionStatus
from app.services import contact_links
from tests.conftest import PASSWORD, make_user


def test_filter_open_a_contact_and_unsubscribe_from_its_link(app, page, browser, live_server):
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    with app.app_context(), db.transaction() as s:
        for email, status in (("ala@shop.example", SubscriptionStatus.subscribed),
                              ("ola@shop.example", SubscriptionStatus.unsubscribed)):
            s.add(Contact(email=email, attributes={"first_name": email[:3].title()}, tags=[],
                          subscription_status=status, created_at=now, updated_at=now))
        s.flush()
        ala = s.scalar(select(Contact.id).where(Contact.email == "ala@shop.example"))
    make_user(app, "lea@example.com", "admin")
    page.goto("/login")
    page.fill("input[name=email]", "lea@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto("/contacts")
    expect(page.locator("#contact-rows tbody tr")).to_have_count(2)
    page.select_option("select[name=status]", "unsubscribed")  # htmx swaps the rows on change
    expect(page.locator("#contact-rows tbody tr")).to_have_count(1)
    assert "status=unsubscribed" in page.url
    page.select_option("select[name=status]", "")
    expect(page.locator("#contact-rows tbody tr")).to_have_count(2)
    page.click("text=ala@shop.example")
    page.wait_for_url(f"**/contacts/{ala}")
    assert "first_name" in page.inner_text("table.kv") and page.locator("text=Erase this contact").count() == 1
    assert page.console_problems == []

    # the contact, in another browser with no cookies, follows the link from an email
    unsubscribe = contact_links.unsubscribe_url(app.config["SETTINGS"], ala, "k")
    context = browser.new_context(base_url=live_server)
    visitor = context.new_page()
    visitor.goto(urlsplit(unsubscribe).path)
    assert "Unsubscribe from" in visitor.inner_text("h1")
    visitor.click("button[type=submit]")
    expect(visitor.locator("h1")).to_have_text("You are unsubscribed")
    context.close()
    with app.app_context():
        assert db.session.get(Contact, ala).subscription_status == SubscriptionStatus.unsubscribed
