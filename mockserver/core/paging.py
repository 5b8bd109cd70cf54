"""Pagination as the real services do it, in one place.

- ``start``/``limit`` with a ``total`` (the DSN reference data): the page is a
  slice of the full, stably ordered result, and ``total`` counts every match.
- ``limit``/``offset`` with absolute ``next``/``previous`` links (Django REST
  framework's LimitOffsetPagination, used by the LCO services).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import invalid


def start_limit(items: Sequence[Any], start: int = 0, limit: int = 20, max_limit: int = 100) -> dict[str, Any]:
    """``{"data": items[start:start+limit], "total": len(items)}``, refusing a page that makes no sense."""
    if start < 0:
        raise invalid("start", "must be 0 or more", start, location="query")
    if not 1 <= limit <= max_limit:
        raise invalid("limit", f"must be from 1 to {max_limit}", limit, location="query")
    return {"data": list(items[start:start + limit]), "total": len(items)}


def _with_query(url: str, **changes: int | None) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return urlunsplit(parts._replace(query=urlencode(query)))


def limit_offset(items: Sequence[Any], url: str, limit: int, offset: int = 0) -> dict[str, Any]:
    """DRF's ``{"count", "next", "previous", "results"}`` with absolute links built on the request URL."""
    if offset < 0:
        raise invalid("offset", "must be 0 or more", offset, location="query")
    if limit < 1:
        raise invalid("limit", "must be 1 or more", limit, location="query")
    count = len(items)
    following = _with_query(url, limit=limit, offset=offset + limit) if offset + limit < count else None
    if offset <= 0:
        previous = None
    elif offset - limit <= 0:
        previous = _with_query(url, limit=limit, offset=None)
    else:
        previous = _with_query(url, limit=limit, offset=offset - limit)
    return {"count": count, "next": following, "previous": previous, "results": list(items[offset:offset + limit])}
