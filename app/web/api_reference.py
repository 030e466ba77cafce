"""The API reference page: the OpenAPI document rendered on the server, nothing fetched elsewhere."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from app.api.openapi import document
from app.auth.access import requires

bp = Blueprint("api_reference", __name__)

CONSTRAINTS = (("minLength", "at least {} characters"), ("maxLength", "at most {} characters"),
               ("minItems", "at least {} items"), ("maxItems", "at most {} items"),
               ("pattern", "matches {}"), ("format", "{}"))


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    ref: str | None  # the component schema this field is (or holds a list of)
    required: bool
    notes: str
    description: str


def type_of(schema: dict[str, Any]) -> tuple[str, str | None]:
    """A readable type ("string or null", "array of EventIn") and the schema it refers to, if any."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return name, name
    if "anyOf" in schema and "properties" not in schema:
        parts = [type_of(s) for s in schema["anyOf"]]
        return " or ".join(p[0] for p in parts), next((p[1] for p in parts if p[1]), None)
    if schema.get("type") == "array":
        inner, ref = type_of(schema.get("items", {}))
        return f"array of {inner}", ref
    if "const" in schema:
        return repr(schema["const"]), None
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"]), None
    if schema.get("title") and schema.get("type") == "object" and "properties" in schema:
        return schema["title"], None
    return str(schema.get("type", "any")), None


def _notes(schema: dict[str, Any]) -> str:
    found = []
    for variant in [schema, *schema.get("anyOf", []), schema.get("items", {})]:
        found += [text.format(variant[key]) for key, text in CONSTRAINTS if key in variant]
    return "; ".join(dict.fromkeys(found))


def fields(schema: dict[str, Any]) -> list[Field]:
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        kind, ref = type_of(prop)
        out.append(Field(name, kind, ref, name in required, _notes(prop), prop.get("description", "")))
    return out


@bp.get("/api-reference")
@requires("viewer")
def index() -> ResponseReturnValue:
    doc = document(current_app.config["SETTINGS"].base_url)
    operations = [(path, method.upper(), op) for path, item in doc["paths"].items() for method, op in item.items()]
    return render_template("api/reference.html", doc=doc, operations=operations, fields=fields,
                           type_of=type_of)
