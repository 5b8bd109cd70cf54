"""When a sidereal target can be observed from a telescope: dark sky, above the horizon, low airmass,
within the hour-angle limits, far enough from the Moon.

The Sun and the Moon come from ERFA (the IAU's Essential Routines, through
pyerfa, which astropy is built on): ``epv00`` for the Earth's motion, hence the
Sun, and ``moon98`` for the Moon, both geocentric in the ICRS; ``pnm06a`` turns
them and the target to the true equator of date and ``gst06a`` gives the
sidereal time. The Moon is made topocentric (its parallax reaches a degree).
Nothing is downloaded and a month sampled every ten minutes takes milliseconds,
which is what validating a request needs. Refraction and aberration are left
out: tenths of a degree, well inside what scheduling rules care about.

Times are Unix seconds (UTC); UT1 is taken as UTC and TT as UTC + 69.184 s.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import erfa
import numpy as np

SAMPLE_SECONDS = 600                 # visibility is judged every ten minutes
ASTRONOMICAL_TWILIGHT = -18.0        # the Sun's altitude below which the night is dark
TT_MINUS_UTC = 69.184
UNIX_JD = 2440587.5
EARTH_RADIUS_AU = 6378.137 / 149_597_870.7


@dataclass(frozen=True)
class Observatory:
    """A telescope: where it stands and how low and how far from the meridian it points."""

    latitude: float                  # degrees north
    longitude: float                 # degrees east
    elevation: float                 # metres
    horizon: float = 0.0             # lowest altitude, degrees
    ha_limits: tuple[float, float] = (-12.0, 12.0)   # hours


@dataclass(frozen=True)
class Constraints:
    max_airmass: float = 1.6
    min_lunar_distance: float = 30.0
    twilight: float = ASTRONOMICAL_TWILIGHT


@dataclass(frozen=True)
class Sky:
    """Per sample time: the target's altitude and hour angle, the Sun's altitude, the Moon's distance."""

    times: np.ndarray                # Unix seconds
    altitude: np.ndarray             # degrees
    hour_angle: np.ndarray           # hours, -12..12
    sun_altitude: np.ndarray
    moon_distance: np.ndarray        # degrees

    @property
    def airmass(self) -> np.ndarray:
        return airmass(self.altitude)


def samples(start: float, end: float, step: float = SAMPLE_SECONDS) -> np.ndarray:
    """Sample times from ``start`` to ``end`` (both included when ``end`` falls on the grid)."""
    if end < start:
        return np.empty(0)
    return start + np.arange(0, end - start + 1e-6, step)


def airmass(altitude: np.ndarray) -> np.ndarray:
    """Relative air mass (Pickering 2002); infinite at and below the horizon."""
    alt = np.asarray(altitude, dtype=float)
    argument = np.minimum(alt + 244.0 / (165.0 + 47.0 * np.maximum(alt, 1e-9) ** 1.1), 90.0)
    with np.errstate(divide="ignore"):
        return np.where(alt > 0, 1.0 / np.sin(np.radians(argument)), np.inf)


def unit_vector(ra_deg: float, dec_deg: float) -> np.ndarray:
    ra, dec = math.radians(ra_deg), math.radians(dec_deg)
    return np.array([math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)])


def _altitude_and_ha(vectors: np.ndarray, lst: np.ndarray, latitude: float) -> tuple[np.ndarray, np.ndarray]:
    """Altitude (deg) and hour angle (rad) of equator-of-date vectors seen at a latitude."""
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    ra = np.arctan2(y, x)
    dec = np.arctan2(z, np.hypot(x, y))
    ha = (lst - ra + np.pi) % (2 * np.pi) - np.pi
    phi = math.radians(latitude)
    sin_alt = math.sin(phi) * np.sin(dec) + math.cos(phi) * np.cos(dec) * np.cos(ha)
    return np.degrees(np.arcsin(np.clip(sin_alt, -1, 1))), ha


def _sun(tt2: np.ndarray) -> np.ndarray:
    """The Sun's geocentric ICRS position (au), computed hourly and interpolated (it moves 0.04 deg an hour)."""
    hours = np.arange(tt2.min() * 24 - 1, tt2.max() * 24 + 2) / 24
    coarse = -erfa.epv00(np.full(hours.shape, UNIX_JD), hours)[0]["p"]
    return np.stack([np.interp(tt2, hours, coarse[:, axis]) for axis in range(3)], axis=-1)


def sky(ra: float, dec: float, site: Observatory, times: np.ndarray) -> Sky:
    """A fixed target (ICRS degrees), the Sun and the Moon as seen from ``site`` at ``times``."""
    return sky_of(unit_vector(ra, dec), site, times)


def sky_of(direction: np.ndarray, site: Observatory, times: np.ndarray) -> Sky:
    """Like :func:`sky` for a target given as ICRS direction vectors: one (3,) or one per time (n, 3)."""
    times = np.asarray(times, dtype=float)
    if times.size == 0:
        empty = np.empty(0)
        return Sky(times, empty, empty, empty, empty)
    utc1 = np.full(times.shape, UNIX_JD)
    utc2 = times / 86_400.0
    tt2 = utc2 + TT_MINUS_UTC / 86_400.0
    # Precession-nutation and the equation of the equinoxes move arcseconds in a month: one of each, at
    # the middle, serves the whole span (and keeps a semester of samples fast).
    middle = float(np.median(utc2))
    to_date = erfa.pnm06a(UNIX_JD, middle + TT_MINUS_UTC / 86_400.0)
    equinoxes = (erfa.gst06a(UNIX_JD, middle, UNIX_JD, middle + TT_MINUS_UTC / 86_400.0)
                 - erfa.gmst06(UNIX_JD, middle, UNIX_JD, middle + TT_MINUS_UTC / 86_400.0))
    lst = erfa.gmst06(utc1, utc2, utc1, tt2) + equinoxes + math.radians(site.longitude)

    target = np.broadcast_to(np.asarray(direction, dtype=float) @ to_date.T, (times.size, 3))
    altitude, ha = _altitude_and_ha(target, lst, site.latitude)

    sun = _sun(tt2) @ to_date.T
    sun_altitude, _ = _altitude_and_ha(sun, lst, site.latitude)

    moon = erfa.moon98(utc1, tt2)["p"] @ to_date.T
    phi = math.radians(site.latitude)
    reach = EARTH_RADIUS_AU * (1 + site.elevation / 6_378_137.0)
    observer = reach * np.stack([math.cos(phi) * np.cos(lst), math.cos(phi) * np.sin(lst),
                                 np.full(lst.shape, math.sin(phi))], axis=-1)
    seen = moon - observer
    cosine = np.einsum("ni,ni->n", seen, target) / np.linalg.norm(seen, axis=1) / np.linalg.norm(target, axis=1)
    moon_distance = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
    return Sky(times, altitude, np.degrees(ha) / 15.0, sun_altitude, moon_distance)


def observable(view: Sky, site: Observatory, constraints: Constraints) -> np.ndarray:
    """Which samples satisfy every rule."""
    low, high = site.ha_limits
    return ((view.sun_altitude < constraints.twilight) & (view.altitude >= site.horizon)
            & (view.airmass <= constraints.max_airmass) & (view.moon_distance >= constraints.min_lunar_distance)
            & (view.hour_angle >= low) & (view.hour_angle <= high))


def intervals(times: np.ndarray, mask: np.ndarray, step: float = SAMPLE_SECONDS) -> list[tuple[float, float]]:
    """Runs of consecutive observable samples as (first, last) times; a lone sample is a zero-length run."""
    found: list[tuple[float, float]] = []
    start = None
    for index, ok in enumerate(mask):
        if ok and start is None:
            start = times[index]
        if start is not None and (not ok or index == len(mask) - 1 or times[index + 1] - times[index] > step * 1.5):
            last = times[index] if ok else times[index - 1]
            found.append((float(start), float(last)))
            start = None
    return found


def dark_intervals(site: Observatory, times: np.ndarray, twilight: float = ASTRONOMICAL_TWILIGHT
                   ) -> list[tuple[float, float]]:
    """When the Sun is below ``twilight`` at the site (for nights and pressure)."""
    view = sky(0.0, 0.0, site, times)
    return intervals(times, view.sun_altitude < twilight)
