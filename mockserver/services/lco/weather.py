"""The telescopes' availability over time: weather, enclosures, sequencers and site agents.

The real network reports, per telescope, whether it is available for
scheduling and, when not, why (weather, an interlocked enclosure, a disabled
sequencer, an unresponsive site agent). Here each telescope's state is drawn
for every three-hour block of UTC from the sandbox's seed, the site's weather
shared by its telescopes; the same seed gives the same history and forecast.
The scheduler only observes on an available telescope, so the states and the
observations agree.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

BLOCK_SECONDS = 3 * 3600
AVAILABLE = ("AVAILABLE", "Available for scheduling")
#: (event type, reason, weight): a site's weather first, then a telescope's own troubles
SITE_TROUBLES = (("NOT_OK_TO_OPEN", "Weather: Sky transparency too low", 6),
                 ("NOT_OK_TO_OPEN", "Weather: Humidity too high. Enclosure: Interlocked (Power)", 3),
                 ("NOT_OK_TO_OPEN", "Weather: Wind speed too high", 2),
                 ("SITE_AGENT_UNRESPONSIVE", "Site Agent: Unresponsive", 1))
TELESCOPE_TROUBLES = (("SEQUENCER_DISABLED", "Sequencer: Disabled by operator", 2),
                      ("ENCLOSURE_INTERLOCK", "Enclosure: Interlocked (Emergency stop)", 1),
                      ("ENCLOSURE_DISABLED", "Enclosure Shutter Mode: Manual", 1))
SITE_TROUBLE_CHANCE = 0.15
TELESCOPE_TROUBLE_CHANCE = 0.04


@dataclass(frozen=True)
class Event:
    telescope: str              # site.enclosure.telescope
    event_type: str
    event_reason: str
    start: float                # Unix seconds
    end: float


def _pick(rng: random.Random, troubles: tuple[tuple[str, str, int], ...]) -> tuple[str, str]:
    kind, reason, _ = rng.choices(troubles, weights=[w for _, _, w in troubles])[0]
    return kind, reason


def state(seed: int, telescope: str, block: int) -> tuple[str, str]:
    """(event type, reason) of a telescope (site.enclosure.telescope) during a three-hour block."""
    site = telescope.split(".", 1)[0]
    weather = random.Random(f"lco-weather:{seed}:{site}:{block}")
    if weather.random() < SITE_TROUBLE_CHANCE:
        return _pick(weather, SITE_TROUBLES)
    own = random.Random(f"lco-telescope:{seed}:{telescope}:{block}")
    if own.random() < TELESCOPE_TROUBLE_CHANCE:
        return _pick(own, TELESCOPE_TROUBLES)
    return AVAILABLE


def events(seed: int, telescope: str, start: float, end: float) -> list[Event]:
    """The telescope's states from start to end, equal neighbours merged, the ends clipped."""
    found: list[Event] = []
    block = int(start // BLOCK_SECONDS)
    while block * BLOCK_SECONDS < end:
        kind, reason = state(seed, telescope, block)
        begin, finish = max(start, block * BLOCK_SECONDS), min(end, (block + 1) * BLOCK_SECONDS)
        if found and (found[-1].event_type, found[-1].event_reason) == (kind, reason):
            found[-1] = Event(telescope, kind, reason, found[-1].start, finish)
        elif finish > begin:
            found.append(Event(telescope, kind, reason, begin, finish))
        block += 1
    return found


def available_stretches(seed: int, telescope: str, start: float, end: float) -> list[tuple[float, float]]:
    return [(e.start, e.end) for e in events(seed, telescope, start, end) if e.event_type == AVAILABLE[0]]


def stamp(moment: float) -> str:
    text = datetime.fromtimestamp(moment, UTC).replace(tzinfo=None).isoformat()
    return text + "Z"
