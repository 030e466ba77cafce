"""Who is calling the API: `Authorization: Bearer KEY`, then its signature if the key wants one,
then the scope the route needs. Sessions and cookies never authenticate here, which is why
the API needs no CSRF token.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import request

from app import clock
from app.api import body
from app.db import db
from app.errors import FieldProblem, Forbidden, Unauthorized
from app.services import api_keys, signatures
from app.services.api_keys import ApiClient

REALM = 'Bearer realm="journeys"'
INVALID = REALM + ', error="invalid_token"'


@dataclass(frozen=True)
class Caller:
    client: ApiClient
    #: The Standard Webhooks message id of a signed request: names the request for deduplication.
    webhook_id: str | None


def bearer_token() -> str | None:
    """The key in `Authorization: Bearer …`, if the header has that form."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate(scope: str) -> Caller:
    """The caller, allowed `scope`; Unauthorized (401) or Forbidden (403) otherwise."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("Send an API key as `Authorization: Bearer KEY` (create one in Settings → API keys).",
                           errors=[FieldProblem("missing or not a Bearer token", header="Authorization")],
                           headers={"WWW-Authenticate": REALM})
    now = clock.now()
    try:
        client = api_keys.authenticate(db.session, token, now)
    except Unauthorized as exc:
        exc.headers.setdefault("WWW-Authenticate", INVALID)
        raise
    webhook_id = None
    if client.signing_secret:
        try:
            webhook_id = signatures.verify(client.signing_secret, request.headers, body.raw(), now)
        except Unauthorized as exc:
            exc.headers.setdefault("WWW-Authenticate", INVALID)
            raise
    if scope not in client.scopes:
        raise Forbidden(f"API key {client.prefix}… lacks the {scope} scope this route needs "
                        f"(it has: {', '.join(sorted(client.scopes)) or 'none'}).",
                        headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'})
    return Caller(client, webhook_id)
