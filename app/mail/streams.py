"""Mail streams: marketing and transactional mail, each with its own server and rate limit if asked.

A receipt must not wait behind a campaign, nor share its reputation: SMTP_URL_TRANSACTIONAL
(and MAIL_RATE_PER_SECOND_TRANSACTIONAL) give transactional mail its own server, credentials
and send window. Without them both categories share the one backend (one connection per
batch) and the one window. Every message of a stream is DKIM-signed when a signer is given.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from app.mail.backends import Mail, MailBackend
from app.mail.dkim import Signer
from app.mail.message import OutgoingMessage


class RateLimiter(Protocol):
    def acquire(self, timeout: float) -> bool: ...


@dataclass
class Stream:
    name: str
    backend: MailBackend
    limiter: RateLimiter | None = None
    signer: Signer | None = None

    def send(self, message: Mail) -> str:
        if self.signer is not None and isinstance(message, OutgoingMessage):
            message = self.signer.sign(message)
        return self.backend.send(message)


class Streams:
    """The stream of each category; `with streams:` opens every distinct backend once."""

    def __init__(self, marketing: Stream, transactional: Stream | None = None) -> None:
        self.marketing = marketing
        self.transactional = transactional or marketing

    @classmethod
    def of(cls, backend: MailBackend | Streams, limiter: RateLimiter | None = None) -> Streams:
        """`backend` as streams: one backend and limiter serves both categories."""
        return backend if isinstance(backend, Streams) else cls(Stream("mail", backend, limiter))

    def for_category(self, category: str) -> Stream:
        return self.transactional if category == "transactional" else self.marketing

    def _backends(self) -> list[MailBackend]:
        backends = [self.marketing.backend]
        if self.transactional.backend is not self.marketing.backend:
            backends.append(self.transactional.backend)
        return backends

    def __enter__(self) -> Streams:
        opened: list[MailBackend] = []
        try:
            for backend in self._backends():
                backend.__enter__()
                opened.append(backend)
        except BaseException:
            for backend in reversed(opened):
                backend.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        for backend in reversed(self._backends()):
            backend.__exit__(*exc)


def streams_from_settings(settings: Any, signer: Signer | None = None) -> Streams:
    """SMTP_URL / SMTP_URL_TRANSACTIONAL and their rate limits (MAIL_RATE_PER_SECOND[_TRANSACTIONAL])."""
    from app.mail.backends import SMTPBackend, backend_from_settings

    marketing = Stream("marketing", backend_from_settings(settings),
                       _limiter(settings, settings.mail_rate_per_second, "journeys:send"), signer)
    own_url = getattr(settings, "smtp_url_transactional", None)
    own_rate = getattr(settings, "mail_rate_per_second_transactional", None)
    if not own_url and own_rate is None:
        return Streams(marketing)
    backend = SMTPBackend.from_url(own_url) if own_url else marketing.backend
    rate = settings.mail_rate_per_second if own_rate is None else own_rate
    return Streams(marketing, Stream("transactional", backend,
                                     _limiter(settings, rate, "journeys:send:transactional"), signer))


def _limiter(settings: Any, rate: int, name: str) -> RateLimiter | None:
    if not rate:
        return None
    from app.mail.ratelimit import SendRateLimiter

    return SendRateLimiter(settings.effective_redis_url, rate, name=name)
