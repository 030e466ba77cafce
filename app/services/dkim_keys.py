"""Which DKIM key signs, keys made in Settings, and the DNS records a sender must publish.

The environment wins (DKIM_PRIVATE_KEY_PATH, DKIM_SELECTOR, DKIM_DOMAIN): a deployment that
manages its keys outside the app keeps them there. Otherwise an admin generates a key in
Settings → Deliverability, publishes the TXT record it shows, then turns signing on; only a
key of the sender address's domain signs, because DMARC wants the d= domain to match From.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import ConfigError, Conflict, NotFound, ValidationFailed
from app.mail import dkim
from app.mail.smtp_url import parse_smtp_url
from app.models import DkimKey
from app.services import audit_log, workspace

log = logging.getLogger(__name__)

_SELECTOR = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
#: SPF includes of well-known providers, by the SMTP host's ending.
SPF_INCLUDES = {"amazonaws.com": "amazonses.com", "sendgrid.net": "sendgrid.net",
                "postmarkapp.com": "spf.mtasv.net", "mailgun.org": "mailgun.org",
                "sparkpostmail.com": "sparkpostmail.com", "gmail.com": "_spf.google.com",
                "office365.com": "spf.protection.outlook.com"}


def sender_domain(db: Session, settings: Settings) -> str:
    address = workspace.sender(workspace.current(db), settings.mail_from).address
    return address.rpartition("@")[2].lower() or "localhost"


def signer(db: Session, settings: Settings) -> dkim.Signer | None:
    """The signer for this workspace's mail, or None (no key: mail goes unsigned)."""
    domain = sender_domain(db, settings)
    if settings.dkim_private_key_path:
        return dkim.Signer(settings.dkim_selector or "", settings.dkim_domain or domain,
                           _key_file(settings.dkim_private_key_path))
    row = db.scalar(select(DkimKey).where(DkimKey.active.is_(True), DkimKey.domain == domain))
    return dkim.Signer(row.selector, row.domain, row.private_key.encode()) if row else None


@lru_cache(maxsize=4)
def _read(path: str, mtime: float) -> bytes:
    pem = Path(path).read_bytes()
    dkim.load_private_key(pem)  # refuse a bad file here, not at the first send
    return pem


def _key_file(path: str) -> bytes:
    try:
        return _read(path, Path(path).stat().st_mtime)
    except OSError as exc:
        raise ConfigError(f"DKIM_PRIVATE_KEY_PATH={path}: {exc.strerror}") from None
    except dkim.DkimError as exc:
        raise ConfigError(f"DKIM_PRIVATE_KEY_PATH={path}: {exc}") from None


def keys(db: Session) -> list[DkimKey]:
    return list(db.scalars(select(DkimKey).order_by(DkimKey.created_at.desc(), DkimKey.id.desc())))


def generate(db: Session, *, domain: str, selector: str, actor: str, actor_id: int | None,
             now: datetime) -> DkimKey:
    """A new 2048-bit key pair for `domain`, not signing yet (publish its record first)."""
    domain, selector = domain.strip().lower().rstrip("."), selector.strip().lower()
    if not _SELECTOR.match(selector):
        raise ValidationFailed("The selector is a DNS label: letters, digits and dashes, e.g. journeys1.",
                               field="selector")
    if "." not in domain or not all(_SELECTOR.match(part) for part in domain.split(".")):
        raise ValidationFailed(f"{domain!r} is not a domain name such as shop.example.", field="domain")
    row = DkimKey(domain=domain, selector=selector, private_key=dkim.generate_private_key().decode(),
                  active=False, created_at=now, created_by=actor)
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        raise Conflict(f"{domain} has a key with the selector {selector} already; choose another.") from None
    audit_log.write(db, actor=actor, actor_id=actor_id, action="dkim.generate", target=f"dkim:{row.id}", now=now,
                    domain=domain, selector=selector)
    return row


def set_active(db: Session, key_id: int, active: bool, *, actor: str, actor_id: int | None,
               now: datetime) -> DkimKey:
    """Sign with this key (and no other of its domain), or stop signing with it."""
    row = db.get(DkimKey, key_id)
    if row is None:
        raise NotFound(f"No DKIM key {key_id}.")
    if active:
        db.execute(update(DkimKey).where(DkimKey.domain == row.domain, DkimKey.id != row.id).values(active=False))
    row.active = active
    audit_log.write(db, actor=actor, actor_id=actor_id, action="dkim.activate" if active else "dkim.deactivate",
                    target=f"dkim:{row.id}", now=now, domain=row.domain, selector=row.selector)
    db.flush()
    return row


@dataclass(frozen=True)
class Record:
    kind: str  # SPF | DKIM | DMARC
    host: str
    value: str
    note: str


def dns_records(db: Session, settings: Settings) -> list[Record]:
    """The TXT records to publish for the sender's domain, the DKIM one per configured key."""
    domain = sender_domain(db, settings)
    records = [_spf(settings, domain)]
    if settings.dkim_private_key_path:
        try:
            value = dkim.dns_record(_key_file(settings.dkim_private_key_path))
            records.append(Record("DKIM", f"{settings.dkim_selector}._domainkey.{settings.dkim_domain or domain}",
                                  value, "From DKIM_PRIVATE_KEY_PATH (the environment), which signs all mail."))
        except ConfigError as exc:
            records.append(Record("DKIM", "-", "-", exc.detail))
    for row in keys(db):
        if row.domain == domain:
            records.append(Record("DKIM", f"{row.selector}._domainkey.{row.domain}", dkim.dns_record(
                row.private_key.encode()), "Signing now." if row.active else "Publish this, then start signing."))
    records.append(Record("DMARC", f"_dmarc.{domain}", f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}; "
                          "adkim=r; aspf=r", "Start with p=none and read the reports; move to p=quarantine "
                          "once they show only your own mail. Gmail and Yahoo require a DMARC record of bulk senders."))
    return records


def _spf(settings: Settings, domain: str) -> Record:
    include = None
    for url in (settings.smtp_url, settings.smtp_url_transactional):
        if url:
            try:
                host = parse_smtp_url(url).host.lower()
            except ConfigError:
                continue
            include = include or next((inc for end, inc in SPF_INCLUDES.items() if host.endswith(end)), None)
    if include:
        return Record("SPF", domain, f"v=spf1 include:{include} ~all",
                      "Merge with an SPF record you already have: a domain may publish only one.")
    return Record("SPF", domain, "v=spf1 a mx ~all", "Add include:<your mail provider's SPF domain> (see your "
                  "provider's documentation); merge with any SPF record you already have.")
