"""Links that name a contact in an email: unsubscribe and preferences, signed by the app.

The pages behind them (one-click unsubscribe, preference center) are app/web/public.py; the
tokens are opaque and signed, and never expire: an unsubscribe link must work for as long as
the email it came in can be opened.
"""
from __future__ import annotations

from itsdangerous import URLSafeSerializer

from app.config import Settings

UNSUBSCRIBE_SALT = "journeys.unsubscribe"
PREFERENCES_SALT = "journeys.preferences"


def _token(settings: Settings, salt: str, contact_id: int, message_key: str | None) -> str:
    return URLSafeSerializer(settings.secret_key, salt=salt).dumps([contact_id, message_key])


def unsubscribe_url(settings: Settings, contact_id: int, message_key: str | None = None) -> str:
    return f"{settings.base_url}/u/{_token(settings, UNSUBSCRIBE_SALT, contact_id, message_key)}"


def preferences_url(settings: Settings, contact_id: int) -> str:
    return f"{settings.base_url}/preferences/{_token(settings, PREFERENCES_SALT, contact_id, None)}"


def read_unsubscribe(settings: Settings, token: str) -> tuple[int, str | None] | None:
    """(contact id, message key) of a genuine token, else None."""
    from itsdangerous import BadSignature

    try:
        contact_id, key = URLSafeSerializer(settings.secret_key, salt=UNSUBSCRIBE_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return int(contact_id), key


def read_preferences(settings: Settings, token: str) -> int | None:
    """The contact id of a genuine preferences token, else None."""
    from itsdangerous import BadSignature

    try:
        contact_id, _ = URLSafeSerializer(settings.secret_key, salt=PREFERENCES_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return int(contact_id)
