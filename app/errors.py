"""The shell's one exception hierarchy, mapped once to HTTP problem responses (app/problems.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class FieldProblem:
    """One bad part of a request: a JSON pointer into the body (RFC 6901), or a header's name."""

    detail: str
    pointer: str | None = None
    header: str | None = None

    def as_json(self) -> dict[str, str]:
        out = {"detail": self.detail}
        if self.pointer is not None:
            out["pointer"] = self.pointer
        if self.header is not None:
            out["header"] = self.header
        return out


def pointer(*parts: object) -> str:
    """The JSON pointer of a location such as ("contact", "email") → "/contact/email"."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class AppError(Exception):
    """Base of every error the app raises on purpose."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str, *, field: str | None = None,
                 errors: Sequence[FieldProblem] = (), headers: Mapping[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.errors = tuple(errors)
        self.headers = dict(headers or {})
        self.extra = extra

    def problems(self) -> list[FieldProblem]:
        """What is wrong, field by field; a dotted `field` alone becomes its pointer."""
        if self.errors:
            return list(self.errors)
        if self.field:
            return [FieldProblem(self.detail, pointer=pointer(*self.field.split(".")))]
        return []


class ConfigError(AppError):
    """The environment does not describe a usable deployment."""

    title = "Configuration error"


class ServiceUnavailable(AppError):
    status = 503
    title = "Service unavailable"


class BadRequest(AppError):
    status = 400
    title = "Bad request"


class Unauthorized(AppError):
    """No credentials, or credentials we do not accept (RFC 9110: always with WWW-Authenticate)."""

    status = 401
    title = "Unauthorized"


class Forbidden(AppError):
    status = 403
    title = "Forbidden"


class NotFound(AppError):
    status = 404
    title = "Not found"


class Conflict(AppError):
    status = 409
    title = "Conflict"


class UnsupportedMediaType(AppError):
    status = 415
    title = "Unsupported media type"


class ValidationFailed(AppError):
    status = 422
    title = "Validation failed"
