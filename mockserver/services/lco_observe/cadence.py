"""Expanding a cadence into the windows the target is visible in, as the portal's cadence endpoint does.

A request carrying ``cadence: {start, end, period, jitter}`` (hours) instead of
windows becomes one request per period: a window ``jitter`` wide centred on
each step from ``start``, clipped to ``start`` and ``end``, kept only when the
target is observable in it for the request's whole duration and it has not yet
ended. More than one resulting request makes the operator MANY. The result is
checked as a submission is, but not stored: the client submits it.
"""
from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from . import fields as f
from .serializers import Context, Invalid, request as clean_request

CADENCE = {"start": f.moment(required=True), "end": f.moment(required=True),
           "period": f.number(required=True, minimum=0.02), "jitter": f.number(required=True, minimum=0.02)}
NONE_VISIBLE = "No visible requests within cadence window parameters"
#: the echo keeps what the client gave, plus these filled-in fields
TARGET_DEFAULTS = ("proper_motion_ra", "proper_motion_dec", "parallax", "radvel", "coordinate_system", "equinox",
                   "epoch")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00:00")


def read_cadence(item: Any, now: datetime) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise Invalid({"non_field_errors": [f.not_a_dict(item)]})
    if "windows" in item:
        raise Invalid({"windows": ["Cadence requests may not contain windows"]})
    block = item.get("cadence")
    if not isinstance(block, dict):
        raise Invalid({"cadence": [f.REQUIRED] if block is None else {"non_field_errors": [f.not_a_dict(block)]}})
    values, errors = f.read(block, CADENCE)
    if "end" in values and values["end"] <= now:
        errors["end"] = ["End time must be in the future"]
    if errors:
        raise Invalid({"cadence": errors})
    if values["end"] < values["start"]:
        raise Invalid({"cadence": {"non_field_errors": [
            f"Cadence end '{_stamp(values['end'])}' cannot be earlier than cadence start '{_stamp(values['start'])}'."]}})
    return values


def windows(cadence: dict[str, Any]) -> list[dict[str, datetime]]:
    start, end = cadence["start"], cadence["end"]
    half, step = timedelta(hours=cadence["jitter"] / 2), timedelta(hours=cadence["period"])
    found, moment = [], start
    while moment < end:
        found.append({"start": max(moment - half, start), "end": min(moment + half, end)})
        moment += step
    return found


def expand(item: dict[str, Any], context: Context) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(the raw request with one window, its cleaned form) for every visible step of the cadence."""
    cadence = read_cadence(item, context.now)
    steps = windows(cadence)
    raw = {k: v for k, v in item.items() if k != "cadence"}
    template = clean_request({**raw, "windows": [{"start": _iso(steps[0]["start"]), "end": _iso(steps[-1]["end"])}]},
                             replace(context, check_sky=False)) if steps else None
    kept = []
    for step in steps:
        if template is None or step["end"] <= context.now:
            continue
        trial = {**copy.deepcopy(template), "windows": [step]}
        if context.largest_interval(trial) >= template["duration"]:
            kept.append(({**raw, "windows": [{"start": _iso(step["start"]), "end": _iso(step["end"])}]}, trial))
    return kept


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def echo(raw: dict[str, Any], cleaned: dict[str, Any]) -> dict[str, Any]:
    """The request as the endpoint answers it: what the client gave, normalised, with the filled-in fields."""
    target = {k: v for k, v in cleaned["target"].items()
              if k in raw.get("target", {}) or (k in TARGET_DEFAULTS and cleaned["target"]["type"] in
                                                ("SIDEREAL", "STATIC"))}
    given_molecules = raw.get("molecules", [])
    molecules = [{k: v for k, v in m.items() if k in given or k in ("bin_x", "bin_y", "priority")}
                 for m, given in zip(cleaned["molecules"], given_molecules)]
    constraints = {k: v for k, v in cleaned["constraints"].items() if k in raw.get("constraints", {})}
    return {"location": cleaned["location"], "constraints": constraints, "target": target, "molecules": molecules,
            "windows": raw["windows"]}
