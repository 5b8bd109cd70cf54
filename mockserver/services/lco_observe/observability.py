"""When a request's target can be observed: per site, within its windows, under its constraints.

A site's telescopes that carry the request's instrument (within its location)
each have a horizon and hour-angle limits; the site can observe when any of
them can. Samples are ten minutes apart, from each window's start. Fixed
targets come from their coordinates, solar-system ones from their orbital
elements; a satellite target, pointed by altitude and azimuth, only needs a
dark sky.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ...astro.elements import Orbit, geocentric_directions
from ...astro.visibility import (SAMPLE_SECONDS, Constraints, Observatory, intervals, observable, samples, sky_of,
                                 unit_vector)
from ..lco.network import Network, Telescope

#: the real portal reports the longest interval less this margin (seconds)
INTERVAL_MARGIN = 16.0


def _orbit(target: dict[str, Any]) -> Orbit:
    return Orbit(inclination=target["orbinc"], ascending_node=target["longascnode"],
                 argument_of_perihelion=target.get("argofperih") or target.get("longofperih") or 0.0,
                 eccentricity=target["eccentricity"], epoch=target["epochofel"],
                 mean_distance=target.get("meandist"), mean_anomaly=target.get("meananom"),
                 daily_motion=target.get("dailymot"), perihelion_distance=target.get("perihdist"),
                 epoch_of_perihelion=target.get("epochofperih"))


def directions(target: dict[str, Any], times: np.ndarray) -> np.ndarray | None:
    """ICRS unit vectors towards the target at ``times``; None for a satellite (pointed in alt/az)."""
    if target["type"] in ("SIDEREAL", "STATIC"):
        return unit_vector(target["ra"], target["dec"])
    if target["type"] == "NON_SIDEREAL":
        return geocentric_directions(_orbit(target), times)
    return None


def _observatory(telescope: Telescope) -> Observatory:
    return Observatory(telescope.latitude, telescope.longitude, telescope.elevation, telescope.horizon,
                       telescope.ha_limits)


def telescopes_by_site(request: dict[str, Any], network: Network) -> dict[str, list[Telescope]]:
    where = request["location"]
    found: dict[str, list[Telescope]] = {}
    for telescope in network.telescopes_with(request["molecules"][0]["instrument_name"], where.get("site"),
                                             where.get("observatory"), where.get("telescope")):
        if telescope.telescope_class == where["telescope_class"]:
            found.setdefault(telescope.site, []).append(telescope)
    return found


def site_samples(request: dict[str, Any], network: Network) -> Iterator[tuple[str, np.ndarray, np.ndarray, Any]]:
    """For each site and window: the sample times, which are observable, and the sky at them."""
    rules = Constraints(request["constraints"]["max_airmass"], request["constraints"]["min_lunar_distance"])
    for site, telescopes in telescopes_by_site(request, network).items():
        for window in request["windows"]:
            times = samples(window["start"].timestamp(), window["end"].timestamp())
            if times.size == 0:
                continue
            toward = directions(request["target"], times)
            first = _observatory(telescopes[0])
            if toward is None:
                view = sky_of(unit_vector(0.0, 0.0), first, times)
                ok = view.sun_altitude < rules.twilight
            else:
                view = sky_of(toward, first, times)
                ok = np.zeros(times.size, dtype=bool)
                for telescope in telescopes:
                    ok |= observable(view, _observatory(telescope), rules)
            yield site, times, ok, view


def site_intervals(request: dict[str, Any], network: Network) -> dict[str, list[tuple[float, float]]]:
    """Per site, the observable stretches (first and last sample) within the request's windows.

    Checking a request and planning its observation both ask this of the same request, as do pressure and
    a request's telescope states later: the answer is kept for the few hundred latest requests asked about.
    """
    key = json.dumps({"target": request["target"], "constraints": request["constraints"],
                      "location": request["location"], "instrument": request["molecules"][0]["instrument_name"],
                      "windows": [[w["start"].timestamp(), w["end"].timestamp()] for w in request["windows"]]},
                     sort_keys=True)
    return {site: list(runs) for site, runs in _site_intervals(key, network)}


@lru_cache(maxsize=512)
def _site_intervals(key: str, network: Network) -> tuple[tuple[str, tuple[tuple[float, float], ...]], ...]:
    asked = json.loads(key)
    request = {"target": asked["target"], "constraints": asked["constraints"], "location": asked["location"],
               "molecules": [{"instrument_name": asked["instrument"]}],
               "windows": [{"start": datetime.fromtimestamp(a, UTC), "end": datetime.fromtimestamp(b, UTC)}
                           for a, b in asked["windows"]]}
    found: dict[str, list[tuple[float, float]]] = {}
    for site, times, ok, _ in site_samples(request, network):
        found.setdefault(site, []).extend(intervals(times, ok, SAMPLE_SECONDS))
    return tuple((site, tuple(runs)) for site, runs in found.items())


def union(runs: list[tuple[float, float]], gap: float = SAMPLE_SECONDS) -> list[tuple[float, float]]:
    """Runs merged where they overlap or follow within one sample: the network's coverage."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(runs):
        if merged and start <= merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def largest_interval(request: dict[str, Any], network: Network) -> float:
    """The longest stretch (seconds) during which some site can observe: the portal joins the sites'
    intervals, so a target handed from one site to the next westwards stays observable."""
    runs = [run for site_runs in site_intervals(request, network).values() for run in site_runs]
    return max((end - start for start, end in union(runs)), default=0.0)


def reported_interval(seconds: float) -> float:
    return max(0.0, seconds - INTERVAL_MARGIN)


def airmasses(request: dict[str, Any], network: Network) -> dict[str, Any]:
    """The portal's airmass answer: per site with observable time, the sample times and airmasses."""
    if request["target"]["type"] == "SATELLITE":
        return {"airmass_data": {}}
    data: dict[str, dict[str, list]] = {}
    for site, times, ok, view in site_samples(request, network):
        if not ok.any():
            continue
        entry = data.setdefault(site, {"times": [], "airmasses": []})
        entry["times"] += [datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M") for t in times[ok]]
        entry["airmasses"] += [float(a) for a in view.airmass[ok]]
    if not data:
        return {"airmass_data": {}}
    return {"airmass_data": data, "airmass_limit": request["constraints"]["max_airmass"]}
