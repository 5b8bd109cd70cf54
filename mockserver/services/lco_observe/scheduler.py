"""The simulated telescope network's scheduler: which requests get observed, where and when.

When a request is stored the scheduler decides, from the sandbox's seed and the
request's id, whether the network will observe it (a configurable share of
requests). If so it picks a telescope and a start inside a stretch where the
target is observable for the whole duration, on a telescope the weather leaves available, after now. As the clock passes the
end of that observation the request is COMPLETED; a request that is not
observed becomes WINDOW_EXPIRED when its last window ends. A userrequest's state
follows its requests' as the portal's does.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..lco import weather
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
    candidates = []
    by_site = telescopes_by_site(request, network)
    for site, runs in sorted(site_intervals(request, network).items()):
        for start, end in runs:
            start = max(start, begin)
            if end - start < duration:
                continue
            for telescope in by_site[site]:
                for open_from, open_until in weather.available_stretches(seed, telescope.name, start, end):
                    if open_until - open_from >= duration:
                        candidates.append((telescope, open_from, open_until))
    if not candidates:
        return None
    telescope, start, end = candidates[chance.randrange(len(candidates))]
    opening = start + chance.random() * (end - start - duration)
    instrument = request["molecules"][0]["instrument_name"]
    when = datetime.fromtimestamp(round(opening), UTC)
    return Observation(telescope.site, telescope.enclosure, telescope.code, telescope.camera_for(instrument) or "",
                       when, when + timedelta(seconds=duration))


def userrequest_state(operator: str, states: list[str]) -> str:
    order = MANY_ORDER if operator == "MANY" else AND_ORDER
    if operator == "MANY" and "COMPLETED" in states:
        return "COMPLETED"                      # one of them is all a MANY needs
    return next(state for state in order if state in states)
