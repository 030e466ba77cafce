"""The OpenAPI 3.1 document, written from the declared routes and the pydantic models that
validate them (JSON Schema 2020-12, which OpenAPI 3.1 uses as it is)."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from app.api import bp
from app.api.routing import MAX_ID, OPERATIONS, ApiCall, Operation, Problem, operation
from app.services.api_keys import SCOPES

VERSION = "1"
REF = "#/components/schemas/{model}"
PROBLEM_JSON = "application/problem+json"

#: The answers every route may give besides its own; what each means for the caller.
ERRORS: dict[str, tuple[str, str]] = {
    "400": ("BadRequest", "The body is not JSON, or a header is malformed."),
    "401": ("Unauthorized", "No API key, an unknown or revoked one, or (for keys that sign) a bad signature."),
    "403": ("Forbidden", "The key lacks the scope this route needs."),
    "404": ("NotFound", "Nothing has the id (or slug) in the path."),
    "413": ("PayloadTooLarge", "The body is larger than API_MAX_BODY_BYTES."),
    "415": ("UnsupportedMediaType", "The body is not sent as application/json."),
    "422": ("ValidationFailed", "The JSON does not match the schema; errors[] points at each bad field."),
    "429": ("TooManyRequests", "The key's rate limit is used up; wait Retry-After seconds."),
}


#: Flask converters as JSON Schema, for path parameters.
_CONVERTERS: dict[str, dict[str, Any]] = {"int": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                          "string": {"type": "string", "minLength": 1, "maxLength": 200}}
_PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Problem, "serialization"): None}
    for op in OPERATIONS.values():
        if op.body is not None:
            found[(op.body, "validation")] = None
        if op.result is not None:
            found[(op.result, "serialization")] = None
    return list(found)


def _responses(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, description in ((op.status, op.result_description), *op.also):
        own: dict[str, Any] = {"description": description}
        if op.result is not None:
            own["content"] = {"application/json": {"schema": refs[(op.result, "serialization")]}}
        out[str(status)] = own
    codes = ["429"]
    if op.scope:
        codes += ["401", "403"]
    if op.body is not None:
        codes += ["400", "413", "415", "422"]
    if op.query is not None:
        codes.append("422")
    if _PATH_PARAM.search(op.rule):
        codes.append("404")
    for code in sorted(set(codes)):
        out[code] = {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
    for status, description in op.errors:
        out[str(status)] = {"description": description,
                            "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}}}
    return dict(sorted(out.items()))


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value; `X | None` in its model means "may be left out"."""
    variants = [v for v in schema.get("anyOf", ()) if v != {"type": "null"}]
    if "anyOf" in schema and len(variants) == 1:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default") or (k == "default" and v is not None)}
        return {**variants[0], **rest}
    return schema


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": dict(_CONVERTERS.get(kind or "string",
                                                                                        _CONVERTERS["string"]))}
        for kind, name in _PATH_PARAM.findall(op.rule)]
    if op.query is not None:
        schema = op.query.model_json_schema()
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            prop = _not_null({k: v for k, v in prop.items() if k not in ("title", "description")})
            params.append({"name": name, "in": "query", "required": name in required,
                           "description": schema["properties"][name].get("description", ""), "schema": prop})
    params += [{"name": h.name, "in": "header", "required": False, "description": h.description,
                "schema": {"type": "string", "minLength": 1, "maxLength": h.max_length}} for h in op.headers]
    return params


def _operation(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "operationId": op.endpoint.split(".", 1)[1], "summary": op.summary, "tags": [op.tag],
        "description": op.description or op.summary,
        "security": [{"bearerAuth": [op.scope]}] if op.scope else [],
        "responses": _responses(op, refs),
    }
    if op.scope:
        item["x-scope"] = op.scope
    parameters = _parameters(op)
    if parameters:
        item["parameters"] = parameters
    if op.body is not None:
        item["requestBody"] = {"required": not op.body_optional, "content": {
            "application/json": {"schema": refs[(op.body, "validation")]}}}
    return item


def _error_responses() -> dict[str, Any]:
    out = {}
    for code, (name, description) in ERRORS.items():
        response: dict[str, Any] = {"description": description,
                                    "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}}}
        if code == "401":
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"},
                                                         "description": "Bearer, with the error."}}
        if code == "429":
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                   "description": "Seconds until the limit resets."}}
        out[name] = response
    return out


def document(base_url: str) -> dict[str, Any]:
    """The whole document, built once per set of routes (they are fixed once the app is built;
    the count keeps a document made before every route module was imported from sticking)."""
    return _document(base_url, len(OPERATIONS))


@lru_cache(maxsize=8)
def _document(base_url: str, _operations: int) -> dict[str, Any]:
    refs, schemas = models_json_schema(_models(), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS.values():
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Journeys API", "version": VERSION,
                 "description": "Send events, and script what the Journeys UI does. "
                                "Errors are application/problem+json (RFC 9457)."},
        "servers": [{"url": f"{base_url}/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas.get("$defs", {}),
            "responses": _error_responses(),
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "An API key from Settings → API keys or `journeys api-keys create`. "
                               "Scopes: " + "; ".join(f"{k}: {v}" for k, v in SCOPES.items()) + "."}},
        },
    }


@operation(bp, "GET", "/openapi.json", summary="This document", tag="Reference", scope=None,
           description="The OpenAPI 3.1 description of every route, generated from the schemas that "
                       "validate requests.", result_description="The OpenAPI document.")
def openapi_document(call: ApiCall) -> ResponseReturnValue:
    return jsonify(document(current_app.config["SETTINGS"].base_url))
