"""Support for the tracking and analytics tests: the engine sending to a real SMTP server, the
tracked links of received emails, and clicks and opens through the app's own endpoints."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any, Iterator

import pytest

from app import clock, create_app
from app.db import db
from tests.engine_support import MJML_BODY, SMTPServer, journey, post, work

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
APPLE_PROXY = "Mozilla/5.0"
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel link scanner)"
HREF = re.compile(r'href="([^"]+)"')
PIXEL = re.compile(r'<img src="([^"]+/t/o/[^"]+\.gif)"')


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def engine_app(app, settings, smtp):  # type: ignore[no-untyped-def]
    """The app as a worker runs it, sending to the in-process SMTP server, on the test clock."""
    application = create_app(settings.with_overrides(smtp_url=smtp.url, mail_rate_per_second=0))
    clock.set_source(lambda: T0)
    yield application
    application.extensions["db_engine"].dispose()


def at(moment: datetime) -> None:
    clock.set_source(lambda: moment)


def add_template(s: Any, slug: str, body: str, *, subject: str = "Hello", tracking: bool = True,
                 category: str = "marketing") -> Any:
    from app.models import Template, TemplateVersion

    row = Template(slug=slug, name=slug.title(), category=category, tracking=tracking, created_at=T0, updated_at=T0)
    s.add(row)
    s.flush()
    version = TemplateVersion(template_id=row.id, number=1, subject=subject, preheader="",
                              mjml=MJML_BODY.format(body=body), created_at=T0)
    s.add(version)
    s.flush()
    return version


def setup(application: Any, graph: dict[str, Any], templates: dict[str, str], *, tracking: bool = True) -> int:
    """Templates (slug → MJML body part) and a published journey; returns the journey id."""
    with application.app_context():
        with db.transaction() as s:
            for slug, body in templates.items():
                add_template(s, slug, body, tracking=tracking)
            return journey(s, graph, now=T0).id


def html_of(mail: EmailMessage) -> str:
    return mail.get_body(("html",)).get_content()  # type: ignore[union-attr]


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def links(mail: EmailMessage) -> list[str]:
    return [html.unescape(h) for h in HREF.findall(html_of(mail))]


def tracked(mail: EmailMessage) -> list[str]:
    """The click-tracking links of an email, in order, each once."""
    return list(dict.fromkeys(h for h in links(mail) if "/t/c/" in h))


def pixel(mail: EmailMessage) -> str:
    found = PIXEL.search(html_of(mail))
    assert found, "no open pixel in the email"
    return html.unescape(found.group(1))


def path_of(url: str) -> str:
    """A tracking URL as the test client takes it (BASE_URL is the app's own origin)."""
    return "/" + url.split("/", 3)[3]


def click(application: Any, url: str, *, agent: str = BROWSER, method: str = "GET", query: str = "") -> Any:
    client = application.test_client()
    path = path_of(url) + query
    return client.open(path, method=method, headers={"User-Agent": agent},
                       environ_base={"REMOTE_ADDR": "198.51.100.7"})


def open_pixel(application: Any, url: str, *, agent: str = BROWSER, ip: str = "198.51.100.7") -> Any:
    return application.test_client().get(path_of(url), headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": ip})


def later(minutes: float = 5) -> datetime:
    moment = T0 + timedelta(minutes=minutes)
    at(moment)
    return moment


__all__ = ["T0", "BROWSER", "APPLE_PROXY", "SCANNER", "smtp", "engine_app", "at", "setup", "add_template",
           "html_of", "text_of", "links", "tracked", "pixel", "click", "open_pixel", "later", "post", "work",
           "path_of"]
