"""Support for the consent and deliverability tests: SNS messages signed with a certificate made
here, contacts and sent messages, and a scan of every text column of every table."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import JSON, String, Text, select
from sqlalchemy.orm import Session

from app.models import Base, Contact, Message, SubscriptionStatus

BOUNCES = Path(__file__).resolve().parent / "fixtures" / "bounces"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-feedback"


def bounce_fixture(name: str) -> bytes:
    return (BOUNCES / name).read_bytes()


@dataclass
class SnsSigner:
    """A key and self-signed certificate standing in for Amazon SNS's."""

    key: rsa.RSAPrivateKey
    pem: bytes

    @classmethod
    def make(cls) -> SnsSigner:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
        return cls(key, cert.public_bytes(serialization.Encoding.PEM))

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        """`message` with SignatureVersion, SigningCertURL and Signature, as SNS documents them."""
        signed = {**message, "SignatureVersion": version, "SigningCertURL": message.get("SigningCertURL", CERT_URL)}
        if signed["Type"] == "Notification":
            names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        else:
            names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        text = "".join(f"{n}\n{signed[n]}\n" for n in names if n in signed)
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        signed["Signature"] = base64.b64encode(self.key.sign(text.encode(), padding.PKCS1v15(), digest)).decode()
        return signed


def sns_notification(ses_message: dict[str, Any] | bytes, message_id: str = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                     topic: str = TOPIC) -> dict[str, Any]:
    """The SNS envelope of an SES notification (Message is the notification's JSON, as a string)."""
    body = ses_message.decode() if isinstance(ses_message, bytes) else json.dumps(ses_message)
    return {"Type": "Notification", "MessageId": message_id, "TopicArn": topic, "Message": body,
            "Timestamp": "2026-12-01T10:00:00.000Z",
            "UnsubscribeURL": f"https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:1"}


def contact(s: Session, email: str, status: SubscriptionStatus = SubscriptionStatus.subscribed,
            **attributes: Any) -> Contact:
    row = Contact(email=email, attributes=attributes, tags=[], subscription_status=status, created_at=T0,
                  updated_at=T0)
    s.add(row)
    s.flush()
    return row


def sent_message(s: Session, contact_row: Contact, key: str, at: datetime = T0, category: str = "marketing",
                 enrollment_id: int | None = None) -> Message:
    row = Message(key=key, contact_id=contact_row.id, enrollment_id=enrollment_id, category=category,
                  status="sent", attempts=1, to_email=contact_row.email, subject="Hello", created_at=at,
                  updated_at=at, sent_at=at)
    s.add(row)
    s.flush()
    return row


def find_everywhere(s: Session, needles: list[str]) -> list[str]:
    """Every (table.column = value) of every text and JSON column, in every table, naming a needle."""
    found = []
    lowered = [n.lower() for n in needles]
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in s.execute(select(*columns)):
            for column, value in zip(columns, row):
                text = (json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value).lower()
                for needle in lowered:
                    if needle in text:
                        found.append(f"{table.name}.{column.name} = {str(value)[:120]}")
    return found
