"""How Django and Django REST framework read and write values, for the LCO portal and archive.

Times go out in ISO 8601 with a ``Z``, microseconds only when there are some.
Query filters read dates the way Django forms do: ``2026-11-19``,
``2026-11-19 23:00:15`` (and a few US forms), but not ``T``/``Z`` ISO text,
which gets "Enter a valid date/time." Bodies are read by DRF's DateTimeField,
which takes ISO with ``T`` or a space; a naive time is UTC.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser
from ...core.web import request

from ...core.errors import ApiError
from ...core.paging import limit_offset

FORM_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                         "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S.%f", "%m/%d/%Y %H:%M", "%m/%d/%Y",
                         "%m/%d/%y %H:%M:%S", "%m/%d/%y %H:%M:%S.%f", "%m/%d/%y %H:%M", "%m/%d/%y")
INVALID_DATETIME = "Enter a valid date/time."
TRUE, FALSE = ("true", "True", "1"), ("false", "False", "0")


def drf_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def field_errors(errors: dict[str, Any], status: int = 400) -> ApiError:
    """A DRF validation answer: the serializer's errors as they are, nested like the input."""
    return ApiError(status, "invalid input", details={"errors": errors})


def form_datetime(name: str, text: str) -> datetime:
    """A date/time query filter, or the 400 Django's form gives."""
    for pattern in FORM_DATETIME_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise field_errors({name: [INVALID_DATETIME]})


def any_date(text: str) -> datetime | None:
    """A date as the portal reads some filters, with dateutil (almost any form); naive is UTC; None if unreadable."""
    try:
        moment = dateparser.parse(text)
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def form_boolean(text: str | None) -> bool | None:
    """A boolean filter: None (no filtering) for anything but the true and false spellings Django knows."""
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return None


def query() -> dict[str, str]:
    """The request's query parameters, the first value of each."""
    return request.args.to_dict()


def page(items: list[Any], default_limit: int = 50, max_limit: int | None = None) -> dict[str, Any]:
    """A DRF page of ``items`` with links back to this very endpoint."""
    return limit_offset(items, request.base_url, query(), default_limit, max_limit)
