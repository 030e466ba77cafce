"""Open and click tracking end to end: real emails from the engine, followed through the app's
tracking endpoints; tokens, redirects, unique and total counts, events, machine traffic."""
from __future__ import annotations

from urllib.parse import quote

from itsdangerous import Signer, URLSafeSerializer
from sqlalchemy import func, select

from app.db import db
from app.models import Contact, Engagement, Event, Message, MessageLink, TrackingHit
from app.services import erasure, tracking
from tests.analytics_support import (APPLE_PROXY, SCANNER, T0, add_template, at, click, engine_app, html_of,  # noqa: F401
                                     later, links, open_pixel, pixel, post, setup, smtp, text_of, tracked, work)
from tests.engine_support import chain, event, run_until_quiet, send

HOSTILE = "https://evil.example/login?next=https%3A%2F%2Fattacker.example%2F&u={{ contact.email }}"
BODY = ('<mj-text><a href="https://shop.example/sale?utm_source=email">See the sale</a> '
        f'<a href="{HOSTILE}">Sign in</a> '
        '<a href="https://shop.example/sale?utm_source=email">again</a> '
        '<a href="mailto:help@shop.example">Write to us</a></mj-text>')


def _count(application, model, *where) -> int:  # type: ignore[no-untyped-def]
    with application.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _sent(application, smtp, email="ana@example.com", body=BODY, tracking_on=True):  # type: ignore[no-untyped-def]
    setup(application, chain("signed_up", send("hello", "welcome")), {"welcome": body}, tracking=tracking_on)
    post(application, event("signed_up", email))
    work(application)
    [mail] = smtp.box.to(email)
    return mail


def test_links_are_rewritten_and_stored_and_the_unsubscribe_link_is_not(engine_app, smtp):
    mail = _sent(engine_app, smtp)
    found = links(mail)
    clicks = tracked(mail)
    assert len(clicks) == 2  # the repeated URL is one link; mailto: is left alone
    assert "mailto:help@shop.example" in found
    assert any("/u/" in h for h in found) and not any("evil.example" in h or "shop.example/sale" in h for h in found)
    assert all(c.startswith(engine_app.config["SETTINGS"].base_url + "/t/c/") for c in clicks)
    assert "/t/c/" in text_of(mail) and "shop.example/sale" not in text_of(mail) and "evil" not in text_of(mail)  # the text part's links too
    body = html_of(mail)
    assert body.index(pixel(mail)) < body.rindex("</body>")
    with engine_app.app_context():
        stored = db.session.scalars(select(MessageLink).order_by(MessageLink.position)).all()
        assert [(link.position, link.url) for link in stored] == [
            (1, "https://shop.example/sale?utm_source=email"),
            (2, HOSTILE.replace("{{ contact.email }}", "ana@example.com"))]
        # The token names the stored row, and no URL: nothing in it but the message and the position.
        message = db.session.scalars(select(Message)).one()
        token = clicks[1].rsplit("/", 1)[1]
        assert tracking.read_click(engine_app.config["SETTINGS"], token) == (message.id, 2)
        assert token.rsplit(".", 1)[0] == f"{message.id}.2"


def test_a_click_redirects_only_to_its_own_url_whatever_the_query_says(engine_app, smtp):
    mail = _sent(engine_app, smtp)
    first, second = tracked(mail)
    later()
    hostile_queries = ["?url=https://attacker.example/", "?next=//attacker.example", "?redirect=javascript:alert(1)",
                       "?url=https%3A%2F%2Fattacker.example&to=https://attacker.example",
                       "?" + quote("https://attacker.example", safe="")]
    for query in ["", *hostile_queries]:
        answer = click(engine_app, first, query=query)
        assert answer.status_code == 302 and answer.headers["Location"] == "https://shop.example/sale?utm_source=email"
    answer = click(engine_app, second)
    assert answer.status_code == 302
    assert answer.headers["Location"] == HOSTILE.replace("{{ contact.email }}", "ana@example.com")
    # The destination learns our origin at most, never the token (which names the message).
    assert answer.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "no-store" in answer.headers["Cache-Control"]


def test_forged_or_altered_tokens_are_refused_and_record_nothing(engine_app, smtp):
    mail = _sent(engine_app, smtp)
    first, _ = tracked(mail)
    token = first.rsplit("/", 1)[1]
    settings = engine_app.config["SETTINGS"]
    with engine_app.app_context():
        message_id = db.session.scalar(select(Message.id))
    payload, signature = token.rsplit(".", 1)
    # The first character: the last one of a base64 signature carries padding bits, and changing
    # only those leaves the same signature bytes.
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    ours = Signer(settings.secret_key, salt=tracking.CLICK_SALT)
    forged = [
        payload + "." + flipped,  # signature altered
        f"{message_id}.2." + signature,  # the other link, with this link's signature
        f"{message_id + 1}.1." + signature,  # another message
        ours.sign(f"{message_id}.1").decode()[:-6] + "xxxxxx",
        Signer("some-other-secret", salt=tracking.CLICK_SALT).sign(f"{message_id}.1").decode(),  # not our key
        Signer(settings.secret_key, salt=tracking.OPEN_SALT).sign(f"{message_id}.1").decode(),  # the open salt
        ours.sign(f"{message_id}.99").decode(),  # genuine, but the message has no link 99
        ours.sign(f"{message_id}.0").decode(), ours.sign(f"-{message_id}.1").decode(),
        ours.sign("https://attacker.example").decode(),
        URLSafeSerializer(settings.secret_key, salt=tracking.CLICK_SALT).dumps([message_id, 1]),
        payload, "", "not-a-token", "%00",
    ]
    later()
    for bad in forged:
        answer = engine_app.test_client().get(f"/t/c/{bad}?url=https://attacker.example")
        assert answer.status_code == 404, bad
        assert "Location" not in answer.headers
    pixel_token = pixel(mail).rsplit("/", 1)[1].removesuffix(".gif")
    pixel_payload, pixel_signature = pixel_token.rsplit(".", 1)
    altered = f"{pixel_payload}." + ("B" if pixel_signature[0] == "A" else "A") + pixel_signature[1:]
    for bad in (altered, token, "not-a-token"):
        assert engine_app.test_client().get(f"/t/o/{bad}.gif").status_code == 404
    assert _count(engine_app, TrackingHit) == 0 and _count(engine_app, Engagement) == 0
    assert _count(engine_app, Event, Event.name.in_(["email_opened", "email_clicked"])) == 0


def test_tracking_off_for_a_template_means_no_pixel_and_untouched_links(engine_app, smtp):
    mail = _sent(engine_app, smtp, tracking_on=False)
    assert tracked(mail) == [] and "/t/o/" not in html_of(mail)
    assert "https://shop.example/sale?utm_source=email" in links(mail)
    assert _count(engine_app, MessageLink) == 0


def test_unique_actions_fire_one_event_each_and_totals_count_every_hit(engine_app, smtp):
    mail = _sent(engine_app, smtp)
    first, second = tracked(mail)
    later()
    for _ in range(3):
        assert click(engine_app, first).status_code == 302
    assert click(engine_app, second).status_code == 302
    for _ in range(2):
        answer = open_pixel(engine_app, pixel(mail))
        assert answer.status_code == 200 and answer.mimetype == "image/gif" and answer.data.startswith(b"GIF89a")
    assert _count(engine_app, TrackingHit, TrackingHit.kind == "click") == 4
    assert _count(engine_app, TrackingHit, TrackingHit.kind == "open") == 2
    assert _count(engine_app, Engagement, Engagement.kind == "click") == 2
    assert _count(engine_app, Engagement, Engagement.kind == "open") == 1
    with engine_app.app_context():
        fired = db.session.execute(select(Event.name, Event.properties, Event.source).order_by(Event.id)).all()
        message = db.session.scalars(select(Message)).one()
    engagement = [(name, props) for name, props, source in fired if source == "tracking"]
    assert [name for name, _ in engagement] == ["email_clicked", "email_clicked", "email_opened"]
    assert [props["link"] for name, props in engagement if name == "email_clicked"] == [1, 2]
    assert all(props["message_id"] == message.id and props["node"] == "hello" and props["template"] == "welcome"
               for _, props in engagement)
    assert engagement[0][1]["url"] == "https://shop.example/sale?utm_source=email"


def test_machine_opens_and_clicks_are_recorded_flagged_and_fire_nothing(engine_app, smtp):
    mail = _sent(engine_app, smtp)
    first, second = tracked(mail)
    at(T0)  # the moment the email was sent: a gateway follows every link
    assert click(engine_app, first).status_code == 302
    later(2)
    assert open_pixel(engine_app, pixel(mail), agent=APPLE_PROXY).status_code == 200
    assert open_pixel(engine_app, pixel(mail), ip="17.58.101.12").status_code == 200
    assert click(engine_app, second, agent=SCANNER).status_code == 302
    assert click(engine_app, second, method="HEAD").status_code == 302
    with engine_app.app_context():
        reasons = sorted(r for r in db.session.scalars(select(TrackingHit.machine)))
        humans = db.session.scalar(select(func.count()).select_from(Engagement).where(Engagement.human_at.is_not(None)))
    assert reasons == ["apple_proxy", "apple_proxy", "head_request", "prefetch", "scanner"]
    assert humans == 0
    assert _count(engine_app, Event, Event.source == "tracking") == 0
    later(30)  # then a person reads it and clicks: now the events fire, once
    open_pixel(engine_app, pixel(mail))
    click(engine_app, first)
    click(engine_app, first)
    assert _count(engine_app, Event, Event.source == "tracking") == 2
    assert _count(engine_app, Engagement, Engagement.human_at.is_not(None)) == 2


def test_an_erased_contacts_old_links_identify_nobody(engine_app, smtp):
    mail = _sent(engine_app, smtp)
    first, _ = tracked(mail)
    later()
    assert click(engine_app, first).status_code == 302
    with engine_app.app_context():
        with db.transaction() as s:
            contact = s.scalars(select(Contact)).one()
            counts = erasure.erase(s, contact, actor="test", now=T0)
    assert counts["tracking"] == 2
    hits_before = _count(engine_app, TrackingHit)
    events_before = _count(engine_app, Event)
    answer = click(engine_app, first)
    assert answer.status_code == 404 and "Location" not in answer.headers
    assert "ana@example.com" not in answer.get_data(as_text=True)
    assert open_pixel(engine_app, pixel(mail)).status_code == 404
    assert _count(engine_app, TrackingHit) == hits_before and _count(engine_app, Event) == events_before
    with engine_app.app_context():
        assert set(db.session.scalars(select(MessageLink.url))) == {""}
        assert set(db.session.scalars(select(TrackingHit.user_agent))) == {None}


def test_a_hammered_link_still_redirects_but_stops_growing_the_table(engine_app, smtp, monkeypatch):
    monkeypatch.setattr(tracking, "MAX_HITS_PER_MESSAGE", 3)
    mail = _sent(engine_app, smtp)
    first, _ = tracked(mail)
    later()
    for _ in range(5):
        assert click(engine_app, first).status_code == 302
    assert _count(engine_app, TrackingHit) == 3


def test_links_of_a_retried_message_are_those_of_the_attempt_that_went(engine_app, smtp):
    with engine_app.app_context():
        with db.transaction() as s:
            add_template(s, "welcome", BODY)
    setup(engine_app, chain("signed_up", send("hello", "welcome")), {})
    smtp.box.refuse_data = "451 4.3.0 try again later"
    post(engine_app, event("signed_up", "ana@example.com"))
    work(engine_app)
    assert _count(engine_app, MessageLink) == 2  # stored with the failed attempt's outcome
    smtp.box.refuse_data = None
    with engine_app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.status == "queued" and message.next_attempt_at is not None
        at(message.next_attempt_at)
    run_until_quiet(engine_app, message.next_attempt_at)
    [mail] = smtp.box.to("ana@example.com")
    assert _count(engine_app, MessageLink) == 2
    later(10)
    assert click(engine_app, tracked(mail)[0]).headers["Location"] == "https://shop.example/sale?utm_source=email"


def test_a_contacts_export_holds_its_opens_and_clicks(engine_app, smtp):
    from app.services import export

    mail = _sent(engine_app, smtp)
    later()
    click(engine_app, tracked(mail)[0])
    open_pixel(engine_app, pixel(mail))
    with engine_app.app_context():
        doc = export.document(db.session, db.session.scalars(select(Contact)).one(), T0)
    assert sorted((h["kind"], h["position"]) for h in doc["tracking"]) == [("click", 1), ("open", None)]
