"""One mapping from errors to HTTP: problem+json for the API, pages for browsers."""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.errors import AppError


def wants_problem_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.headers.get("HX-Request")


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    return resp


def _respond(status: int, title: str, detail: str, **extra: Any):  # type: ignore[no-untyped-def]
    if wants_problem_json():
        return problem(status, title, detail, **extra)
    return render_template("error.html", status=status, title=title, detail=detail), status


def init_app(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError):  # type: ignore[no-untyped-def]
        return _respond(exc.status, exc.title, exc.detail, field=exc.field, **exc.extra)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        return _respond(400, "Form expired", "The security token of this form is missing or "
                        "wrong (perhaps it expired). Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        return _respond(exc.code or 500, exc.name, exc.description or exc.name)
