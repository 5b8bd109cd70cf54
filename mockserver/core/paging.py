"""Pagination as the real services do it, in one place.

``start``/``limit`` with a ``total`` (the DSN reference data): the page is a
slice of the full, stably ordered result, and ``total`` counts every match.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import invalid


def start_limit(items: Sequence[Any], start: int = 0, limit: int = 20, max_limit: int = 100) -> dict[str, Any]:
    """``{"data": items[start:start+limit], "total": len(items)}``, refusing a page that makes no sense."""
    if start < 0:
        raise invalid("start", "must be 0 or more", start, location="query")
    if not 1 <= limit <= max_limit:
        raise invalid("limit", f"must be from 1 to {max_limit}", limit, location="query")
    return {"data": list(items[start:start + limit]), "total": len(items)}
