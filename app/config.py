"""Configuration from environment variables, with working defaults.

Every setting a deployment can change is read here, once, into a frozen
`Settings`; the rest of the app never reads `os.environ` itself.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.errors import ConfigError

ENVIRONMENTS = ("development", "production", "test")
#: Seconds of inactivity after which a signed-in session ends.
DEFAULT_SESSION_IDLE_SECONDS = 2 * 60 * 60
#: Seconds after sign-in after which a session ends, however active.
DEFAULT_SESSION_MAX_SECONDS = 7 * 24 * 60 * 60
#: Bytes an API request body may have (1 MiB: a full batch of 1,000 ordinary events fits).
DEFAULT_API_MAX_BODY_BYTES = 1024 * 1024
#: Requests per API key (flask-limiter notation); generous, it guards against runaway senders.
DEFAULT_API_RATE_LIMIT = "6000/minute"


@dataclass(frozen=True)
class Settings:
    env: str
    instance_path: Path
    database_url: str
    redis_url: str | None  # None: the embedded Redis under instance_path
    secret_key: str
    base_url: str
    smtp_url: str | None  # None: messages are written to the outbox folder
    mail_from: str
    log_level: str = "INFO"
    log_json: bool = False
    session_idle_seconds: int = DEFAULT_SESSION_IDLE_SECONDS
    session_max_seconds: int = DEFAULT_SESSION_MAX_SECONDS
    trusted_proxy_count: int = 0  # reverse proxies whose X-Forwarded-* headers are believed
    mail_rate_per_second: int = 50  # shared by all workers; 0: no limit
    trace_retention_days: int = 180  # steps of finished enrollments older than this are pruned; 0: keep
    api_max_body_bytes: int = DEFAULT_API_MAX_BODY_BYTES
    api_rate_limit: str = DEFAULT_API_RATE_LIMIT
    # Consent and deliverability (docs/deliverability.md): a second mail stream for transactional
    # mail, DKIM signing, and what the bounce webhooks trust.
    smtp_url_transactional: str | None = None  # None: transactional mail goes where SMTP_URL says
    mail_rate_per_second_transactional: int | None = None  # None: shares MAIL_RATE_PER_SECOND's window
    dkim_private_key_path: str | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None  # None: the sender address's domain
    bounce_sns_topic_arns: tuple[str, ...] = ()  # SNS topics whose signed notifications need no token
    sendgrid_webhook_public_key: str | None = None  # base64 DER; set: SendGrid posts must be signed
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def development(self) -> bool:
        return self.env != "production"

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None

    @property
    def redis_socket(self) -> Path:
        return self.instance_path / "redis.sock"

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or f"unix://{self.redis_socket}"

    @property
    def outbox_path(self) -> Path:
        return self.instance_path / "outbox"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **kwargs: object) -> "Settings":
        return replace(self, **kwargs)  # type: ignore[arg-type]


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment)."""
    env_vars = os.environ if environ is None else environ
    env = env_vars.get("JOURNEYS_ENV", "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(
            f"JOURNEYS_ENV={env!r} is not one of {', '.join(ENVIRONMENTS)}."
        )
    instance = Path(env_vars.get("INSTANCE_PATH", "instance")).expanduser().resolve()
    database_url = env_vars.get("DATABASE_URL") or f"sqlite:///{instance / 'journeys.db'}"
    database_url = _check_database_url(database_url)
    redis_url = env_vars.get("REDIS_URL") or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"REDIS_URL={redis_url!r} is not a Redis URL: use redis://host:6379/0, "
            "rediss://… or unix:///path/to/redis.sock, or unset it to use the embedded Redis."
        )
    if env_vars.get("DKIM_PRIVATE_KEY_PATH") and not env_vars.get("DKIM_SELECTOR"):
        raise ConfigError("DKIM_PRIVATE_KEY_PATH is set but DKIM_SELECTOR is not: receivers find the public "
                          "key at <selector>._domainkey.<domain>, so both are needed (docs/deliverability.md).")
    return Settings(
        env=env,
        instance_path=instance,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=_secret_key(env, env_vars.get("SECRET_KEY"), instance),
        base_url=env_vars.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        smtp_url=env_vars.get("SMTP_URL") or None,
        mail_from=env_vars.get("MAIL_FROM", "Journeys <journeys@localhost>"),
        log_level=env_vars.get("LOG_LEVEL", "INFO").upper(),
        log_json=_flag(env_vars.get("LOG_JSON"), default=env == "production"),
        session_idle_seconds=int(env_vars.get("SESSION_IDLE_SECONDS", DEFAULT_SESSION_IDLE_SECONDS)),
        session_max_seconds=int(env_vars.get("SESSION_MAX_SECONDS", DEFAULT_SESSION_MAX_SECONDS)),
        trusted_proxy_count=int(env_vars.get("TRUSTED_PROXY_COUNT", "0")),
        mail_rate_per_second=_count("MAIL_RATE_PER_SECOND", env_vars.get("MAIL_RATE_PER_SECOND", "50")),
        trace_retention_days=_count("TRACE_RETENTION_DAYS", env_vars.get("TRACE_RETENTION_DAYS", "180")),
        api_max_body_bytes=_positive("API_MAX_BODY_BYTES",
                                     env_vars.get("API_MAX_BODY_BYTES", str(DEFAULT_API_MAX_BODY_BYTES))),
        api_rate_limit=_rate_limit("API_RATE_LIMIT", env_vars.get("API_RATE_LIMIT", DEFAULT_API_RATE_LIMIT)),
        smtp_url_transactional=env_vars.get("SMTP_URL_TRANSACTIONAL") or None,
        mail_rate_per_second_transactional=_count("MAIL_RATE_PER_SECOND_TRANSACTIONAL",
                                                  env_vars["MAIL_RATE_PER_SECOND_TRANSACTIONAL"])
        if env_vars.get("MAIL_RATE_PER_SECOND_TRANSACTIONAL") else None,
        dkim_private_key_path=env_vars.get("DKIM_PRIVATE_KEY_PATH") or None,
        dkim_selector=env_vars.get("DKIM_SELECTOR") or None,
        dkim_domain=(env_vars.get("DKIM_DOMAIN") or "").strip().lower() or None,
        bounce_sns_topic_arns=tuple(a.strip() for a in env_vars.get("BOUNCE_SNS_TOPIC_ARNS", "").split(",")
                                    if a.strip()),
        sendgrid_webhook_public_key=env_vars.get("SENDGRID_WEBHOOK_PUBLIC_KEY") or None,
    )


def _count(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ConfigError(f"{name}={value!r} must be a whole number, 0 or more.")
    return number


def _positive(name: str, value: str) -> int:
    number = _count(name, value)
    if number == 0:
        raise ConfigError(f"{name}={value!r} must be a whole number, 1 or more.")
    return number


def _rate_limit(name: str, value: str) -> str:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a rate limit: write it as '6000/minute' "
                          "or '100/second;6000/minute'.") from None
    return value.strip()


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _check_database_url(url: str) -> str:
    """The URL to use; plain postgres:// and postgresql:// get the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL={url!r} is not a database URL: use "
            "postgresql+psycopg://user@host:5432/dbname or sqlite:////absolute/path.db."
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL uses {parsed.get_backend_name()!r}; Journeys supports "
            "PostgreSQL (postgresql+psycopg://…) and SQLite (sqlite:///…)."
        )
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise ConfigError(
            f"DATABASE_URL names the {parsed.get_driver_name()!r} driver; Journeys uses "
            "psycopg 3: postgresql+psycopg://…"
        )
    return url


def _secret_key(env: str, given: str | None, instance: Path) -> str:
    if given:
        return given
    if env == "production":
        raise ConfigError(
            "SECRET_KEY is not set: production mode refuses to start without one "
            "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    # Development: generate once and keep it, so sessions survive restarts.
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
