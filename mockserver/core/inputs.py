"""Checks on what a client sends that no OpenAPI schema can state, shared by every service.

A spec says which fields a body has, not how deep its JSON may nest, how long a
URL may be, whether its bytes are UTF-8 text or whether its Content-Type header
means anything. Left to the frameworks, those inputs end in a RecursionError, a
LookupError or a silently replaced character; here each is refused with a 4xx
that names what is wrong, which every service then writes in its own shape.
"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from .errors import ApiError

#: Deepest nesting of JSON arrays and objects a body or a JSON-valued parameter may have. Python's json
#: module, which Django REST framework, Flask and FastAPI all parse with, fails at about 1000 levels
#: (RecursionError: a 500 in DRF and Flask); many parsers stop far sooner (simdjson, orjson and ujson at
#: 1024, serde_json at 128). 512 keeps every real payload (a few levels deep) and leaves the handlers,
#: which may copy or serialise what they read, room below Python's recursion limit.
MAX_JSON_DEPTH = 512

#: Longest request target (path and query string) in bytes. nginx, a common front end of web services,
#: refuses a request line over its default 8 KB header buffer with 414 URI Too Long. uvicorn's own limits
#: are higher and answer in plain text: httptools cannot parse a URL of 64 KB or more (server.py hands such
#: a target on to the app), and h11 cuts a whole request head at 16 KB.
MAX_TARGET_BYTES = 8192

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"^\s*{_TOKEN}/{_TOKEN}\s*$")
FORM = "application/x-www-form-urlencoded"


def nests_deeper_than(raw: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects more than ``limit`` levels deep, without parsing it.

    Brackets inside strings do not count. A text with no more opening brackets than
    the limit cannot pass it, so most bodies are answered by two counts; the rest by
    one walk over their brackets alone.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _STRING.sub(b"", data).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in _OPENING else -1
        if depth > limit:
            return True
    return False


def too_deep(what: str, field: str | None = "body") -> ApiError:
    """The 400 for JSON nested past the limit; ``what`` says where it came from ("The body")."""
    return ApiError(400, f"{what} nests JSON arrays and objects more than {MAX_JSON_DEPTH} levels deep",
                    field=field, code="json_invalid")


def loads(text: str | bytes, what: str = "The body", field: str | None = "body") -> Any:
    """``json.loads`` for what a client sent: JSON nested past MAX_JSON_DEPTH is refused with a 400 first.

    Malformed JSON still raises json.JSONDecodeError (a ValueError), for the caller to word in its
    service's own terms. Every parse of client JSON goes through here, handlers' own parses included.
    """
    if nests_deeper_than(text):
        raise too_deep(what, field)
    try:
        return json.loads(text)
    except RecursionError:      # cannot happen below the limit; a 400 rather than a 500 if it ever does
        raise too_deep(what, field) from None


def _undecodable(raw: bytes) -> str | None:
    """How percent-encoded (or raw) bytes fail to be UTF-8 text; None when they are."""
    data = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"byte 0x{data[exc.start]:02X} at position {exc.start} cannot be decoded"
    return None


def _printable(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")


def undecodable_pairs(data: bytes, noun: str, location: str) -> ApiError | None:
    """A 400 naming the first name or value of ``name=value&...`` data that is not UTF-8 once decoded.

    Starlette and Werkzeug replace such bytes with U+FFFD or keep them escaped, so a
    handler would read a value the client never sent.
    """
    for pair in data.split(b"&"):
        name, _, value = pair.partition(b"=")
        problem = _undecodable(name)
        if problem:
            return ApiError(400, f"A {noun} name is not UTF-8 text ({problem})", location=location)
        problem = _undecodable(value)
        if problem:
            return ApiError(400, f"{noun.capitalize()} '{_printable(name)}' is not UTF-8 text ({problem})",
                            location=location)
    return None


def target_refusal(scope: dict[str, Any]) -> ApiError | None:
    """A refusal of the request target before routing: over MAX_TARGET_BYTES (414), or not UTF-8 (400)."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    query: bytes = scope.get("query_string") or b""
    size = len(raw_path) + (len(query) + 1 if query else 0)
    if size > MAX_TARGET_BYTES:
        part = f"query string is {len(query)} bytes" if len(query) >= len(raw_path) else \
            f"path is {len(raw_path)} bytes"
        return ApiError(414, f"URI Too Long: the {part}; this service accepts a path and query string of at "
                             f"most {MAX_TARGET_BYTES} bytes together", location="query")
    problem = _undecodable(raw_path)
    if problem:
        return ApiError(400, f"The path is not UTF-8 text ({problem})", location="path")
    return undecodable_pairs(query, "query parameter", "query") if query else None


def content_type(headers: Any) -> str | None:
    """The Content-Type of ASGI header pairs (bytes or text) or of a dict of headers; None if absent."""
    pairs = headers.items() if isinstance(headers, dict) else headers
    for key, value in pairs:
        name = key.decode("latin-1") if isinstance(key, bytes) else key
        if name.lower() == "content-type":
            return value.decode("latin-1") if isinstance(value, bytes) else value
    return None


def _is_text_encoding(charset: str) -> bool:
    """Whether Python can decode text in ``charset`` (an empty input is decoded without looking the codec up)."""
    try:
        b"a".decode(charset)
    except LookupError:          # unknown, or a bytes-to-bytes codec such as base64
        return False
    except ValueError:           # known, but "a" is not text in it (a lone byte of UTF-16)
        return True
    return True


def body_refusal(headers: list[tuple[bytes, bytes]], body: bytes) -> ApiError | None:
    """A refusal of a body whose Content-Type means nothing (415) or whose form is not UTF-8 (400).

    Connexion would decode a JSON body with any charset the header names (an unknown
    one ends in a 500) and match "garbage" against nothing, answering 415 only where
    the operation takes a body; and its form parser replaces bytes that are not UTF-8.
    """
    header = content_type(headers)
    if not body or header is None:
        return None
    media, *parameters = header.split(";")
    if not _MEDIA_TYPE.match(media):
        return ApiError(415, f'Unsupported media type "{header}" in request: the Content-Type is not a '
                             "type/subtype media type", field="Content-Type", location="header")
    charset = None
    for parameter in parameters:
        key, _, value = parameter.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip('"')
            if not _is_text_encoding(charset):
                return ApiError(415, f'Unsupported media type "{header}" in request: the Content-Type names '
                                     f'the charset "{charset}", which is not a known text encoding',
                                field="Content-Type", location="header")
    if media.strip().lower() == FORM and (charset is None or charset.lower().replace("-", "") == "utf8"):
        return undecodable_pairs(body, "form field", "body")
    return None


_CONNEXION_415 = re.compile(r"^Invalid Content-type \((?P<given>.*)\), expected \[(?P<accepted>.*)\]$")


def unsupported_media_type(detail: str | None) -> ApiError:
    """The 415 of an operation that does not take the body's media type.

    Connexion says "Invalid Content-type (text/plain), expected ['application/json']";
    this says it in Django REST framework's words (the one real service here that words
    it), naming the header and what the operation takes.
    """
    match = _CONNEXION_415.match(detail or "")
    if match is None:
        return ApiError(415, detail or "Unsupported media type", field="Content-Type", location="header")
    accepted = " or ".join(re.findall(r"'([^']*)'", match["accepted"]))
    return ApiError(415, f'Unsupported media type "{match["given"]}" in request; the Content-Type must be '
                         f"{accepted}", field="Content-Type", location="header")
