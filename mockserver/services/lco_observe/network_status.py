"""What the portal tells about the network as a whole: telescope states and availability, the blocks a
request was scheduled in, and how contended the sky is (contention by RA, pressure over the next day).

All of it comes from the same simulated network: the weather of :mod:`..lco.weather`, the visibility
of the requests' targets and the scheduler's observations.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ...astro.visibility import Observatory, dark_intervals, samples
from ..lco import weather
from ..lco.drf import drf_time
from ..lco.network import Network, Telescope
from .observability import site_intervals, telescopes_by_site
from .userrequests import Request, UserRequest

ALL = "All Proposals"
PRESSURE_BINS = 96                     # quarter hours in a day
NAUTICAL_TWILIGHT = -12.0


def _event_json(event: weather.Event) -> dict[str, str]:
    return {"telescope": event.telescope, "event_type": event.event_type, "event_reason": event.event_reason,
            "start": weather.stamp(event.start), "end": weather.stamp(event.end)}


def telescope_states(network: Network, seed: int, start: datetime, end: datetime, sites: list[str],
                     telescopes: list[str]) -> dict[str, list[dict[str, str]]]:
    answer = {}
    for telescope in network.telescopes:
        if (sites and telescope.site not in sites) or (telescopes and telescope.code not in telescopes):
            continue
        found = weather.events(seed, telescope.name, start.timestamp(), max(end, start).timestamp())
        if not found:                              # an instant: the state at that instant
            kind, reason = weather.state(seed, telescope.name, int(start.timestamp() // weather.BLOCK_SECONDS))
            found = [weather.Event(telescope.name, kind, reason, start.timestamp(), start.timestamp())]
        answer[telescope.name] = [_event_json(e) for e in found]
    return answer


def _observatory(telescope: Telescope) -> Observatory:
    return Observatory(telescope.latitude, telescope.longitude, telescope.elevation)


def telescope_availability(network: Network, seed: int, start: datetime, end: datetime,
                           combine: bool) -> dict[str, list[list[Any]]]:
    """Per telescope (or site and class), the share of each dark night it was available."""
    nights_by_site: dict[str, list[tuple[float, float]]] = {}
    per_telescope: dict[str, list[list[Any]]] = {}
    times = samples(start.timestamp(), end.timestamp())
    for telescope in network.telescopes:
        if telescope.site not in nights_by_site:
            nights_by_site[telescope.site] = [(a, b) for a, b in dark_intervals(_observatory(telescope), times,
                                                                                NAUTICAL_TWILIGHT) if b > a]
        entries = []
        for dusk, dawn in nights_by_site[telescope.site]:
            open_time = sum(b - a for a, b in weather.available_stretches(seed, telescope.name, dusk, dawn))
            entries.append([datetime.fromtimestamp(dusk, UTC).strftime("%Y-%m-%d"), round(open_time / (dawn - dusk), 4)])
        per_telescope[telescope.name] = entries
    if not combine:
        return per_telescope
    grouped: dict[str, dict[str, list[float]]] = {}
    for telescope in network.telescopes:
        key = f"{telescope.site}.{telescope.telescope_class}"
        for date, share in per_telescope[telescope.name]:
            grouped.setdefault(key, {}).setdefault(date, []).append(share)
    return {key: [[date, round(sum(v) / len(v), 4)] for date, v in dates.items()] for key, dates in grouped.items()}


def request_telescope_states(request: Request, network: Network, seed: int) -> dict[str, list[dict[str, str]]]:
    """The states of the telescopes that could take the request, while its target is observable there."""
    answer: dict[str, list[dict[str, str]]] = {}
    runs = site_intervals(request.body, network)
    for site, telescopes in telescopes_by_site(request.body, network).items():
        for telescope in telescopes:
            for start, end in runs.get(site, []):
                answer.setdefault(telescope.name, []).extend(
                    _event_json(e) for e in weather.events(seed, telescope.name, start, end))
    return answer


def blocks(made: UserRequest, request: Request, now: datetime) -> list[dict[str, Any]]:
    """The scheduler's block for the request (none when the network will not observe it)."""
    observed = request.observation
    if observed is None:
        return []
    cancelled = request.state == "CANCELED" and (request.modified or now) < observed.start
    if cancelled:
        status = "CANCELED"
    elif now < observed.start:
        status = "SCHEDULED"
    elif now < observed.end:
        status = "IN_PROGRESS"
    else:
        status = "COMPLETED"
    done = status == "COMPLETED"
    molecules = [{"events": [], "acquire_mode": m["acquire_mode"], "type": m["type"], "filter": m["filter"],
                  "ag_filter": m["ag_filter"], "ag_name": m["ag_name"], "user_id": made.submitter,
                  "defocus": m["defocus"], "spectra_slit": m["spectra_slit"], "priority": m["priority"],
                  "failed": False, "inst_name": observed.camera, "attempted": status in ("IN_PROGRESS", "COMPLETED"),
                  "exposure_time": m["exposure_time"], "completed": done, "bin_y": m["bin_y"], "bin_x": m["bin_x"],
                  "ag_exp_time": m["ag_exp_time"], "tag_id": made.proposal[:3], "group": made.group_id,
                  "exposure_count": m["exposure_count"], "acquire_radius_arcsec": m["acquire_radius_arcsec"],
                  "ag_mode": m["ag_mode"]} for m in request.body["molecules"]]
    return [{"molecules": molecules, "id": request.id * 1000 + 1, "start": drf_time(observed.start),
             "end": drf_time(observed.end), "canceled": cancelled, "aborted": False,
             "cancel_reason": "Request canceled" if cancelled else "",
             "cancel_date": drf_time(request.modified) if cancelled else None, "site": observed.site,
             "observatory": observed.enclosure, "telescope": observed.telescope, "priority": request.id,
             "is_too": made.observation_type == "TARGET_OF_OPPORTUNITY", "completed": done,
             "percent_completed": 100.0 if done else 0.0, "failed": False,
             "attempted": status in ("IN_PROGRESS", "COMPLETED"), "status": status, "fail_reason": ""}]


def _upcoming(pending: list[tuple[UserRequest, Request]], instrument: str | None, now: datetime,
              span: timedelta) -> list[tuple[UserRequest, Request]]:
    return [(made, item) for made, item in pending
            if item.state == "PENDING" and item.body["target"]["type"] in ("SIDEREAL", "STATIC")
            and (instrument is None or item.body["molecules"][0]["instrument_name"] == instrument)
            and any(w["start"] < now + span and w["end"] > now for w in item.body["windows"])]


def contention(pending: list[tuple[UserRequest, Request]], instrument: str, now: datetime,
               staff: bool = False) -> dict[str, Any]:
    """Seconds of pending requests wanting the next day, by the target's hour of right ascension."""
    bins: list[dict[str, float]] = [{} for _ in range(24)]
    for made, item in _upcoming(pending, instrument, now, timedelta(hours=24)):
        hour = int(item.body["target"]["ra"] // 15) % 24
        key = made.proposal if staff else ALL
        bins[hour][key] = bins[hour].get(key, 0) + item.body["duration"]
    data = bins if staff else [{ALL: b.get(ALL, 0)} for b in bins]
    return {"ra_hours": list(range(24)), "instrument_name": instrument, "time_calculated": drf_time(now),
            "contention_data": data}


def pressure(pending: list[tuple[UserRequest, Request]], network: Network, now: datetime, instrument: str | None,
             site: str | None, staff: bool = False) -> dict[str, Any]:
    """How much of the next day's observable time pending requests need, in quarter hours."""
    span = timedelta(hours=24)
    bin_starts = [now + timedelta(minutes=15 * i) for i in range(PRESSURE_BINS)]
    data: list[dict[str, float]] = [{} for _ in range(PRESSURE_BINS)]
    for made, item in _upcoming(pending, instrument, now, span):
        clipped = {**item.body, "windows": [{"start": max(w["start"], now), "end": min(w["end"], now + span)}
                                            for w in item.body["windows"] if w["end"] > now]}
        runs = {s: [(a, b) for a, b in r if b - a >= item.body["duration"]]
                for s, r in site_intervals(clipped, network).items() if site in (None, s)}
        total = sum(b - a for r in runs.values() for a, b in r)
        if total <= 0:
            continue
        base = item.body["duration"] / total
        by_site = telescopes_by_site(item.body, network)
        for index, moment in enumerate(bin_starts):
            stamp = moment.timestamp()
            visible = [s for s, r in runs.items() if any(a <= stamp <= b for a, b in r)]
            count = sum(len(by_site.get(s, [])) for s in visible)
            if count:
                key = made.proposal if staff else ALL
                data[index][key] = data[index].get(key, 0.0) + base / count
    if not staff:
        data = [{ALL: b.get(ALL, 0)} for b in data]
    nights = []
    chosen = [s for s in network.sites if site in (None, s)]
    times = samples(now.timestamp(), (now + span).timestamp())
    for code in chosen:
        first = network.sites[code].telescopes[0]
        for dusk, dawn in dark_intervals(_observatory(first), times, NAUTICAL_TWILIGHT):
            if dawn > dusk:
                nights.append({"name": code, "start": (dusk - now.timestamp()) / 3600,
                               "stop": min(24.0, (dawn - now.timestamp()) / 3600)})
    return {"site_nights": nights, "time_bins": [drf_time(b) for b in bin_starts],
            "instrument_name": instrument or "all", "site": site or "all", "time_calculated": drf_time(now),
            "pressure_data": data}
