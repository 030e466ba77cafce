"""Request bodies of the API: JSON only, UTF-8, within the size limit, nothing JSON cannot store.

Every refusal is a 4xx problem before anything is stored: 413 over API_MAX_BODY_BYTES,
415 for another content type, 400 for bytes that are not JSON (or JSON our databases
cannot hold: NaN, Infinity, lone surrogates).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import request

from app.errors import BadRequest, FieldProblem, UnsupportedMediaType

#: A `\ud800`-style escape: the only way a lone surrogate gets into parsed JSON.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def raw() -> bytes:
    """The body as sent (read once, kept for signatures); 413 past the request's size limit."""
    return request.get_data(cache=True)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is too large a number")
    return number


def json_body() -> Any:
    """The parsed JSON body, or the 4xx problem that says what is wrong with it."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        given = request.mimetype or "no Content-Type"
        raise UnsupportedMediaType(f"The body must be JSON, sent with Content-Type: application/json "
                                   f"(this request has {given}).",
                                   errors=[FieldProblem("must be application/json", header="Content-Type")])
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"JSON is UTF-8; this request says charset={charset}.",
                                   errors=[FieldProblem("must be utf-8", header="Content-Type")])
    data = raw()
    try:
        text = data.decode("utf-8")
        parsed = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except UnicodeDecodeError as exc:
        raise _malformed(f"the body is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise _malformed(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise _malformed("it is nested too deeply") from None
    except ValueError as exc:
        raise _malformed(str(exc)) from None
    if _SURROGATE_ESCAPE.search(data):
        try:
            json.dumps(parsed, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _malformed("it contains an unpaired UTF-16 surrogate (\\ud800-\\udfff)") from None
    return parsed


def _malformed(reason: str) -> BadRequest:
    return BadRequest(f"The body is not valid JSON: {reason}.",
                      errors=[FieldProblem(reason, pointer="")])
