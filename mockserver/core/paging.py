"""Pagination as the real services do it, in one place.

``start``/``limit`` with a ``total`` (the DSN reference data), and Django REST framework's
``limit``/``offset`` with absolute ``next``/``previous`` links (LCO). For ``start``/``limit`` the page is a
slice of the full, stably ordered result, and ``total`` counts every match.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from .errors import invalid


def start_limit(items: Sequence[Any], start: int = 0, limit: int = 20, max_limit: int = 100) -> dict[str, Any]:
    """``{"data": items[start:start+limit], "total": len(items)}``, refusing a page that makes no sense."""
    if start < 0:
        raise invalid("start", "must be 0 or more", start, location="query")
    if not 1 <= limit <= max_limit:
        raise invalid("limit", f"must be from 1 to {max_limit}", limit, location="query")
    return {"data": list(items[start:start + limit]), "total": len(items)}


def limit_offset(items: Sequence[Any], url: str, params: dict[str, str], default_limit: int,
                 max_limit: int | None = None) -> dict[str, Any]:
    """Django REST framework's LimitOffsetPagination: ``{"count", "next", "previous", "results"}``.

    ``next``/``previous`` are absolute URLs to this endpoint (``url``, without query) carrying every
    query parameter, re-encoded in sorted order; ``previous`` drops ``offset`` when it would be 0.
    A limit or offset that is not a whole number is ignored, as DRF does; ``max_limit`` caps the limit.
    """
    limit = _whole(params.get("limit"), default_limit, minimum=1)
    if max_limit is not None:
        limit = min(limit, max_limit)
    offset = _whole(params.get("offset"), 0, minimum=0)
    count = len(items)

    def link(new_offset: int | None) -> str:
        query = {k: v for k, v in params.items() if k not in ("limit", "offset")}
        query["limit"] = str(limit)
        if new_offset:
            query["offset"] = str(new_offset)
        return f"{url}?{urlencode(sorted(query.items()))}"

    following = link(offset + limit) if offset + limit < count else None
    preceding = None if offset <= 0 else link(offset - limit if offset > limit else None)
    return {"count": count, "next": following, "previous": preceding, "results": list(items[offset:offset + limit])}


def _whole(text: str | None, default: int, minimum: int) -> int:
    try:
        value = int(text) if text is not None else default
    except ValueError:
        return default
    return value if value >= minimum else default
