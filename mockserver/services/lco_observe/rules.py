"""The userrequest's own rules, which read the proposal: membership, operator, time limits, allocations,
rapid response windows and IPP. They run in the portal's order once every field is right; each failure
is a ``non_field_errors`` message in the portal's words.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from ..lco.proposals import Proposal, TimeAllocation, semester_of
from .serializers import Invalid

NOT_MEMBER = "You do not belong to the proposal you are trying to submit"
OVER_TIME_LIMIT = "This request's duration will exceed the time limit set for your account on this proposal."
NO_ALLOCATION = "You do not have sufficient time allocated on the instrument you're requesting for this proposal."
TOO_FUTURE_START = "The Rapid Response observation window start time cannot be in the future."
TOO_LATE_END = ("A Rapid Response observation must start within the next 24 hours, so the window end time must be "
                "within the next (24 hours + the observation duration)")
MAX_IPP = 2.0
MIN_IPP = 0.5

Key = tuple[str, str, str]        # semester, telescope class, instrument


def hours_by_key(userrequest: dict[str, Any]) -> dict[Key, float]:
    """Hours the userrequest asks of each allocation: the first request of a SINGLE, the sum for AND,
    the longest for MANY (only one of them will run)."""
    per_key: dict[Key, list[float]] = {}
    for item in userrequest["requests"]:
        semester = semester_of(item["windows"][0]["start"])
        key = (semester.id if semester else "", item["location"]["telescope_class"],
               item["molecules"][0]["instrument_name"])
        per_key.setdefault(key, []).append(item["duration"] / 3600)
    if userrequest["operator"] == "SINGLE":
        return {key: hours[0] for key, hours in per_key.items()}
    if userrequest["operator"] == "MANY":
        return {key: max(hours) for key, hours in per_key.items()}
    return {key: sum(hours) for key, hours in per_key.items()}


def _available(allocation: TimeAllocation, rapid: bool) -> float:
    if rapid:
        return allocation.too_allocation - allocation.too_time_used
    return allocation.std_allocation - allocation.std_time_used


def max_ipp(ipp_time_available: float, hours: float) -> float:
    if hours <= 0:
        return MAX_IPP
    return math.floor(min(ipp_time_available / hours + 1, MAX_IPP) * 1000) / 1000


def check(userrequest: dict[str, Any], username: str, proposal: Proposal, now: datetime) -> dict[Key, float]:
    """Raise Invalid for the first rule broken; the hours per allocation otherwise."""
    if username not in proposal.members:
        raise Invalid({"non_field_errors": [NOT_MEMBER]})
    count = len(userrequest["requests"])
    if userrequest["operator"] == "SINGLE" and count != 1:
        raise Invalid({"non_field_errors": ["'Single' type user requests must have exactly one child request."]})
    if userrequest["operator"] != "SINGLE" and count == 1:
        raise Invalid({"non_field_errors": [f"'{userrequest['operator'].title()}' type user requests must have "
                                            "more than one child request."]})
    hours = hours_by_key(userrequest)
    limit = proposal.members[username].time_limit
    if limit >= 0 and sum(hours.values()) * 3600 > limit:
        raise Invalid({"non_field_errors": [OVER_TIME_LIMIT]})
    rapid = userrequest["observation_type"] == "TARGET_OF_OPPORTUNITY"
    kind = "Rapid Response" if rapid else "NORMAL"
    for (semester, telescope_class, instrument), needed in hours.items():
        allocation = proposal.allocation(semester, telescope_class, instrument)
        if allocation is None:
            raise Invalid({"non_field_errors": [NO_ALLOCATION]})
        left = _available(allocation, rapid)
        if left <= 0:
            raise Invalid({"non_field_errors": [f"Proposal {proposal.id} does not have any time left allocated in "
                                                f"semester {semester} on {telescope_class} telescopes"]})
        if left * 1.1 < needed:
            raise Invalid({"non_field_errors": [f"Proposal {proposal.id} does not have enough time allocated in "
                                                f"semester {semester} on {telescope_class} telescopes"]})
    if rapid:
        for item in userrequest["requests"]:
            duration = timedelta(seconds=item["duration"])
            for window in item["windows"]:
                if window["start"] > now:
                    raise Invalid({"non_field_errors": [TOO_FUTURE_START]})
                if window["end"] > now + duration + timedelta(hours=24):
                    raise Invalid({"non_field_errors": [TOO_LATE_END]})
    ipp = userrequest["ipp_value"]
    if ipp > 1:
        for (semester, telescope_class, instrument), needed in hours.items():
            allocation = proposal.allocation(semester, telescope_class, instrument)
            if allocation is not None and allocation.ipp_time_available < needed * (ipp - 1):
                ceiling = max_ipp(allocation.ipp_time_available, needed)
                # the portal shows the exception's repr here: a quirk clients have met and parse
                raise Invalid({"non_field_errors": [
                    f"TimeAllocationError(\"An IPP Value of {ipp} requires more IPP time than you have available for "
                    f"'{kind}' Observation with the {instrument} . Please lower your IPP Value to <= {ceiling} and "
                    f"submit again.\",)"]})
    return hours


def _move_ipp(proposal: Proposal, hours: dict[Key, float], ipp: float, sign: int) -> None:
    if ipp <= 1:
        return
    for key, needed in hours.items():
        allocation = proposal.allocation(*key)
        if allocation is not None:
            moved = allocation.ipp_time_available + sign * needed * (ipp - 1)
            allocation.ipp_time_available = min(allocation.ipp_limit, moved)


def debit_ipp(proposal: Proposal, hours: dict[Key, float], ipp: float) -> None:
    """Raising priority spends IPP time when the request is made (lowering it earns time back on success)."""
    _move_ipp(proposal, hours, ipp, -1)


def credit_ipp(proposal: Proposal, hours: dict[Key, float], ipp: float) -> None:
    """A request that will not run gives back the IPP time it spent (never above the IPP limit)."""
    _move_ipp(proposal, hours, ipp, +1)
