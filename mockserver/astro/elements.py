"""Where a solar-system body with osculating elements appears from the Earth.

The portal takes comets, asteroids and planets as heliocentric orbital elements
(ecliptic and equinox J2000): inclination, node, argument of perihelion,
eccentricity, and either the mean distance and mean anomaly at an epoch
(planets, asteroids) or the perihelion distance and time (comets). The orbit is
a two-body conic around the Sun, solved for each time by Kepler's equation; the
Earth's heliocentric position comes from ERFA's ``epv00``. Perturbations and
light time are left out, which over weeks keeps main-belt asteroids and planets
within a small fraction of a degree: enough for visibility.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import erfa
import numpy as np

GAUSS_K = 0.01720209895              # rad/day: the Sun's gravitational constant in au, days
OBLIQUITY_J2000 = math.radians(23.4392911)
MJD_JD = 2400000.5
UNIX_MJD = 40587.0


@dataclass(frozen=True)
class Orbit:
    """Elements in degrees, au and MJD (TT); ``epoch_of_perihelion`` and ``perihelion_distance`` for comets."""

    inclination: float
    ascending_node: float
    argument_of_perihelion: float
    eccentricity: float
    epoch: float                                   # MJD of the elements
    mean_distance: float | None = None             # semi-major axis, au
    mean_anomaly: float | None = None              # degrees at the epoch
    daily_motion: float | None = None              # degrees/day, when given
    perihelion_distance: float | None = None       # au
    epoch_of_perihelion: float | None = None       # MJD


def _anomalies(orbit: Orbit, mjd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position in the orbit's plane (au): x towards perihelion, y along the motion."""
    e = orbit.eccentricity
    if orbit.perihelion_distance is not None and orbit.epoch_of_perihelion is not None:
        q, since = orbit.perihelion_distance, mjd - orbit.epoch_of_perihelion
    else:
        a = float(orbit.mean_distance or 0.0)
        q = a * (1 - e)
        motion = math.radians(orbit.daily_motion) if orbit.daily_motion else GAUSS_K / a ** 1.5
        since = mjd - orbit.epoch + math.radians(orbit.mean_anomaly or 0.0) / motion
    if abs(1 - e) < 1e-6:                                           # parabola (Barker's equation)
        w = 3 * GAUSS_K * since / math.sqrt(2 * q ** 3)
        y = np.cbrt(w + np.sqrt(w * w + 1))
        tan_half = y - 1 / y
        r = q * (1 + tan_half ** 2)
        nu = 2 * np.arctan(tan_half)
        return r * np.cos(nu), r * np.sin(nu)
    a = q / (1 - e)
    if e < 1:
        mean = GAUSS_K / a ** 1.5 * since
        anomaly = mean.copy()
        for _ in range(50):
            anomaly = anomaly - (anomaly - e * np.sin(anomaly) - mean) / (1 - e * np.cos(anomaly))
        return a * (np.cos(anomaly) - e), a * math.sqrt(1 - e * e) * np.sin(anomaly)
    mean = GAUSS_K / (-a) ** 1.5 * since                             # hyperbola
    anomaly = np.arcsinh(mean / e)
    for _ in range(50):
        anomaly = anomaly - (e * np.sinh(anomaly) - anomaly - mean) / (e * np.cosh(anomaly) - 1)
    return -a * (e - np.cosh(anomaly)), -a * math.sqrt(e * e - 1) * np.sinh(anomaly)


def heliocentric(orbit: Orbit, mjd: np.ndarray) -> np.ndarray:
    """Heliocentric equatorial (ICRS-aligned) positions in au, shape (n, 3)."""
    x, y = _anomalies(orbit, np.asarray(mjd, dtype=float))
    node, peri, inc = (math.radians(v) for v in (orbit.ascending_node, orbit.argument_of_perihelion,
                                                  orbit.inclination))
    cos_n, sin_n, cos_p, sin_p, cos_i, sin_i = (math.cos(node), math.sin(node), math.cos(peri), math.sin(peri),
                                                math.cos(inc), math.sin(inc))
    ecliptic = np.stack([(cos_n * cos_p - sin_n * sin_p * cos_i) * x + (-cos_n * sin_p - sin_n * cos_p * cos_i) * y,
                         (sin_n * cos_p + cos_n * sin_p * cos_i) * x + (-sin_n * sin_p + cos_n * cos_p * cos_i) * y,
                         (sin_p * sin_i) * x + (cos_p * sin_i) * y], axis=-1)
    eps = OBLIQUITY_J2000
    return np.stack([ecliptic[:, 0], math.cos(eps) * ecliptic[:, 1] - math.sin(eps) * ecliptic[:, 2],
                     math.sin(eps) * ecliptic[:, 1] + math.cos(eps) * ecliptic[:, 2]], axis=-1)


def geocentric_directions(orbit: Orbit, unix_times: np.ndarray) -> np.ndarray:
    """Unit vectors (ICRS) from the Earth's centre towards the body at Unix times, shape (n, 3)."""
    times = np.asarray(unix_times, dtype=float)
    mjd = UNIX_MJD + times / 86_400.0 + 69.184 / 86_400.0
    earth, _ = erfa.epv00(np.full(times.shape, MJD_JD), mjd)
    seen = heliocentric(orbit, mjd) - earth["p"]
    return seen / np.linalg.norm(seen, axis=1, keepdims=True)
