"""How an API route is declared: once, with everything the OpenAPI document says about it.

`@operation(bp, "POST", "/events", scope="events:write", body=EventIn, ...)` registers the
view, wraps it in authentication and body parsing, and records the route in OPERATIONS,
from which app/api/openapi.py writes the document. A route cannot exist undocumented,
and its documented request schema is the model that validates it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from app.api import auth, body as bodies
from app.errors import BadRequest, FieldProblem


class ProblemField(BaseModel):
    detail: str = Field(description="What is wrong with this part.")
    pointer: str | None = Field(default=None, description="JSON pointer (RFC 6901) into the request body.")
    header: str | None = Field(default=None, description="The request header at fault.")


class Problem(BaseModel):
    """An error (RFC 9457): nothing was stored or changed."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = Field(description="What went wrong and what to do about it, in a sentence.")
    errors: list[ProblemField] = Field(description="One entry per bad field or header.")


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    max_length: int = 200


IDEMPOTENCY_KEY = Header("Idempotency-Key", "Deduplicates the request: a repeat with the same key stores "
                         "nothing and answers with the first result. The body's idempotency_key wins.")


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # Flask's, relative to /api/v1
    endpoint: str
    summary: str
    description: str
    tag: str
    scope: str | None  # None: public
    body: type[BaseModel] | None
    status: int
    result: type[BaseModel] | None
    result_description: str
    headers: tuple[Header, ...]

    @property
    def path(self) -> str:
        """The OpenAPI path: `<int:id>` becomes `{id}`."""
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)


#: Every API route by endpoint name, in declaration order.
OPERATIONS: dict[str, Operation] = {}


@dataclass(frozen=True)
class ApiCall:
    """What a view gets: the authenticated caller (None on public routes) and the parsed body."""

    caller: auth.Caller | None
    body: Any

    @property
    def source(self) -> str:
        """How stored rows name where they came from: `api:<key prefix>`."""
        return f"api:{self.caller.client.prefix}" if self.caller else "api"

    def idempotency_key(self) -> str | None:
        """The Idempotency-Key header, else the webhook-id of a signed request."""
        given = request.headers.get(IDEMPOTENCY_KEY.name)
        if given is not None:
            given = given.strip()
            if not given or len(given) > IDEMPOTENCY_KEY.max_length or not given.isprintable():
                raise BadRequest(f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY.max_length} printable characters.",
                                 errors=[FieldProblem("empty, too long or not printable", header=IDEMPOTENCY_KEY.name)])
            return given
        return self.caller.webhook_id if self.caller else None


def operation(bp: Blueprint, method: str, rule: str, *, summary: str, tag: str, scope: str | None,
              body: type[BaseModel] | None = None, status: int = 200, result: type[BaseModel] | None = None,
              result_description: str = "OK", description: str = "",
              headers: tuple[Header, ...] = ()) -> Callable[[Callable[..., ResponseReturnValue]], Any]:
    """Declare an API route (see the module's docstring)."""

    def decorate(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        endpoint = f"{bp.name}.{view.__name__}"
        OPERATIONS[endpoint] = Operation(method, rule, endpoint, summary, description, tag, scope, body,
                                         status, result, result_description, headers)

        @wraps(view)
        def handler(**kwargs: Any) -> ResponseReturnValue:
            caller = auth.authenticate(scope) if scope else None
            payload = bodies.json_body() if body is not None else None
            return view(ApiCall(caller, payload), **kwargs)

        bp.add_url_rule(rule, view.__name__, handler, methods=[method])
        return handler

    return decorate
