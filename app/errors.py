"""The shell's one exception hierarchy, mapped once to HTTP problem responses."""
from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error the app raises on purpose."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class ConfigError(AppError):
    """The environment does not describe a usable deployment."""

    title = "Configuration error"


class ServiceUnavailable(AppError):
    status = 503
    title = "Service unavailable"


class BadRequest(AppError):
    status = 400
    title = "Bad request"


class ValidationFailed(AppError):
    status = 422
    title = "Validation failed"


class NotFound(AppError):
    status = 404
    title = "Not found"


class Conflict(AppError):
    status = 409
    title = "Conflict"


class Forbidden(AppError):
    status = 403
    title = "Forbidden"
