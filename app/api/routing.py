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

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field, ValidationError

from app.api import auth, body as bodies
from app.errors import BadRequest, FieldProblem, NotFound, ValidationFailed

#: The largest id a path may name: ids of contacts, journeys and the like are 32-bit integer
#: columns, so no row has a larger one (and PostgreSQL refuses to compare with one).
MAX_ID = 2**31 - 1


class ProblemField(BaseModel):
    detail: str = Field(description="What is wrong with this part.")
    pointer: str | None = Field(default=None, description="JSON pointer (RFC 6901) into the request body.")
    header: str | None = Field(default=None, description="The request header at fault.")
    parameter: str | None = Field(default=None, description="The query parameter at fault.")


@dataclass(frozen=True)
class ParameterProblem(FieldProblem):
    """A bad query parameter: named as `parameter` in the problem's errors[]."""

    parameter: str | None = None

    def as_json(self) -> dict[str, str]:
        out = super().as_json()
        if self.parameter is not None:
            out["parameter"] = self.parameter
        return out


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
    #: Query parameters: the fields of this model (scalars), validated before the view runs.
    query: type[BaseModel] | None = None
    #: The body may be left out (an empty body is then `{}` for the view).
    body_optional: bool = False
    #: Statuses this route answers besides its own and the common ones (404, 409 …), with why.
    errors: tuple[tuple[int, str], ...] = ()
    #: Other successful statuses: (status, description), with the same result model.
    also: tuple[tuple[int, str], ...] = ()

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
    query: Any = None

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
              headers: tuple[Header, ...] = (), query: type[BaseModel] | None = None,
              body_optional: bool = False, errors: tuple[tuple[int, str], ...] = (),
              also: tuple[tuple[int, str], ...] = ()) -> Callable[[Callable[..., ResponseReturnValue]], Any]:
    """Declare an API route (see the module's docstring).

    A view may return a pydantic model (or `(model, status)`): it is answered as its JSON."""

    def decorate(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        endpoint = f"{bp.name}.{view.__name__}"
        OPERATIONS[endpoint] = Operation(method, rule, endpoint, summary, description, tag, scope, body,
                                         status, result, result_description, headers, query, body_optional,
                                         errors, also)

        @wraps(view)
        def handler(**kwargs: Any) -> ResponseReturnValue:
            caller = auth.authenticate(scope) if scope else None
            _check_ids(kwargs)
            payload = None
            if body is not None:
                payload = {} if body_optional and not bodies.raw().strip() else bodies.json_body()
            params = parse_query(query) if query is not None else None
            return _answer(view(ApiCall(caller, payload, params), **kwargs))

        bp.add_url_rule(rule, view.__name__, handler, methods=[method])
        return handler

    return decorate


def _check_ids(kwargs: dict[str, Any]) -> None:
    for name, value in kwargs.items():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise NotFound(f"No such {name.removesuffix('_id')}: {value} is not a valid id.")


def _answer(answer: Any) -> Any:
    if isinstance(answer, BaseModel):
        return jsonify(answer.model_dump(mode="json"))
    if isinstance(answer, tuple) and answer and isinstance(answer[0], BaseModel):
        return (jsonify(answer[0].model_dump(mode="json")), *answer[1:])
    return answer


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string as `model`: each parameter once, unknown ones refused (a typo must not
    silently widen a search)."""
    problems: list[FieldProblem] = []
    values: dict[str, str] = {}
    for name in request.args:
        given = request.args.getlist(name)
        if name not in model.model_fields:
            problems.append(ParameterProblem("is not a parameter of this route", parameter=name))
        elif len(given) > 1:
            problems.append(ParameterProblem("may be given once", parameter=name))
        else:
            values[name] = given[0]
    if not problems:
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            problems = [ParameterProblem(e["msg"].removeprefix("Value error, "), parameter=str(e["loc"][0]))
                        for e in exc.errors(include_url=False, include_input=False)]
    first = problems[0]
    raise ValidationFailed(f"Query parameter {first.parameter}: {first.detail}.",  # type: ignore[attr-defined]
                           errors=problems)
