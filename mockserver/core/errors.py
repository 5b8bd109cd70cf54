"""Errors, and the shape each real service gives them on the wire.

Handlers and models raise :class:`ApiError`; the app renders it with the
service's :class:`ErrorStyle`, so a rule never needs to know whether its
service answers like FastAPI (``{"detail": ...}``), like Django REST framework
or with a bare ``{"error": ...}``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field as dc_field
from typing import Any


@dataclass
class ApiError(Exception):
    """A 4xx/5xx answer, with the field it concerns when there is one.

    ``location`` and ``field`` say where the problem is (``body``/``client_id``,
    ``header``/``Authorization``); styles that name fields on the wire (FastAPI's
    ``loc``) use them, the others fold them into the message.
    """

    status: int
    message: str
    field: str | None = None
    location: str = "body"
    code: str = "value_error"
    value: Any = None
    headers: dict[str, str] = dc_field(default_factory=dict)
    details: dict[str, Any] = dc_field(default_factory=dict)   # what a style may add (a debug message...)

    def __post_init__(self) -> None:
        super().__init__(self.message)


def missing(field_name: str, location: str = "body") -> ApiError:
    """A required input is absent (the status is the style's validation status)."""
    return ApiError(0, "Field required", field=field_name, location=location, code="missing")


def invalid(field_name: str, message: str, value: Any = None, location: str = "body") -> ApiError:
    """An input is present but wrong (the status is the style's validation status)."""
    return ApiError(0, message, field=field_name, location=location, code="value_error", value=value)


class ErrorStyle:
    """How one service writes its errors. Subclasses override :meth:`body`."""

    #: status of a request that does not match the contract (FastAPI: 422, DRF: 400)
    validation_status = 400
    media_type = "application/json"

    def status_of(self, error: ApiError) -> int:
        return error.status or self.validation_status

    def body(self, error: ApiError) -> Any:
        return {"error": self.sentence(error)}

    @staticmethod
    def sentence(error: ApiError) -> str:
        """The message, led by the field it concerns when the message does not name it already."""
        if not error.field or error.location == "header" or error.message.startswith(error.field):
            return error.message
        return f"{error.field}: {'is required' if error.code == 'missing' else error.message}"

    def render(self, error: ApiError) -> tuple[int, bytes, dict[str, str]]:
        payload = json.dumps(self.body(error)).encode()
        headers = {"content-type": self.media_type, **error.headers}
        return self.status_of(error), payload, headers


class FastApiStyle(ErrorStyle):
    """FastAPI's defaults: ``{"detail": "..."}``; request validation is 422 with a ``loc`` list."""

    validation_status = 422

    def body(self, error: ApiError) -> Any:
        if error.status == 0:
            loc = [error.location] + ([error.field] if error.field else [])
            return {"detail": [{"type": error.code, "loc": loc, "msg": error.message, "input": error.value}]}
        return {"detail": error.message}


_REQUIRED = re.compile(r"'(?P<name>[^']+)' is a required property")
_MISSING_PARAM = re.compile(r"Missing (?P<where>query|header|path|formdata|cookie) parameter '(?P<name>[^']+)'")
_NAMED_PARAM = re.compile(r"^(?P<msg>.*) for (?P<where>query|header|path|formdata|cookie) parameter '(?P<name>[^']+)'$")
_WHERE = {"query": "query", "header": "header", "path": "path", "formdata": "body", "cookie": "cookie"}


def _indexed(path: str) -> str:
    """Connexion's dotted path with list positions written as indexes: slots.0.start -> slots[0].start."""
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path)


def from_validation_message(detail: str) -> ApiError:
    """Turn a contract validator's message into an ApiError naming the field.

    The request validator speaks jsonschema ("'x' is a required property",
    "'abc' is not of type 'integer'\\n\\nFailed validating ... in schema['properties']['x']");
    users want the field name and the problem, not the schema dump.
    """
    text = (detail or "request does not match the contract").strip()
    if match := _MISSING_PARAM.search(text):
        return missing(match["name"], _WHERE[match["where"]])
    first = text.split("\n", 1)[0]
    if match := _REQUIRED.search(text):
        # in a nested object Connexion adds " - 'parent.path'" after the message
        parent = re.search(r" - '(?P<path>[^']+)'$", first)
        return missing(f"{_indexed(parent['path'])}.{match['name']}" if parent else match["name"])
    name = None
    if param := _NAMED_PARAM.match(first):
        return invalid(param["name"], param["msg"], location=_WHERE[param["where"]])
    if at := re.search(r"^(?P<msg>.*) - '(?P<name>[^']+)'$", first):
        # Connexion's JSON body messages end with " - 'dotted.path'" naming the field
        first, name = at["msg"], _indexed(at["name"])
    elif prop := re.search(r"\['properties'\]\['([^']+)'\]", text):
        name = prop.group(1)
    elif prop := re.search(r"Extra \w+ parameter\(s\) (\S+)", text):
        name = prop.group(1)
    return invalid(name, first) if name else ApiError(0, first, field="body", code="value_error")


class DrfStyle(ErrorStyle):
    """Django REST framework's shapes: ``{"detail": "..."}`` for refusals, and for invalid input the
    serializer's errors, ``{"field": ["message"]}`` (nested like the payload when a model gives them whole
    in ``details["errors"]``)."""

    def body(self, error: ApiError) -> Any:
        if "errors" in error.details:
            return error.details["errors"]
        if error.status == 405 and "method" in error.details:
            return {"detail": f'Method "{error.details["method"]}" not allowed.'}
        # the body is not JSON at all, or JSON the parser refuses (nested too deep: an explicit 400)
        if error.field == "body" and (error.status == 0 or error.code == "json_invalid"):
            return {"detail": f"JSON parse error - {error.message}"}
        if error.status == 0 or (error.status == 400 and error.field and error.location != "header"):
            message = "This field is required." if error.code == "missing" else error.message
            return {error.field or "non_field_errors": [message]}
        return {"detail": error.message}


def known_names(field: str, value: Any, known: list[str], noun: str, holder: str = "this service") -> list[str]:
    """A control-API list of names (scopes, proposals...) that must all be known; the 400 says which are not."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(field, f"must be a list of {noun} names", value)
    unknown = [item for item in value if item not in known]
    if unknown:
        raise invalid(field, f"unknown {noun}(s) {', '.join(unknown)}; {holder} has {', '.join(known)}", unknown)
    return list(value)
