"""The simulated telescope network's scheduler: which requests get observed, where and when.

When a request is stored the scheduler decides, from the sandbox's seed and the
request's id, whether the network will observe it (a configurable share of
requests). If so it picks a telescope and a start inside a stretch where the
target is observable for the whole duration, after now. As the clock passes the
end of that observation the request is COMPLETED; a request that is not
observed becomes WINDOW_EXPIRED when its last window ends. A userrequest's state
follows its requests' as the portal's does.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..lco.network import Network
from .observability import site_intervals, telescopes_by_site

TERMINAL = ("COMPLETED", "WINDOW_EXPIRED", "CANCELED")
#: the userrequest's state is the first of these its requests are in
AND_ORDER = ("WINDOW_EXPIRED", "PENDING", "COMPLETED", "CANCELED")
MANY_ORDER = ("PENDING", "COMPLETED", "WINDOW_EXPIRED", "CANCELED")


@dataclass(frozen=True)
class Observation:
    site: str
    enclosure: str
    telescope: str
    camera: str
    start: datetime
    end: datetime


def plan(request: dict[str, Any], request_id: int, network: Network, now: datetime, seed: int,
         fraction: float) -> Observation | None:
    """Where and when the network will observe the request; None if it will not."""
    chance = random.Random(f"lco-scheduler:{seed}:{request_id}")
    if chance.random() >= fraction:
        return None
    duration = request["duration"]
    begin = now.timestamp()
    fitting = [(site, max(start, begin), end) for site, runs in sorted(site_intervals(request, network).items())
               for start, end in runs if end - max(start, begin) >= duration]
    if not fitting:
        return None
    site, start, end = fitting[chance.randrange(len(fitting))]
    opening = start + chance.random() * (end - start - duration)
    telescope = chance.choice(telescopes_by_site(request, network)[site])
    instrument = request["molecules"][0]["instrument_name"]
    when = datetime.fromtimestamp(round(opening), UTC)
    return Observation(site, telescope.enclosure, telescope.code, telescope.camera_for(instrument) or "",
                       when, when + timedelta(seconds=duration))


def userrequest_state(operator: str, states: list[str]) -> str:
    order = MANY_ORDER if operator == "MANY" else AND_ORDER
    if operator == "MANY" and "COMPLETED" in states:
        return "COMPLETED"                      # one of them is all a MANY needs
    return next(state for state in order if state in states)
