"""One mapping from errors to HTTP: problem+json (RFC 9457) for the API, pages for browsers.

Every problem document carries `type`, `title`, `status`, `detail` and `errors`: one
entry per bad field, each with the JSON pointer of that field (or the header's name).
"""
from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, TooManyRequests

from app.errors import AppError, FieldProblem

#: Headers of a werkzeug exception worth keeping on our answer (Allow on a 405, for one).
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def wants_problem_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.headers.get("HX-Request")


def problem(status: int, title: str, detail: str, *, errors: Iterable[FieldProblem] = (),
            headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "errors": [e.as_json() for e in errors]}
    body.update({k: v for k, v in extra.items() if v is not None})
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    resp.headers.update(headers or {})
    return resp


def _respond(status: int, title: str, detail: str, *, errors: Iterable[FieldProblem] = (),
             headers: Mapping[str, str] | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    if wants_problem_json():
        return problem(status, title, detail, errors=errors, headers=headers, **extra)
    return render_template("error.html", status=status, title=title, detail=detail), status


def _http_detail(exc: HTTPException) -> str:
    if isinstance(exc, RequestEntityTooLarge) and request.max_content_length:
        return f"The request body is larger than the limit of {request.max_content_length} bytes."
    if isinstance(exc, TooManyRequests):
        return (f"Too many requests (limit: {exc.description}). "
                "Wait the number of seconds in Retry-After, then try again.")
    return exc.description or exc.name


def retry_after() -> str:
    """Seconds until the breached rate limit's window resets (at least 1)."""
    from app.security import limiter

    current = limiter.current_limit
    if current is None:
        return "60"
    try:
        return str(max(1, int(current.reset_at - time.time())))
    except Exception:  # noqa: BLE001 - the limit store is unreachable: the window's length is a safe bound
        return str(current.limit.get_expiry())


def init_app(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError):  # type: ignore[no-untyped-def]
        return _respond(exc.status, exc.title, exc.detail, errors=exc.problems(), headers=exc.headers,
                        field=exc.field, **exc.extra)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        return _respond(400, "Form expired", "The security token of this form is missing or "
                        "wrong (perhaps it expired). Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        kept = {k: v for k, v in exc.get_headers() if k in _KEPT_HEADERS}
        if isinstance(exc, TooManyRequests):
            kept["Retry-After"] = retry_after()
        return _respond(exc.code or 500, exc.name, _http_detail(exc), headers=kept)
