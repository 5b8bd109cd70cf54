"""Satellite passes over ground stations, computed with sgp4 on NumPy arrays.

The pipeline is the textbook one: sgp4 gives TEME positions and velocities; a
rotation by the Greenwich mean sidereal time (IAU 1982, the angle TEME is
defined with) turns them into Earth-fixed coordinates; each station's
east/north/up frame on the WGS84 ellipsoid gives azimuth, elevation, range and
the rate of change of elevation. UT1 is taken as UTC and polar motion is
ignored: together they move a pass by well under a second.

The search is vectorised over time and stations:

1. sgp4 scans the window at a twentieth of an orbit (as skyfield does), which
   cannot step over a pass, for every station at once;
2. where the elevation stops rising near enough to a station, a culmination
   is expected; sgp4 then runs once more on a one-minute lattice covering
   those candidates (stations that see the satellite together share nodes);
3. culminations (Newton on the elevation rate), AOS/LOS and rise/set (the
   cubic through the lattice nodes, then a Newton step) and the polar track
   are all evaluated on the lattice's Hermite cubic, which stays within a
   metre of sgp4's own positions.

So AOS/LOS and rise/set land within milliseconds of the true crossings (a
fraction of a second from skyfield's, whose Earth model is finer) whatever
step the caller asks for; the step only samples the polar track.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import repeat
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from sgp4.api import Satrec

UNIX_EPOCH_JD = 2440587.5
DAY = 86_400.0
EARTH_ROTATION_RAD_S = 7.292115146706979e-5
# WGS84, for the stations (sgp4's own WGS72 is for the orbits only)
WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)
WGS72_RADIUS_KM = 6378.135           # the unit sgp4 gives altitudes in
POLAR_RADIUS_KM = 6356.752
SCAN_FRACTION = 0.05                 # of an orbit, between scan samples
CULMINATION_TOLERANCE_S = 0.5        # a Newton step this small leaves milliseconds of error
CUBIC_MARGIN_DEG = 5.0               # how far under the mask a cubic estimate of a culmination may be
MAX_ITERATIONS = 60
LATTICE_S = 60.0                     # seconds between the nodes passes are interpolated from


@dataclass(frozen=True)
class GroundSite:
    """A station on the WGS84 ellipsoid; longitude positive east, altitude in metres."""

    id: str
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0


@dataclass(frozen=True)
class Tracks:
    """The polar tracks of many passes end to end: times (Unix seconds), azimuths and elevations (deg)."""

    times: np.ndarray
    azimuth: np.ndarray
    elevation: np.ndarray


NO_TRACKS = Tracks(np.empty(0), np.empty(0), np.empty(0))


@dataclass(slots=True)
class Pass:
    """One pass of a satellite over one station; times are Unix seconds (UTC).

    The polar track is three equal-length arrays (times, azimuths, elevations),
    views of the search's shared ``tracks`` from ``begin`` to ``end``.
    """

    station_id: str
    rise: float
    set: float
    aos: float
    los: float
    aos_azimuth: float
    los_azimuth: float
    max_elevation: float
    max_elevation_time: float
    slant_range_km: float
    tracks: Tracks = field(default=NO_TRACKS, repr=False)
    begin: int = 0
    end: int = 0

    @property
    def track_times(self) -> np.ndarray:
        return self.tracks.times[self.begin:self.end]

    @property
    def track_azimuth(self) -> np.ndarray:
        return self.tracks.azimuth[self.begin:self.end]

    @property
    def track_elevation(self) -> np.ndarray:
        return self.tracks.elevation[self.begin:self.end]


def split_jd(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unix seconds as sgp4's (whole Julian date, day fraction) pair, keeping sub-microsecond precision."""
    days = np.floor(times / DAY)
    return UNIX_EPOCH_JD + days, (times - days * DAY) / DAY


def gmst_1982(times: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal angle (radians) by the IAU 1982 formula TEME is defined with."""
    jd, fr = split_jd(times)
    t = ((jd - 2451545.0) + fr) / 36525.0
    seconds = 67310.54841 + (876600.0 * 3600 + 8640184.812866) * t + 0.093104 * t**2 - 6.2e-6 * t**3
    return np.mod(np.radians(seconds / 240.0), 2 * np.pi)


def propagate(satrec: Satrec, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TEME position (km) and velocity (km/s) at each Unix time, and sgp4's error code per time."""
    jd, fr = split_jd(np.asarray(times, dtype=float))
    errors, position, velocity = satrec.sgp4_array(jd, fr)
    return position, velocity, errors


def to_earth_fixed(times: np.ndarray, position: np.ndarray, velocity: np.ndarray, ok: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TEME states turned into Earth-fixed (pseudo-ITRS) position (km) and velocity (km/s)."""
    theta = gmst_1982(times)
    cos, sin = np.cos(theta), np.sin(theta)
    fixed = np.empty_like(position)
    fixed[:, 0] = cos * position[:, 0] + sin * position[:, 1]
    fixed[:, 1] = -sin * position[:, 0] + cos * position[:, 1]
    fixed[:, 2] = position[:, 2]
    moving = np.empty_like(velocity)   # the frame turns with the Earth
    moving[:, 0] = cos * velocity[:, 0] + sin * velocity[:, 1] + EARTH_ROTATION_RAD_S * fixed[:, 1]
    moving[:, 1] = -sin * velocity[:, 0] + cos * velocity[:, 1] - EARTH_ROTATION_RAD_S * fixed[:, 0]
    moving[:, 2] = velocity[:, 2]
    return fixed, moving, ok & np.all(np.isfinite(fixed), axis=1)


class Trajectory(Protocol):
    """What the pass search needs of a satellite's motion, whatever computes it.

    ``teme`` gives TEME positions (km), velocities (km/s) and an error code per
    time (0 where the state is good); the other members bound the search.
    """

    @property
    def period_s(self) -> float: ...

    @property
    def apogee_km(self) -> float: ...

    @property
    def eccentricity(self) -> float: ...

    def teme(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


class Sgp4Trajectory:
    """A TLE's motion, by sgp4."""

    def __init__(self, satrec: Satrec) -> None:
        self.satrec = satrec

    @property
    def period_s(self) -> float:
        return 2 * math.pi / self.satrec.no_kozai * 60.0

    @property
    def apogee_km(self) -> float:
        return self.satrec.a * (1 + self.satrec.ecco) * WGS72_RADIUS_KM

    @property
    def eccentricity(self) -> float:
        return self.satrec.ecco

    def teme(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return propagate(self.satrec, times)


class Lattice:
    """Cubic Hermite interpolation of states known at the nodes n * spacing.

    The velocities are the positions' derivatives, so each interval between two
    consecutive nodes is a cubic whose coefficients are computed once:
    interpolating is then a table lookup and Horner's rule. With a minute
    between nodes a LEO position stays within a metre of the true one.
    """

    def __init__(self, spacing: float, nodes: np.ndarray, position: np.ndarray, velocity: np.ndarray,
                 ok: np.ndarray) -> None:
        """``nodes`` sorted and unique; ``position`` and ``velocity`` (nodes, 3)."""
        p, m = position.T, velocity.T * spacing                  # (3, nodes)
        p0, p1, m0, m1 = p[:, :-1], p[:, 1:], m[:, :-1], m[:, 1:]
        self.coefficients = np.concatenate([p0, m0, 3 * (p1 - p0) - 2 * m0 - m1, 2 * (p0 - p1) + m0 + m1])  # (12, intervals)
        self.usable = ok[:-1] & ok[1:] & (np.diff(nodes) == 1)
        self.spacing, self.first = spacing, int(nodes[0])
        self.slot = np.full(int(nodes[-1]) - self.first + 1, -1, dtype=np.int64)   # node number -> its interval
        self.slot[nodes[:-1] - self.first] = np.arange(nodes.size - 1)

    def __call__(self, times: np.ndarray, rates: bool = True) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Positions and velocities as (3, times) columns (velocities only when ``rates``), and
        whether each time lies between two good nodes."""
        h = self.spacing
        offset = np.asarray(times, dtype=float) / h - self.first
        k = np.clip(np.floor(offset).astype(np.int64), 0, self.slot.size - 1)
        interval = self.slot[k]
        found = (interval >= 0) & (offset >= 0) & (offset <= self.slot.size - 1)
        interval[~found] = 0
        s = offset - k
        a, b, c, d = np.take(self.coefficients, interval, axis=1).reshape(4, 3, -1)
        position = d * s                     # Horner's rule in place: large temporaries cost more than the sums
        position += c
        position *= s
        position += b
        position *= s
        position += a
        velocity = None
        if rates:
            velocity = d * (3 * s)
            velocity += 2 * c
            velocity *= s
            velocity += b
            velocity /= h
        return position, velocity, found & self.usable[interval]


class Orbit:
    """One satellite's Earth-fixed motion: exact at any time, or interpolated from a lattice.

    ``exact`` asks the trajectory at every time. ``use_lattice`` asks it once on
    the nodes n * spacing that a search needs (shared by every station that
    sees the satellite at the same time) and ``interpolate`` then answers
    between nodes from the Earth-fixed states' Hermite cubics.
    """

    def __init__(self, trajectory: Trajectory) -> None:
        self.trajectory = trajectory
        self._lattice: Lattice | None = None

    def exact(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Earth-fixed position, velocity and validity straight from the trajectory."""
        times = np.asarray(times, dtype=float)
        position, velocity, errors = self.trajectory.teme(times)
        return to_earth_fixed(times, position, velocity, errors == 0)

    def use_lattice(self, spacing: float, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Compute the (sorted, unique) lattice nodes n, at n * spacing; returns their states."""
        fixed, moving, ok = self.exact(nodes * spacing)
        self._lattice = Lattice(spacing, nodes, fixed, moving, ok)
        return fixed, moving, ok

    def interpolate(self, times: np.ndarray, rates: bool = True) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Earth-fixed states between lattice nodes (both neighbours of every time must be nodes),
        as (3, times) columns."""
        assert self._lattice is not None, "use_lattice() before interpolating"
        return self._lattice(times, rates)


class Sites:
    """Stations as arrays: ECEF position and the local east/north/up unit vectors of each."""

    def __init__(self, sites: Sequence[GroundSite]) -> None:
        lat = np.radians([s.lat_deg for s in sites])
        lon = np.radians([s.lon_deg for s in sites])
        height = np.array([s.alt_m for s in sites], dtype=float) / 1000.0
        n = WGS84_A_KM / np.sqrt(1 - WGS84_E2 * np.sin(lat) ** 2)
        self.ecef = np.stack([(n + height) * np.cos(lat) * np.cos(lon),
                              (n + height) * np.cos(lat) * np.sin(lon),
                              (n * (1 - WGS84_E2) + height) * np.sin(lat)], axis=-1)
        self.unit = self.ecef / np.linalg.norm(self.ecef, axis=-1, keepdims=True)
        sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
        self.east = np.stack([-so, co, np.zeros_like(so)], axis=-1)
        self.north = np.stack([-sl * co, -sl * so, cl], axis=-1)
        self.up = np.stack([cl * co, cl * so, sl], axis=-1)
        # (4, 3, stations): position, up, east, north, as columns to gather per row
        self.columns = np.ascontiguousarray(np.stack([self.ecef, self.up, self.east, self.north]).transpose(0, 2, 1))

    def grid(self, fixed: np.ndarray, moving: np.ndarray, ok: np.ndarray) -> Grid:
        """The geometry of every time x station, as matrix products (r.U - s.U and so on).

        A fortnight of samples for many stations costs a few BLAS calls. Times
        without a valid state are put at the Earth's centre, at rest: under every
        horizon and never rising.
        """
        fixed = np.where(ok[:, None], fixed, 0.0)
        moving = np.where(ok[:, None], moving, 0.0)
        up = fixed @ self.up.T
        up -= np.sum(self.ecef * self.up, axis=1)
        distance = fixed @ self.ecef.T
        distance *= -2
        distance += np.sum(fixed**2, axis=1)[:, None]
        distance += np.sum(self.ecef**2, axis=1)
        np.sqrt(distance, out=distance)
        closing = moving @ self.ecef.T                       # distance x its rate = r.v - s.v
        np.subtract(np.sum(fixed * moving, axis=1)[:, None], closing, out=closing)
        return Grid(up, moving @ self.up.T, distance, closing)

    def cos_central(self, fixed: np.ndarray, which: np.ndarray) -> np.ndarray:
        """Cosine of the angle at the Earth's centre between each (n, 3) position and its station."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.einsum("ij,ij->i", fixed, self.unit[which]) / np.linalg.norm(fixed, axis=1)

    def pairs(self, position: np.ndarray, velocity: np.ndarray | None, ok: np.ndarray, which: np.ndarray,
              azimuth: bool = False) -> tuple[np.ndarray, ...]:
        """Elevation, rate (when velocities are given), range and optionally azimuth per (time, station) row.

        ``position`` and ``velocity`` are (3, rows) Earth-fixed columns; ``which`` names each row's station.
        The arithmetic is done in place: at tens of thousands of rows, fresh temporaries cost more than sums.
        """
        station, up_unit, east, north = np.take(self.columns, which, axis=2)   # np.take gathers far faster than [:, which]
        delta = np.subtract(position, station, out=station)
        up = _dot(delta, up_unit)
        distance = np.sqrt(_dot(delta, delta))
        if velocity is not None:
            closing = _dot(delta, velocity)
            closing /= distance
            elevation, rate = _elevation_rate(up, _dot(velocity, up_unit), distance, closing)
            rate[~ok] = 0.0
        else:
            elevation = _degrees_asin(up / distance)
            rate = np.zeros_like(up)
        elevation[~ok] = -90.0
        result = [elevation, rate, distance]
        if azimuth:
            bearing = np.arctan2(_dot(delta, east), _dot(delta, north))
            np.degrees(bearing, out=bearing)
            result.append(np.mod(bearing, 360.0, out=bearing))
        return tuple(result)


def _dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise dot products of (3, n) columns."""
    total = u[0] * v[0]
    total += u[1] * v[1]
    total += u[2] * v[2]
    return total


@dataclass(frozen=True)
class Grid:
    """Scan geometry per time x station: the up component of the line of sight, its rate,
    the distance, and distance x distance rate. Angles are derived only where asked."""

    up: np.ndarray
    up_rate: np.ndarray
    distance: np.ndarray
    closing: np.ndarray

    def rising(self) -> np.ndarray:
        """Whether the elevation increases: the sign of d(up / distance)/dt."""
        return self.up_rate * self.distance**2 > self.up * self.closing

    def under(self, elevation_deg: float) -> np.ndarray:
        return self.up < math.sin(math.radians(elevation_deg)) * self.distance

    def elevation_rate(self, k: np.ndarray, site: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Elevation and its rate at the (time index, station) pairs named."""
        cell = k * self.up.shape[1] + site
        up, up_rate, distance, closing = (np.take(a, cell) for a in (self.up, self.up_rate, self.distance, self.closing))
        return _elevation_rate(up, up_rate, distance, closing / distance)


def _elevation_rate(up: np.ndarray, up_rate: np.ndarray, distance: np.ndarray, distance_rate: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Elevation (deg) and its rate (deg/s) from the up component, the distance and their rates."""
    sine = np.clip(up / distance, -1.0, 1.0)
    rate = up_rate * distance
    rate -= up * distance_rate
    rate /= distance**2                                         # d(sine)/dt
    cosine = 1 - sine**2
    np.sqrt(cosine, out=cosine)
    rate /= np.maximum(cosine, 1e-12, out=cosine)
    return _degrees_asin(sine), np.degrees(rate, out=rate)


def _degrees_asin(sine: np.ndarray) -> np.ndarray:
    """arcsin in degrees, of an array it may overwrite."""
    np.clip(sine, -1.0, 1.0, out=sine)
    np.arcsin(sine, out=sine)
    return np.degrees(sine, out=sine)


def _visibility_radius(trajectory: Trajectory, mask_deg: float) -> float:
    """Largest central angle (radians) at which the satellite can stand above the mask, at apogee."""
    apogee_km = trajectory.apogee_km
    mask = math.radians(max(mask_deg - 1.0, -0.5))   # a degree of slack: geodetic vs geocentric up
    return math.acos(min(1.0, POLAR_RADIUS_KM / apogee_km * math.cos(mask))) - mask


def _ground_track_rate(trajectory: Trajectory) -> float:
    """Upper bound of how fast (rad/s) the sub-satellite point moves over the Earth."""
    e = trajectory.eccentricity
    mean_motion = 2 * math.pi / trajectory.period_s
    return mean_motion * (1 + e) ** 2 / (1 - e**2) ** 1.5 + EARTH_ROTATION_RAD_S


Source = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def look_at(source: Source, sites: Sites, times: np.ndarray, which: np.ndarray,
            azimuth: bool = False) -> tuple[np.ndarray, ...]:
    """(elevation, rate, range[, azimuth]) at each (time, station index) pair, from an Orbit's source."""
    fixed, moving, ok = source(np.asarray(times, dtype=float))
    return sites.pairs(fixed, moving, ok, which, azimuth)


def _scan_margin(period_s: float) -> float:
    """How far before and after the window the scan looks, for rises before it and sets after it."""
    return min(max(period_s / 2, 1800.0), 43_200.0)


def search_span(period_s: float, start: float, end: float) -> tuple[float, float]:
    """The times a search of [start, end] may ask a trajectory about (a lattice node either side included)."""
    margin = _scan_margin(period_s) + 2 * LATTICE_S
    return start - margin, end + margin


def find_passes(satellite: Satrec | Trajectory, sites: Sequence[GroundSite], start: float, end: float,
                min_elevation: float = 10.0, step: float = 60.0) -> list[Pass]:
    """Every pass whose AOS falls in [start, end], over each site, sorted by AOS.

    A pass is reported in full even when it ends after ``end``; a pass already
    above ``min_elevation`` at ``start`` is left out (its AOS is in the past).
    Passes whose culmination stays under ``min_elevation`` are not passes.
    """
    if not sites or end <= start:
        return []
    trajectory = Sgp4Trajectory(satellite) if isinstance(satellite, Satrec) else satellite
    geo = Sites(sites)
    orbit = Orbit(trajectory)
    horizon = min(0.0, min_elevation)

    # 1. Scan the window (and a margin for rises before start and sets after end).
    spacing = trajectory.period_s * SCAN_FRACTION
    margin = _scan_margin(trajectory.period_s)
    times = start - margin + spacing * np.arange(math.ceil((end - start + 2 * margin) / spacing) + 1)
    fixed, moving, ok = orbit.exact(times)
    scan = geo.grid(fixed, moving, ok)                                     # (times, stations)

    # 2. Culminations: the elevation stops rising between two samples. Keep those whose
    #    closest approach can reach the mask, and whose cubic estimate comes near it.
    rising = scan.rising()
    k, site = np.nonzero(rising[:-1] & ~rising[1:])
    reach = _visibility_radius(trajectory, min_elevation) + _ground_track_rate(trajectory) * spacing
    near = np.fmax(geo.cos_central(fixed[k], site), geo.cos_central(fixed[k + 1], site)) >= math.cos(min(reach, math.pi))
    k, site = k[near], site[near]
    (y0, r0), (y1, r1) = scan.elevation_rate(k, site), scan.elevation_rate(k + 1, site)
    ends = (times[k], times[k + 1], y0, y1, r0, r1)
    guess = _cubic_root(*ends, 0.0, peak=True)
    near = ((_cubic_value(*ends, guess) >= min_elevation - CUBIC_MARGIN_DEG)
            | (np.maximum(ends[2], ends[3]) >= min_elevation))
    k, site, guess = k[near], site[near], guess[near]

    # 3. Each candidate's window runs between the scan samples under the horizon around it.
    first, last, found = _under_around(times, scan.under(horizon), guess, site)
    k, site, guess, first, last = k[found], site[found], guess[found], first[found], last[found]
    if k.size == 0:
        return []

    # 4. Propagate once on a one-minute lattice covering every window; stations that see
    #    the satellite at the same time share the nodes.
    lattice = min(LATTICE_S, spacing)
    low, high = np.floor(times[first] / lattice).astype(np.int64), np.ceil(times[last] / lattice).astype(np.int64)
    counts = high - low + 1
    owner = np.repeat(np.arange(k.size), counts)
    seg_start = np.cumsum(counts) - counts
    node = low[owner] + np.arange(counts.sum()) - seg_start[owner]
    unique, position = _unique_nodes(node)
    fixed, moving, ok = orbit.use_lattice(lattice, unique)
    row_el, row_rate = geo.grid(fixed, moving, ok).elevation_rate(position, site[owner])
    row_time = node * lattice

    # 5. The culmination: the highest node of each window and its neighbour across the turn,
    #    then Newton on sgp4 itself from the cubic through the two.
    highest = np.nonzero(row_el == np.maximum.reduceat(row_el, seg_start)[owner])[0]
    top = highest[np.searchsorted(owner[highest], np.arange(k.size))]    # the first highest node of each window
    seg_end = seg_start + counts - 1
    left = np.where(row_rate[top] > 0, top, np.maximum(top - 1, seg_start))
    right = np.minimum(left + 1, seg_end)
    pair = (row_time[left], row_time[right], row_el[left], row_el[right], row_rate[left], row_rate[right])
    culmination = _solve(_rate_and_slope(orbit.interpolate, geo, site), row_time[left], row_time[right],
                         row_rate[left], row_rate[right], CULMINATION_TOLERANCE_S,
                         guess=_cubic_root(*pair, 0.0, peak=True))
    peak_elevation, _, peak_range = look_at(orbit.interpolate, geo, culmination, site)
    keep = np.nonzero(peak_elevation >= min_elevation)[0]
    if keep.size == 0:
        return []

    # 6. Crossings of the mask and of the horizon on each side: the cubic between the two
    #    nodes around each, then one Newton step on sgp4 itself.
    index = np.arange(row_el.size)
    peak_time = culmination[keep]
    at = np.clip(seg_start[keep] + np.floor((peak_time - row_time[seg_start[keep]]) / lattice).astype(np.int64),
                 seg_start[keep], seg_end[keep])                  # the last node at or before the culmination
    sides, valid = [], np.ones(keep.size, dtype=bool)
    for threshold in (min_elevation, horizon):
        under = np.where(row_el < threshold, index, -1)
        j = np.maximum.accumulate(under)[at]                      # last node under it before the peak
        valid &= j >= seg_start[keep]
        j = np.maximum(j, 0)
        sides.append((j, np.minimum(j + 1, index.size - 1), threshold, True))
        under = np.where(row_el < threshold, index, index.size)
        j = np.minimum.accumulate(under[::-1])[::-1][np.minimum(at + 1, index.size - 1)]   # first one after
        valid &= j <= seg_end[keep]
        j = np.minimum(j, index.size - 1)
        sides.append((j, np.maximum(j - 1, 0), threshold, False))
    brackets = []
    for below, toward, threshold, backwards in (sides[0], sides[1], sides[2], sides[3]):
        # the node next to the one under the threshold, unless it lies past the culmination
        beyond = row_time[toward] >= peak_time if backwards else row_time[toward] <= peak_time
        brackets.append((row_time[below], np.where(beyond, peak_time, row_time[toward]),
                         row_el[below], np.where(beyond, peak_elevation[keep], row_el[toward]),
                         row_rate[below], np.where(beyond, 0.0, row_rate[toward]),
                         np.full(keep.size, threshold)))
    t0, t1, y0, y1, r0, r1, target = (np.concatenate(part) for part in zip(*brackets))
    crossing = _cubic_root(t0, t1, y0, y1, r0, r1, target)
    which = np.tile(site[keep], 4)
    value, slope, _, azimuth = look_at(orbit.interpolate, geo, crossing, which, azimuth=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        correction = (value - target) / slope
    crossing -= np.clip(np.where(np.isfinite(correction), correction, 0.0), -1.0, 1.0)
    aos, los, rise, set_ = np.split(crossing, 4)
    aos_azimuth, los_azimuth = np.split(azimuth, 4)[:2]

    # 7. Passes whose AOS is in the window; two culminations inside one pass count once (the higher).
    pass_site = site[keep]
    candidates = np.nonzero(valid & (aos >= start) & (aos <= end))[0]
    by_height = candidates[np.argsort(-peak_elevation[keep[candidates]], kind="stable")]
    key = pass_site[by_height].astype(np.int64) << 42 | np.round(aos[by_height] * 100).astype(np.int64)
    _, first = np.unique(key, return_index=True)
    chosen = by_height[first]
    chosen = chosen[np.lexsort((pass_site[chosen], aos[chosen]))]
    ids = [sites[i].id for i in pass_site[chosen].tolist()]
    tracks, stops = _tracks(orbit, geo, pass_site[chosen], aos[chosen], los[chosen], aos_azimuth[chosen],
                            los_azimuth[chosen], float(step), min_elevation)
    columns = [c[chosen].tolist() for c in (rise, set_, aos, los, aos_azimuth, los_azimuth, peak_elevation[keep],
                                            culmination[keep], peak_range[keep])]
    columns.append(repeat(tracks))
    columns += [(stops[:-1]).tolist(), stops[1:].tolist()]
    return list(map(Pass, ids, *columns))


def _unique_nodes(node: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(node, return_inverse=True) for integers in a short range, without sorting."""
    low = int(node.min())
    seen = np.zeros(int(node.max()) - low + 1, dtype=bool)
    seen[node - low] = True
    rank = np.cumsum(seen) - 1
    return np.nonzero(seen)[0] + low, rank[node - low]


def _under_around(times: np.ndarray, under: np.ndarray, moment: np.ndarray, site: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scan samples under the horizon (``under``, times x stations) just before and just after
    each moment, and whether both exist."""
    count = times.size
    index = np.arange(count)[:, None]
    at = np.searchsorted(times, moment)                   # first sample at or after the moment
    before = np.maximum.accumulate(np.where(under, index, -1), axis=0)[np.maximum(at - 1, 0), site]
    after = np.minimum.accumulate(np.where(under, index, count)[::-1], axis=0)[::-1][np.minimum(at, count - 1), site]
    found = (at > 0) & (before >= 0) & (after < count)
    return np.clip(before, 0, count - 1), np.clip(after, 0, count - 1), found


def _rate_and_slope(source: Source, sites: Sites, site: np.ndarray
                    ) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The elevation rate and, by a tenth-of-a-second difference, its derivative: what Newton needs."""
    def f(at: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        both = look_at(source, sites, np.concatenate([at, at + 0.1]), np.tile(site[rows], 2))[1]
        now, later = np.split(both, 2)
        return now, (later - now) / 0.1
    return f


def _cubic_root(t0: np.ndarray, t1: np.ndarray, y0: np.ndarray, y1: np.ndarray, r0: np.ndarray, r1: np.ndarray,
                target: np.ndarray | float, peak: bool = False, samples: int = 17) -> np.ndarray:
    """Where the cubic through (t0, y0, slope r0) and (t1, y1, slope r1) reaches ``target`` (or peaks).

    A cheap first guess for Newton: the elevation and its rate are known at the
    scan samples, and the cubic Hermite curve through them lands within seconds
    of the true crossing or culmination.
    """
    span = t1 - t0
    s = np.linspace(0.0, 1.0, samples)[None, :]
    m0, m1 = (r0 * span)[:, None], (r1 * span)[:, None]
    y0, y1 = y0[:, None], y1[:, None]
    if peak:   # the derivative of the cubic
        values = (6 * s**2 - 6 * s) * (y0 - y1) + (3 * s**2 - 4 * s + 1) * m0 + (3 * s**2 - 2 * s) * m1
    else:
        values = ((2 * s**3 - 3 * s**2 + 1) * y0 + (s**3 - 2 * s**2 + s) * m0 + (3 * s**2 - 2 * s**3) * y1
                  + (s**3 - s**2) * m1 - np.reshape(target, (-1, 1)))
    changed = np.signbit(values) != np.signbit(values[:, :1])
    first = np.argmax(changed, axis=1)
    rows = np.arange(values.shape[0])
    found = changed[rows, first]
    before, after = values[rows, np.maximum(first - 1, 0)], values[rows, first]
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(after != before, before / (before - after), 0.0)
    where = (np.maximum(first - 1, 0) + np.clip(fraction, 0.0, 1.0)) / (samples - 1)
    return t0 + np.where(found, where, 0.5) * span


def _cubic_value(t0: np.ndarray, t1: np.ndarray, y0: np.ndarray, y1: np.ndarray, r0: np.ndarray, r1: np.ndarray,
                 at: np.ndarray) -> np.ndarray:
    """The cubic Hermite curve through (t0, y0, slope r0) and (t1, y1, slope r1), at times ``at``."""
    span = t1 - t0
    s = (at - t0) / span
    return ((2 * s**3 - 3 * s**2 + 1) * y0 + (s**3 - 2 * s**2 + s) * r0 * span + (3 * s**2 - 2 * s**3) * y1
            + (s**3 - s**2) * r1 * span)


def _solve(f: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]], a: np.ndarray, b: np.ndarray,
           fa: np.ndarray, fb: np.ndarray, tolerance: float, guess: np.ndarray | None = None) -> np.ndarray:
    """Roots of f in each bracket [a, b] (f(a), f(b) of opposite signs), all at once.

    Newton's method from the secant guess, kept inside the bracket (a step that
    would leave it bisects instead), so it converges in two or three steps on
    smooth curves and can never wander off. ``f(times, rows)`` gives the
    function and its derivative for the bracket rows named.
    """
    a, b, fa, fb = (np.array(x, dtype=float) for x in (a, b, fa, fb))
    span = fb - fa
    t = np.where(span != 0, a - fa * (b - a) / np.where(span == 0, 1.0, span), (a + b) / 2)
    if guess is not None:
        t = np.where((guess >= np.minimum(a, b)) & (guess <= np.maximum(a, b)), guess, t)
    rows = np.arange(a.size)
    last_step = np.abs(b - a)
    active = np.abs(b - a) > tolerance
    for _ in range(MAX_ITERATIONS):
        if not active.any():
            break
        r = rows[active]
        value, slope = f(t[r], r)
        like_a = np.sign(value) == np.sign(fa[r])
        a[r], fa[r] = np.where(like_a, t[r], a[r]), np.where(like_a, value, fa[r])
        b[r], fb[r] = np.where(like_a, b[r], t[r]), np.where(like_a, fb[r], value)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = t[r] - value / slope
        converged = np.isfinite(newton) & (np.abs(newton - t[r]) <= tolerance)
        inside = np.isfinite(newton) & (newton > np.minimum(a[r], b[r])) & (newton < np.maximum(a[r], b[r]))
        # Newton must also at least halve the step it took before, or bisection is surer
        useful = inside & (np.abs(newton - t[r]) < last_step[r] / 2)
        following = np.where(useful | converged, newton, (a[r] + b[r]) / 2)
        last_step[r] = np.abs(following - t[r])
        t[r] = following
        active[r] = ~converged & (value != 0) & (np.abs(b[r] - a[r]) > tolerance)
    return t


def _tracks(orbit: Orbit, sites: Sites, site_index: np.ndarray, aos: np.ndarray, los: np.ndarray,
            aos_azimuth: np.ndarray, los_azimuth: np.ndarray, step: float, min_elevation: float
            ) -> tuple[Tracks, np.ndarray]:
    """The polar tracks every `step` seconds from AOS to LOS, both ends included (interpolated states),
    end to end, and where each pass's track starts (one more boundary than passes)."""
    inner = np.floor((los - aos) / step - 1e-9).astype(np.int64) + 1        # samples aos, aos+step, ... < los
    counts = inner + 1
    stops = np.concatenate([[0], np.cumsum(counts)])
    owner = np.repeat(np.arange(aos.size), counts)
    position = np.arange(stops[-1]) - stops[owner]
    times = aos[owner] + position * step
    final = stops[1:] - 1
    times[final] = los
    fixed, _, ok = orbit.interpolate(times, rates=False)
    elevation, _, _, azimuth = sites.pairs(fixed, None, ok, site_index[owner], azimuth=True)
    elevation[stops[:-1]] = min_elevation          # the ends are the exact crossings of the mask
    elevation[final] = min_elevation
    azimuth[stops[:-1]] = aos_azimuth
    azimuth[final] = los_azimuth
    return Tracks(times, azimuth, elevation), stops
