"""Reading the outbox folder (where mail goes when SMTP_URL is unset): the sent-mail viewer
and the demo's traffic generator read it, nothing else writes it but OutboxBackend.

A message is named by its file name only, and a name is accepted only as OutboxBackend
writes them (no folder part, no leading dot, ending in .eml); the file must be a regular
file directly inside the folder (a symbolic link is refused, even one pointing inside), so a
name from a URL can never read anything else.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

#: How OutboxBackend names files: a UTC stamp, the Message-ID's safe characters, a random suffix.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,200}\.eml$")
#: The largest message read (a marketing email is well under 1 MB).
MAX_BYTES = 10 * 1024 * 1024


class NotInOutbox(Exception):
    """No such message in the outbox (or a name that could not be one)."""


@dataclass(frozen=True)
class Summary:
    name: str
    subject: str
    to: str
    sender: str
    date: datetime | None
    size: int


@dataclass(frozen=True)
class Stored:
    summary: Summary
    headers: list[tuple[str, str]]
    html: str | None
    text: str | None


def valid_name(name: str) -> bool:
    return bool(NAME.match(name)) and ".." not in name


def names(folder: Path) -> list[str]:
    """Message file names, newest first (their names start with the time they were written)."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    return sorted((e.name for e in entries if valid_name(e.name) and e.is_file(follow_symlinks=False)),
                  reverse=True)


def _open(folder: Path, name: str) -> tuple[bytes, int]:
    if not valid_name(name):
        raise NotInOutbox(name)
    path = Path(folder) / name
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        raise NotInOutbox(name) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            raise NotInOutbox(name)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_BYTES + 1), info.st_size
    finally:
        os.close(fd)


def _summary(name: str, message: EmailMessage, size: int) -> Summary:
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return Summary(name, str(message["Subject"] or ""), str(message["To"] or ""), str(message["From"] or ""),
                   date, size)


def summaries(folder: Path, offset: int = 0, limit: int = 50) -> tuple[int, list[Summary]]:
    """(messages in all, the page's summaries), newest first; headers only are read."""
    every = names(folder)
    page = []
    for name in every[offset:offset + limit]:
        try:
            raw, size = _open(folder, name)
        except NotInOutbox:
            continue  # removed since the listing
        page.append(_summary(name, BytesHeaderParser(policy=policy.default).parsebytes(raw), size))  # type: ignore[arg-type]
    return len(every), page


def read(folder: Path, name: str) -> Stored:
    """The message `name` with its HTML and text parts; NotInOutbox when there is none."""
    raw, size = _open(folder, name)
    message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[assignment]
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    return Stored(_summary(name, message, size), [(k, str(v)) for k, v in message.items()],
                  html.get_content() if html is not None else None,
                  text.get_content() if text is not None else None)
