"""Where a fixed celestial source (given by J2000 RA/Dec) appears in an observatory's sky.

Mock telescope services need believable answers to "is this source up, and
how much atmosphere is in the way?".  Skyfield does the coordinate work with
its built-in time tables only: nothing is downloaded and no ephemeris file is
loaded, so the mock runs offline.  The results are geometric (no refraction,
no aberration), which is well within what a scheduling mock needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Sequence

import numpy as np
from skyfield.api import load, position_of_radec, wgs84


@dataclass(frozen=True)
class Site:
    """An observatory on the WGS84 ellipsoid; longitude is positive east."""

    name: str
    lat_deg: float
    lon_deg: float
    elevation_m: float


@lru_cache(maxsize=1)
def _timescale():
    """Create the skyfield timescale on first use, from the tables bundled with skyfield."""
    return load.timescale(builtin=True)


def _time(when: datetime):
    # A naive datetime is ambiguous (local time? UTC?) and would silently
    # shift every altitude, so refuse it instead of guessing.
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("when must be a timezone-aware datetime (UTC), not a naive one")
    return _timescale().from_datetime(when)


def _altaz(ra_deg, dec_deg, site: Site, when: datetime) -> tuple[np.ndarray, np.ndarray]:
    ra = np.asarray(ra_deg, dtype=float)
    dec = np.asarray(dec_deg, dtype=float)
    if ra.shape != dec.shape:
        raise ValueError(f"got {ra.size} right ascensions but {dec.size} declinations")
    if np.any(~np.isfinite(ra)) or np.any(np.abs(dec) > 90) or np.any(~np.isfinite(dec)):
        raise ValueError("RA must be finite and Dec must lie between -90 and +90 degrees")
    observer = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.elevation_m)
    position = position_of_radec(ra / 15.0, dec, t=_time(when), center=observer)
    altitude, azimuth, _ = position.altaz()
    return altitude.degrees, azimuth.degrees


def alt_az(ra_deg: float, dec_deg: float, site: Site, when: datetime) -> tuple[float, float]:
    """Altitude and azimuth in degrees (azimuth 0 = north, 90 = east) of one source."""
    altitude, azimuth = _altaz(ra_deg, dec_deg, site, when)
    return float(altitude), float(azimuth)


def alt_az_many(
    ra_deg: Sequence[float], dec_deg: Sequence[float], site: Site, when: datetime
) -> tuple[np.ndarray, np.ndarray]:
    """Like alt_az for many sources at once; one vectorised skyfield call instead of a loop."""
    altitude, azimuth = _altaz(np.atleast_1d(ra_deg), np.atleast_1d(dec_deg), site, when)
    return np.asarray(altitude, dtype=float), np.asarray(azimuth, dtype=float)


def airmass(altitude_deg: float) -> float:
    """Relative air mass for a source at the given (geometric) altitude.

    1/sin(altitude) blows up at the horizon, where the real value is about 38,
    so Pickering's (2002) fit is used instead.  Its small refraction term
    pushes the sine's argument just past 90 degrees near the zenith; capping
    it there keeps the zenith value at exactly 1 and the curve monotonic.
    Sources on or below the horizon get infinity: there is no line of sight.
    """
    if math.isnan(altitude_deg) or altitude_deg > 90:
        raise ValueError(f"altitude must be at most 90 degrees, got {altitude_deg}")
    if altitude_deg <= 0:
        return float("inf")
    argument = altitude_deg + 244.0 / (165.0 + 47.0 * altitude_deg**1.1)
    return 1.0 / math.sin(math.radians(min(argument, 90.0)))
