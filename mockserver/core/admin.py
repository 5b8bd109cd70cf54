"""The control API every service mounts under ``/__skymock`` (specs/skymock-admin.yaml).

Users' tests and CI scripts drive the sandbox with it, so the paths and bodies
are a contract: reset, clock, credentials, tokens, journal, faults, health.
"""
from __future__ import annotations

import math
from typing import Any

from . import inputs
from .clock import parse_instant
from .errors import ApiError, invalid
from .faults import parse_fault
from .jobs import JobPace
from .service import sandbox

#: the clock may move at most this far in one call (about 100 years)
MAX_SHIFT = 100 * 365.25 * 86_400


def _object(body: Any) -> dict[str, Any]:
    """The JSON object of an optional body; a bare POST (no body, no content type) is ``{}``."""
    if body is None or body == b"" or body == "":
        return {}
    if isinstance(body, (bytes, str)):
        try:
            body = inputs.loads(body)       # JSON nested past the depth limit is a 400, not a RecursionError
        except ValueError:
            raise invalid("body", "must be a JSON object") from None
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object", body)
    return body


def health() -> dict[str, Any]:
    box = sandbox()
    return {"status": "ok", "service": box.service.id, "title": box.service.title,
            "now": box.clock.as_json()["now"], "seed": box.settings.seed}


def reset() -> dict[str, Any]:
    box = sandbox()
    box.reset()
    return {"reset": True, "clock": box.clock.as_json()}


def get_clock() -> dict[str, Any]:
    return sandbox().clock.as_json()


def set_clock(body: dict[str, Any]) -> dict[str, Any]:
    clock = sandbox().clock
    if not any(key in body for key in ("advance", "set", "frozen")):
        raise invalid("advance", "give 'advance' (seconds), 'set' (ISO 8601) and/or 'frozen' (boolean)")
    frozen = body.get("frozen")
    if frozen is not None and not isinstance(frozen, bool):
        raise invalid("frozen", "must be true or false", frozen)
    moment = None
    if body.get("set") is not None:
        if not isinstance(body["set"], str):
            raise invalid("set", "must be an ISO 8601 date-time string", body["set"])
        try:
            moment = parse_instant(body["set"])
        except (ValueError, OverflowError):
            raise invalid("set", "is not an ISO 8601 date-time such as 2026-05-06T10:00:00Z", body["set"]) from None
    advance = body.get("advance")
    if advance is not None and (isinstance(advance, bool) or not isinstance(advance, (int, float))
                                or not math.isfinite(advance) or abs(advance) > MAX_SHIFT):
        raise invalid("advance", "must be a number of seconds (at most about 100 years)", advance)
    # Order matters: freeze first so a set/advance lands on a stopped clock when both are asked.
    if frozen is not None:
        clock.freeze(frozen)
    if moment is not None:
        clock.set(moment)
    if advance:
        clock.advance(float(advance))
    return clock.as_json()


def list_credentials() -> dict[str, Any]:
    return {"credentials": [c.as_json() for c in sandbox().tokens.credentials]}


def mint_credential(body: Any = None) -> tuple[dict[str, Any], int]:
    return sandbox().mint(_object(body)).as_json(), 201


def expire_tokens(body: Any = None) -> dict[str, Any]:
    value = _object(body).get("token")
    tokens = sandbox().tokens
    if value is not None:
        if not isinstance(value, str) or tokens.check(value)[1] is None:
            raise ApiError(404, "No such token was ever issued by this service", field="token")
    return {"expired": tokens.expire(value)}


def get_journal() -> dict[str, Any]:
    return {"entries": sandbox().journal.entries()}


def clear_journal() -> dict[str, Any]:
    journal = sandbox().journal
    count = len(journal.entries())
    journal.clear()
    return {"cleared": count}


def list_faults() -> dict[str, Any]:
    return {"faults": sandbox().faults.list()}


def add_fault(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    fault = parse_fault(body)
    sandbox().faults.add(fault)
    return fault.as_json(), 201


def clear_faults() -> dict[str, Any]:
    faults = sandbox().faults
    count = len(faults.list())
    faults.clear()
    return {"cleared": count}


def _jobs_view() -> dict[str, Any]:
    jobs = sandbox().jobs
    return {"pace": jobs.pace.as_json(), **jobs.count()}


def get_jobs() -> dict[str, Any]:
    return _jobs_view()


def set_job_pace(body: Any = None) -> dict[str, Any]:
    jobs = sandbox().jobs
    jobs.pace = JobPace.parse(_object(body), jobs.pace)
    return _jobs_view()
