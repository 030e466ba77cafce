"""SMTP_URL: which server, how to secure the connection, who to log in as."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from app.mail.errors import ConfigError

#: Seconds an SMTP command may wait for the server when SMTP_URL names no timeout.
DEFAULT_TIMEOUT = 30.0

_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}  # and each one's default port
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in logs or tracebacks
    timeout: float = DEFAULT_TIMEOUT


def parse_smtp_url(url: str) -> SMTPSettings:
    """`smtp://[user:pass@]host[:port][?timeout=30&starttls=1]`, `smtp+starttls://…`, `smtps://…`.

    Error messages never repeat the URL: it may hold the password.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in _SCHEMES:
        raise ConfigError(f"SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, "
                          f"not {parts.scheme + '://' if parts.scheme else 'nothing'}.")
    if not parts.hostname:
        raise ConfigError("SMTP_URL names no host: use smtp://host:25 (or smtp+starttls://, smtps://).")
    try:
        port = parts.port or _SCHEMES[parts.scheme]
    except ValueError:
        raise ConfigError("SMTP_URL has a port that is not a number from 1 to 65535.") from None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(query) - {"timeout", "starttls"})
    if unknown:
        raise ConfigError(f"SMTP_URL has an unknown parameter {unknown[0]!r}: "
                          "only timeout (seconds) and starttls (1/0) are understood.")
    try:
        timeout = float(query.get("timeout", DEFAULT_TIMEOUT))
    except ValueError:
        timeout = -1.0
    if not 0 < timeout < float("inf"):
        raise ConfigError("SMTP_URL timeout must be a number of seconds greater than 0.")
    flag = query.get("starttls", "").strip().lower()
    if flag not in _TRUE + _FALSE:
        raise ConfigError("SMTP_URL starttls must be 1 or 0.")
    if parts.password is not None and not parts.username:
        raise ConfigError("SMTP_URL has a password but no user name: smtp://user:password@host.")
    implicit = parts.scheme == "smtps"
    starttls = not implicit and (parts.scheme == "smtp+starttls" or flag in _TRUE)
    return SMTPSettings(parts.hostname, port, implicit, starttls,
                        unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password is not None else None, timeout)
