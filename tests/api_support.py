"""Support for API tests: keys made as an admin would, signed requests, event bodies."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app import clock
from app.db import db
from app.services import api_keys, signatures


@dataclass(frozen=True)
class Key:
    id: int
    key: str
    signing_secret: str | None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_key(application: Any, scopes: str = "events:write", *, signed: bool = False, name: str = "test") -> Key:
    with application.app_context():
        with db.transaction() as s:
            issued = api_keys.create(s, name=name, scopes=scopes, signed=signed, actor=None, by="test",
                                     now=clock.now())
            return Key(issued.row.id, issued.key, issued.signing_secret)


def revoke(application: Any, key: Key) -> None:
    with application.app_context():
        with db.transaction() as s:
            api_keys.revoke(s, key.id, actor=None, by="test", now=clock.now())


def signed_headers(key: Key, body: bytes, msg_id: str = "msg_1", at: int | None = None,
                   secret: str | None = None) -> dict[str, str]:
    stamp = int(clock.now().timestamp()) if at is None else at
    return {**key.headers, "Content-Type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signatures.sign(secret or key.signing_secret or "", msg_id, stamp, body)}


def event(name: str = "signed_up", email: str = "ana@example.com", **extra: Any) -> dict[str, Any]:
    return {"event": name, "contact": {"email": email}, **extra}


def body(data: Any) -> bytes:
    return json.dumps(data).encode()
