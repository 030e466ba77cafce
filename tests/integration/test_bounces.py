"""Bounce and complaint webhooks: each provider's documented payload suppresses the right address;
SNS signatures are checked with the certificate SigningCertURL names; soft bounces add up."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select

from app import clock
from app.db import db
from app.mail.message import message_id_for
from app.models import AuditEntry, BounceEvent, ConsentRecord, Contact, Message, Suppression, email_digest
from app.services import bounce_intake, sns, suppressions
from tests.consent_support import (CERT_URL, T0, TOPIC, SnsSigner, bounce_fixture, contact, sent_message,
                                   sns_notification)

PATH = "/api/v1/webhooks/bounces/{}"


@pytest.fixture
def signer() -> Iterator[SnsSigner]:
    made = SnsSigner.make()
    sns.remember_certificate(CERT_URL, made.pem)
    yield made
    sns._cache.clear()


@pytest.fixture(autouse=True)
def _at_t0(app):  # type: ignore[no-untyped-def]
    clock.set_source(lambda: T0)


def token(app: Any, provider: str) -> str:
    return bounce_intake.token(app.config["SETTINGS"], provider)


def suppressed(app: Any, email: str) -> Suppression | None:
    with app.app_context():
        return db.session.scalar(select(Suppression).where(Suppression.email_hash == email_digest(email)))


def post_sns(client: Any, message: dict[str, Any], query: str = "") -> Any:
    # SNS posts text/plain, whatever the body is.
    return client.post(PATH.format("ses") + query, data=json.dumps(message),
                       headers={"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": message["Type"]})


def test_an_ses_permanent_bounce_via_sns_suppresses_the_recipient(app, client, signer):
    message = signer.sign(sns_notification(bounce_fixture("ses_bounce.json")))
    resp = post_sns(client, message, f"?token={token(app, 'ses')}")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"status": "processed", "counts": {"suppressed": 1}}
    row = suppressed(app, "jane@example.com")
    assert row is not None and row.reason == "bounce" and row.source == "ses"
    assert "jane@example.com" not in row.detail and "5.1.1" in row.detail
    assert suppressed(app, "mary@example.com") is None  # also a destination, but it did not bounce


def test_signature_version_2_verifies_too(app, client, signer):
    message = signer.sign(sns_notification(bounce_fixture("ses_complaint.json")), version="2")
    assert post_sns(client, message, f"?token={token(app, 'ses')}").status_code == 200
    assert suppressed(app, "richard@example.com").reason == "complaint"


def test_a_listed_topic_needs_no_token_and_another_topic_is_refused(app, settings, signer):
    from app import create_app

    listed = create_app(settings.with_overrides(bounce_sns_topic_arns=(TOPIC,)))
    web = listed.test_client()
    assert post_sns(web, signer.sign(sns_notification(bounce_fixture("ses_bounce.json")))).status_code == 200
    other = sns_notification(bounce_fixture("ses_complaint.json"), topic="arn:aws:sns:eu-west-1:999999999999:theirs")
    resp = post_sns(web, signer.sign(other))
    assert resp.status_code == 401 and "not one of ours" in resp.get_json()["detail"]
    assert suppressed(listed, "richard@example.com") is None
    listed.extensions["db_engine"].dispose()


@pytest.mark.parametrize("forge", ["unsigned", "tampered", "other_key", "http_cert", "foreign_host", "not_pem",
                                   "bad_port", "bad_version"])
def test_unsigned_or_forged_sns_notifications_are_refused_and_change_nothing(app, client, signer, forge):
    message = signer.sign(sns_notification(bounce_fixture("ses_bounce.json")))
    if forge == "unsigned":
        del message["Signature"]
    elif forge == "tampered":  # a valid signature over another recipient
        message["Message"] = message["Message"].replace("jane@example.com", "victim@example.com")
    elif forge == "other_key":
        message = SnsSigner.make().sign(sns_notification(bounce_fixture("ses_bounce.json")))
    elif forge == "http_cert":
        message = signer.sign({**sns_notification(bounce_fixture("ses_bounce.json")),
                               "SigningCertURL": CERT_URL.replace("https://", "http://")})
    elif forge == "foreign_host":
        message = signer.sign({**sns_notification(bounce_fixture("ses_bounce.json")),
                               "SigningCertURL": "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem"})
    elif forge == "not_pem":
        message = signer.sign({**sns_notification(bounce_fixture("ses_bounce.json")),
                               "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/?Action=cert"})
    elif forge == "bad_port":
        message = signer.sign({**sns_notification(bounce_fixture("ses_bounce.json")),
                               "SigningCertURL": "https://sns.eu-west-1.amazonaws.com:abc/cert.pem"})
    else:
        message["SignatureVersion"] = "3"
    resp = post_sns(client, message, f"?token={token(app, 'ses')}")
    assert resp.status_code == 401, resp.get_json()
    assert resp.mimetype == "application/problem+json"
    assert suppressed(app, "jane@example.com") is None and suppressed(app, "victim@example.com") is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BounceEvent)) == 0


def test_a_certificate_from_another_host_is_never_fetched(app, client, signer, monkeypatch):
    fetched: list[str] = []
    monkeypatch.setattr(sns, "fetch", lambda url: fetched.append(url) or b"")
    message = signer.sign({**sns_notification(bounce_fixture("ses_bounce.json")),
                           "SigningCertURL": "https://attacker.example/SimpleNotificationService.pem"})
    assert post_sns(client, message, f"?token={token(app, 'ses')}").status_code == 401
    assert fetched == []


def test_the_certificate_is_fetched_once_then_cached(app, client, signer, monkeypatch):
    sns._cache.clear()
    fetched: list[str] = []
    monkeypatch.setattr(sns, "fetch", lambda url: fetched.append(url) or signer.pem)
    for n, fixture in enumerate(("ses_bounce.json", "ses_complaint.json")):
        message = signer.sign(sns_notification(bounce_fixture(fixture), message_id=f"m-{n}"))
        assert post_sns(client, message, f"?token={token(app, 'ses')}").status_code == 200
    assert fetched == [CERT_URL]


def test_a_subscription_confirmation_visits_subscribe_url(app, client, signer, monkeypatch):
    visited: list[str] = []
    monkeypatch.setattr(sns, "fetch", lambda url: visited.append(url) or b"<ConfirmSubscriptionResponse/>")
    url = f"https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37"
    message = signer.sign({
        "Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37", "TopicArn": TOPIC, "SubscribeURL": url, "Timestamp": "2026-12-01T10:00:00.000Z",
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the subscription, "
                   "visit the SubscribeURL included in this message."})
    resp = post_sns(client, message, f"?token={token(app, 'ses')}")
    assert resp.status_code == 200 and resp.get_json()["status"] == "subscribed"
    assert visited == [url]
    # a confirmation whose SubscribeURL leads elsewhere is not followed
    visited.clear()
    evil = signer.sign({**message, "SubscribeURL": "https://evil.example/?Action=ConfirmSubscription"})
    assert post_sns(client, evil, f"?token={token(app, 'ses')}").status_code == 401 and visited == []


def test_sendgrid_events_suppress_bounces_drops_and_spam_reports_only(app, client):
    resp = client.post(PATH.format("sendgrid") + f"?token={token(app, 'sendgrid')}",
                       data=bounce_fixture("sendgrid_events.json"), content_type="application/json")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["counts"] == {"suppressed": 3, "soft_bounce": 1}
    assert suppressed(app, "bounced@test.com").reason == "bounce"
    assert suppressed(app, "dropped@test.com").reason == "bounce"
    assert suppressed(app, "spam@test.com").reason == "complaint"
    assert suppressed(app, "blocked@test.com") is None  # blocked: counted as a soft bounce
    assert suppressed(app, "example@test.com") is None  # processed, deferred, delivered, open
    # SendGrid retries a batch it thinks failed: nothing counts twice
    again = client.post(PATH.format("sendgrid") + f"?token={token(app, 'sendgrid')}",
                        data=bounce_fixture("sendgrid_events.json"), content_type="application/json")
    assert again.get_json()["counts"] == {"duplicate": 4}


def test_sendgrid_signed_events_verify_with_the_public_key(app, settings):
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from app import create_app

    key = ec.generate_private_key(ec.SECP256R1())
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    signed_app = create_app(settings.with_overrides(sendgrid_webhook_public_key=public))
    web = signed_app.test_client()
    body = bounce_fixture("sendgrid_events.json")
    stamp = str(int(T0.timestamp()))
    signature = base64.b64encode(key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    headers = {"X-Twilio-Email-Event-Webhook-Signature": signature, "X-Twilio-Email-Event-Webhook-Timestamp": stamp}
    forged = web.post(PATH.format("sendgrid"), data=body.replace(b"spam@test.com", b"other@test.com"),
                      headers=headers, content_type="application/json")
    assert forged.status_code == 401
    unsigned = web.post(PATH.format("sendgrid") + f"?token={token(signed_app, 'sendgrid')}", data=body,
                        content_type="application/json")
    assert unsigned.status_code == 401  # the key is set: a signature is required, the token is not enough
    assert suppressed(signed_app, "other@test.com") is None
    ok = web.post(PATH.format("sendgrid"), data=body, headers=headers, content_type="application/json")
    assert ok.status_code == 200 and suppressed(signed_app, "spam@test.com").reason == "complaint"
    signed_app.extensions["db_engine"].dispose()


def test_postmark_bounce_and_spam_complaint(app, client):
    with app.app_context(), db.transaction() as s:
        john = contact(s, "john@example.com")
        sent_message(s, john, "e:1:n:1", at=T0 - timedelta(hours=2))
    url = PATH.format("postmark") + f"?token={token(app, 'postmark')}"
    assert client.post(url, data=bounce_fixture("postmark_bounce.json"), content_type="application/json").status_code == 200
    assert suppressed(app, "john@example.com").reason == "bounce"
    assert client.post(url, data=bounce_fixture("postmark_spam_complaint.json"),
                       content_type="application/json").status_code == 200
    row = suppressed(app, "john@example.com")
    assert row.reason == "complaint"  # a complaint outranks the bounce
    with app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.status == "complained"  # no Message-ID in Postmark's payload: the latest send
        john = db.session.scalars(select(Contact)).one()
        assert john.subscription_status.value == "unsubscribed"
        assert db.session.scalar(select(ConsentRecord.source).where(ConsentRecord.contact_id == john.id)) == "complaint"


def test_postmark_basic_auth_carries_the_token_too(app, client):
    import base64

    auth = base64.b64encode(f"postmark:{token(app, 'postmark')}".encode()).decode()
    resp = client.post(PATH.format("postmark"), data=bounce_fixture("postmark_bounce.json"),
                       content_type="application/json", headers={"Authorization": f"Basic {auth}"})
    assert resp.status_code == 200 and suppressed(app, "john@example.com") is not None


@pytest.mark.parametrize("provider", ["sendgrid", "postmark", "dsn"])
def test_posts_without_the_token_are_refused(app, client, provider):
    fixture = {"sendgrid": "sendgrid_events.json", "postmark": "postmark_bounce.json", "dsn": "dsn_failed_postfix.eml"}
    for query in ("", "?token=wrong", f"?token={token(app, 'ses')}"):  # another provider's token is wrong here
        resp = client.post(PATH.format(provider) + query, data=bounce_fixture(fixture[provider]),
                           content_type="application/json")
        assert resp.status_code == 401, (provider, query)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0


def test_a_raw_rfc3464_dsn_suppresses_and_marks_the_message_it_quotes(app, client):
    with app.app_context(), db.transaction() as s:
        someone = contact(s, "nobody-here@example.net")
        older = sent_message(s, someone, "e:1:a:1", at=T0 - timedelta(days=1))
        quoted = sent_message(s, someone, "e:1:b:1", at=T0 - timedelta(days=2))
        ids = older.id, quoted.id
    body = bounce_fixture("dsn_failed_postfix.eml").replace(b"<MESSAGE-ID-PLACEHOLDER>",
                                                            message_id_for("e:1:b:1", "shop.example").encode())
    resp = client.post(PATH.format("dsn") + f"?token={token(app, 'dsn')}", data=body,
                       content_type="message/rfc822")
    assert resp.status_code == 200, resp.get_json()
    assert suppressed(app, "nobody-here@example.net").reason == "bounce"
    with app.app_context():
        assert db.session.get(Message, ids[1]).status == "bounced"
        assert db.session.get(Message, ids[0]).status == "sent"  # the newer one was not the bounced one
        assert db.session.scalars(select(BounceEvent)).one().message_id == ids[1]


def test_a_dsn_with_a_temporary_status_counts_as_soft(app, client):
    resp = client.post(PATH.format("dsn") + f"?token={token(app, 'dsn')}",
                       data=bounce_fixture("dsn_timeout_rfc3464.eml"), content_type="message/rfc822")
    assert resp.get_json()["counts"] == {"soft_bounce": 1}
    assert suppressed(app, "louisl@larry.slip.umd.edu") is None


def test_a_feedback_report_is_a_complaint(app, client):
    resp = client.post(PATH.format("dsn") + f"?token={token(app, 'dsn')}", data=bounce_fixture("arf_rfc5965.eml"),
                       content_type="message/rfc822")
    assert resp.status_code == 200 and suppressed(app, "user@example.com").reason == "complaint"


def test_a_body_that_is_not_a_report_is_refused(app, client):
    resp = client.post(PATH.format("dsn") + f"?token={token(app, 'dsn')}", data=b"Subject: hello\r\n\r\nhi\r\n",
                       content_type="message/rfc822")
    assert resp.status_code == 400 and "delivery status notification" in resp.get_json()["detail"]
    resp = client.post(PATH.format("postmark") + f"?token={token(app, 'postmark')}", data=b"not json",
                       content_type="application/json")
    assert resp.status_code == 400


def test_three_soft_bounces_within_the_window_suppress(app, client, signer):
    transient = json.loads(bounce_fixture("ses_bounce_transient.json"))
    url = f"?token={token(app, 'ses')}"
    when = [T0, T0 + timedelta(days=1), T0 + timedelta(days=20), T0 + timedelta(days=21), T0 + timedelta(days=22)]
    results = []
    for n, at in enumerate(when):
        clock.set_source(lambda at=at: at)
        resp = post_sns(client, signer.sign(sns_notification(transient, message_id=f"soft-{n}")), url)
        results.append((resp.get_json()["counts"], suppressed(app, "mary@example.com") is not None))
    # two, then a third only 20 days on (outside 14 days), then three within 14 days
    assert results == [({"soft_bounce": 1}, False), ({"soft_bounce": 1}, False), ({"soft_bounce": 1}, False),
                       ({"soft_bounce": 1}, False), ({"suppressed": 1}, True)]
    assert "3 soft bounces in 14 days" in suppressed(app, "mary@example.com").detail


def test_an_admin_releases_a_suppression_with_a_reason_audited(app, client, login, signer):
    with app.app_context(), db.transaction() as s:
        contact(s, "jane@example.com")
    post_sns(client, signer.sign(sns_notification(bounce_fixture("ses_bounce.json"))), f"?token={token(app, 'ses')}")
    row = suppressed(app, "jane@example.com")
    login("admin")
    page = client.get("/settings/suppressions/").get_data(as_text=True)
    assert "jane@example.com" in page and "bounce" in page
    from tests.conftest import page_csrf

    csrf = page_csrf(client, "/settings/suppressions/")
    refused = client.post(f"/settings/suppressions/{row.id}/release", data={"csrf_token": csrf, "reason": " "})
    assert refused.status_code == 422 and suppressed(app, "jane@example.com") is not None
    done = client.post(f"/settings/suppressions/{row.id}/release",
                       data={"csrf_token": csrf, "reason": "the customer fixed the mailbox"})
    assert done.status_code == 302 and suppressed(app, "jane@example.com") is None
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "suppression.release"))
        assert entry.actor == "admin@example.com" and entry.details["reason"] == "the customer fixed the mailbox"
        assert entry.details["was"] == "bounce"


def test_an_erasure_suppression_cannot_be_released(app):
    from app.errors import Conflict

    with app.app_context(), db.transaction() as s:
        row = suppressions.suppress(s, "gone@example.com", reason="erasure", source="erasure", now=T0)
        with pytest.raises(Conflict):
            suppressions.release(s, row.id, reason="please", actor="admin", actor_id=None, now=T0)
