"""The demo shoppers' side of the mail: what a new message in the outbox lets them do.

A confirmation email has a /confirm/ link; a marketing email has the open pixel, tracked
links and a one-click unsubscribe address. Only the paths are kept: the traffic generator
visits them on the app it drives, whatever BASE_URL the links were written with.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

from app.mail import outbox

_CONFIRM = re.compile(r"/confirm/[A-Za-z0-9._-]+")
_PIXEL = re.compile(r"/t/o/[A-Za-z0-9._-]+\.gif")
_CLICK = re.compile(r"/t/c/[A-Za-z0-9._-]+")
_UNSUBSCRIBE = re.compile(r"/u/[A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Mail:
    name: str
    to: str
    subject: str
    written_at: float  # the file's modification time (seconds since the epoch)
    confirm: str | None
    pixel: str | None
    clicks: tuple[str, ...]
    unsubscribe: str | None


def read(folder: Path, name: str) -> Mail | None:
    try:
        stored = outbox.read(folder, name)
        written = os.stat(Path(folder) / name, follow_symlinks=False).st_mtime
    except (outbox.NotInOutbox, OSError):
        return None
    body = (stored.html or "") + "\n" + (stored.text or "")
    header = dict((k.lower(), v) for k, v in stored.headers).get("list-unsubscribe", "")
    confirm, pixel, unsubscribe = _CONFIRM.search(body), _PIXEL.search(body), _UNSUBSCRIBE.search(header)
    clicks = tuple(dict.fromkeys(_CLICK.findall(stored.html or "")))
    return Mail(name, parseaddr(stored.summary.to)[1].lower(), stored.summary.subject, written,
                confirm.group(0) if confirm else None, pixel.group(0) if pixel else None, clicks,
                unsubscribe.group(0) if unsubscribe else None)


def arrivals(folder: Path, seen: set[str]) -> list[Mail]:
    """Messages not in `seen` (added to it), oldest first."""
    fresh = [name for name in reversed(outbox.names(folder)) if name not in seen]
    seen.update(fresh)
    return [mail for mail in (read(folder, name) for name in fresh) if mail is not None]
