"""The workspace shell in a real browser: sign in, navigate, htmx search, sign out."""
from __future__ import annotations

from datetime import datetime, timezone

from playwright.sync_api import expect

from app.db import db
from app.models import Contact, SubscriptionStatus
from tests.conftest import PASSWORD, make_user


def _contacts(app, emails: list[str]) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with app.app_context():
        with db.transaction() as s:
            for email in emails:
                s.add(Contact(email=email, attributes={}, tags=["vip"], timezone="Europe/Warsaw",
                              subscription_status=SubscriptionStatus.subscribed,
                              created_at=now, updated_at=now))


def test_marketer_signs_in_navigates_and_searches_contacts(app, page):
    make_user(app, "mia@example.com", "marketer")
    _contacts(app, ["anna@shop.example", "bruno@shop.example", "celine@other.example"])
    page.goto("/journeys")
    assert page.url.endswith("/login?next=%2Fjourneys")
    page.fill("input[name=email]", "mia@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/journeys")
    assert page.locator("h1").first.inner_text() == "Journeys"
    nav = page.locator("nav .mainnav a").all_inner_texts()
    # The test app is not production, so the outbox viewer is in the menu too.
    assert nav == ["Journeys", "Templates", "Contacts", "Analytics", "Sent mail"]

    page.click("text=Contacts")
    page.wait_for_url("**/contacts")
    assert page.locator("tbody tr").count() == 3
    page.fill("input[name=q]", "shop.example")  # htmx swaps the rows as you type
    expect(page.locator("tbody tr")).to_have_count(2)
    assert "q=shop.example" in page.url  # hx-push-url keeps the search in the address bar

    page.click("text=Sign out")
    page.wait_for_url("**/login")
    assert "You are signed out." in page.content()
    assert page.console_problems == []  # no CSP violation, no script error


def test_admin_adds_a_user_and_sees_field_errors(app, page):
    make_user(app, "root@example.com", "admin")
    page.goto("/login")
    page.fill("input[name=email]", "root@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Settings")
    page.fill("form.grid-form input[name=email]", "new@example.com")
    page.fill("form.grid-form input[name=password]", "short")
    page.click("text=Add user")
    assert "Use at least 10 characters." in page.inner_text(".field-error")
    page.fill("form.grid-form input[name=password]", "long enough password")
    page.click("text=Add user")
    assert "new@example.com can now sign in as marketer" in page.inner_text(".flashes")
    expected = "the server responded with a status of 422"  # the refused form, on purpose
    assert [p for p in page.console_problems if expected not in p] == []
