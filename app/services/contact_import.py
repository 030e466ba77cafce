"""Importing contacts from a CSV: a dry run that says what would happen, then the import.

Contacts go through the same upsert as events (events.upsert_contact: found by external id,
then email; attributes merged, tags added) and consent through its one service
(consent.change, source `import`, with the operator's description of where the consent came
from kept on every record), so a suppressed address is never subscribed again and double
opt-in applies where the workspace asks for it on imports.

Rows are written in batches, each committed: a rerun of the same file is harmless (upserts
merge, an unchanged consent records nothing), so an interrupted import is finished by
running it again. An import enrolls nobody: journeys start on events.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Contact, ConsentRecord, Suppression, SubscriptionStatus, email_digest
from app.services import audit_log, consent, events, workspace
from app.services.contact_csv import Problem, Row
from app.services.facts import is_suppressed

#: Rows written per transaction.
BATCH = 500


@dataclass
class Summary:
    rows: int = 0
    bad: int = 0
    created: int = 0
    updated: int = 0
    subscribed: int = 0
    unsubscribed: int = 0
    confirmation_asked: int = 0  # double opt-in: "unconfirmed", a confirmation email queued
    suppressed: int = 0  # to be subscribed, but the address is suppressed: left as it is
    consent_unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


@dataclass(frozen=True)
class Consent:
    default: str  # subscribed | unsubscribed | none: for rows whose file says nothing
    source: str  # the operator's words: where and how the consent was given
    file: str


def batches(rows: Iterable[Row], size: int = BATCH) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check(db: Session, rows: Iterable[Row], terms: Consent,
          on_batch: Callable[[], None] | None = None) -> Summary:
    """The dry run: every row checked, and what importing the good ones would do; writes nothing."""
    summary = Summary()
    ask = consent.needs_confirmation(workspace.current(db), "import")
    for chunk in batches(_counted(rows, summary)):
        good = [r for r in chunk if not r.problems]
        emails = [r.contact["email"] for r in good]
        known = dict(db.execute(select(Contact.email, Contact.subscription_status)
                                .where(Contact.email.in_(emails))).all())
        blocked = set(db.scalars(select(Suppression.email_hash).where(
            Suppression.email_hash.in_([email_digest(e) for e in emails]))))
        for row in good:
            status = known.get(row.contact["email"])
            summary.created += status is None
            summary.updated += status is not None
            _predict(summary, _wanted(row, terms), status or SubscriptionStatus.never_subscribed,
                     email_digest(row.contact["email"]) in blocked, ask)
        if on_batch:
            on_batch()
    return summary


def apply(db: Session, rows: Iterable[Row], terms: Consent, *, now: datetime, actor: str,
          on_batch: Callable[[], None] | None = None) -> Summary:
    """Write the good rows (the caller decided bad ones may be skipped), a batch per commit."""
    summary = Summary()
    for chunk in batches(_counted(rows, summary)):
        good = [r for r in chunk if not r.problems]
        known = set(db.scalars(select(Contact.email).where(Contact.email.in_([r.contact["email"] for r in good]))))
        for row in good:
            contact = events.upsert_contact(db, row.contact, now, origin=f"import:{terms.file}"[:100])
            summary.created += row.contact["email"] not in known
            summary.updated += row.contact["email"] in known
            _change_consent(db, summary, contact, row, terms, now, actor)
        db.commit()
        db.expunge_all()  # a batch's objects are done with: memory stays flat over 100k rows
        if on_batch:
            on_batch()
    with db.begin():
        audit_log.write(db, actor=actor, action="contacts.import", target=f"file:{terms.file}"[:300], now=now,
                        consent=terms.default, consent_source=terms.source, **summary.as_dict())
    return summary


def _counted(rows: Iterable[Row], summary: Summary) -> Iterator[Row]:
    for row in rows:
        summary.rows += 1
        if row.problems:
            summary.bad += 1
            summary.problems.extend(row.problems)
        yield row


def _wanted(row: Row, terms: Consent) -> str:
    return row.consent or terms.default


def _change_consent(db: Session, summary: Summary, contact: Contact, row: Row, terms: Consent, now: datetime,
                    actor: str) -> None:
    wanted = _wanted(row, terms)
    if wanted == "none":
        return
    record: ConsentRecord | None = consent.change(
        db, contact, "marketing", wanted, source="import", now=now, actor=actor,
        details={"consent_source": terms.source, "file": terms.file, "line": row.line})
    if record is None:
        if wanted == "subscribed" and contact.subscription_status != SubscriptionStatus.subscribed:
            if is_suppressed(db, contact.email):
                summary.suppressed += 1
            else:  # already waiting for its confirmation click: asked again (or recently asked)
                summary.confirmation_asked += 1
        else:
            summary.consent_unchanged += 1
    elif record.status == SubscriptionStatus.unconfirmed.value:
        summary.confirmation_asked += 1
    elif record.status == SubscriptionStatus.subscribed.value:
        summary.subscribed += 1
    else:
        summary.unsubscribed += 1


def _predict(summary: Summary, wanted: str, status: SubscriptionStatus, blocked: bool, ask: bool) -> None:
    """What `_change_consent` would count, without writing (mirrors consent.change's rules)."""
    if wanted == "none":
        return
    if wanted == "subscribed":
        if status == SubscriptionStatus.subscribed:
            summary.consent_unchanged += 1
        elif blocked:
            summary.suppressed += 1
        elif ask:
            summary.confirmation_asked += 1
        else:
            summary.subscribed += 1
    elif status == SubscriptionStatus.unsubscribed:
        summary.consent_unchanged += 1
    else:
        summary.unsubscribed += 1
