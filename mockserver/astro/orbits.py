"""Numerical orbit propagation from a state vector: two-body gravity plus the J2 term.

A numerical propagator starts from a position and velocity at an epoch (an OPM,
or OKAPI's ``state.json``) instead of a TLE's mean elements. This one integrates
Newton's equations with the Earth's central attraction and its oblateness (J2,
the largest perturbation: it turns the orbit's node by degrees a day in LEO)
using LSODA from SciPy. Drag, the Sun and Moon, radiation pressure and the
higher harmonics are left out: over days they move a LEO satellite by
kilometres, which is seconds in a pass time.

The integration runs in TEME at the state's epoch (the frame the pass engine
turns Earth-fixed with the sidereal angle), so J2 acts about the true pole.
States given in GCRF (EME2000 and ICRF are taken to be the same, tens of
milliarcseconds apart) are rotated into it with skyfield, and results go back
to the frame they came in.

SciPy (most of a second to import) and skyfield are imported only when a
state is first integrated or rotated: every start of the OKAPI mock would
otherwise pay for them, and most requests carry TLEs.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from sgp4.api import Satrec, SatrecArray

from .passes import Lattice, split_jd

MU_KM3_S2 = 398_600.4418            # the Earth's gravitational parameter (WGS84/EGM96)
J2 = 1.08262668e-3
EARTH_RADIUS_KM = 6378.137
NODE_SPACING_S = 60.0               # between the nodes a trajectory is interpolated from
RELATIVE_TOLERANCE = 1e-11           # about 0.1 km after a month of LEO, against a far tighter integration
ABSOLUTE_TOLERANCE = 1e-10           # km and km/s
GROUND_KM = EARTH_RADIUS_KM          # a trajectory ends when it reaches the ground
FRAMES = {"GCRF": "GCRF", "EME2000": "GCRF", "ICRF": "GCRF", "J2000": "GCRF", "TEME": "TEME"}
DECAYED = 6                          # sgp4's error code for "the satellite has decayed"
NOT_COMPUTED = 7                     # outside the span the trajectory was integrated over


@dataclass(frozen=True)
class CartesianState:
    """A position (km) and velocity (km/s) at an epoch (Unix seconds, UTC) in an inertial frame."""

    epoch: float
    position: tuple[float, float, float]
    velocity: tuple[float, float, float]
    frame: str = "GCRF"

    def __post_init__(self) -> None:
        if self.frame not in FRAMES:
            raise ValueError(f"unknown frame {self.frame!r}; known: {', '.join(FRAMES)}")


@dataclass(frozen=True)
class Elements:
    """The osculating orbit of a state: what the two-body problem makes of it."""

    semi_major_axis_km: float
    eccentricity: float

    @property
    def period_s(self) -> float:
        return 2 * math.pi * math.sqrt(self.semi_major_axis_km**3 / MU_KM3_S2)

    @property
    def perigee_km(self) -> float:
        return self.semi_major_axis_km * (1 - self.eccentricity)

    @property
    def apogee_km(self) -> float:
        return self.semi_major_axis_km * (1 + self.eccentricity)


def elements(state: CartesianState) -> Elements | None:
    """The osculating semi-major axis and eccentricity, or None if the orbit is not closed."""
    r, v = np.array(state.position), np.array(state.velocity)
    with np.errstate(over="ignore", invalid="ignore"):
        radius = float(np.linalg.norm(r))
        if not 0.0 < radius < math.inf:
            return None
        energy = float(v @ v) / 2 - MU_KM3_S2 / radius
        if not energy < 0:
            return None
        h = np.cross(r, v)
        e = math.sqrt(max(0.0, 1 + 2 * energy * float(h @ h) / MU_KM3_S2**2))
    return Elements(-MU_KM3_S2 / (2 * energy), e) if math.isfinite(e) else None


@lru_cache(maxsize=1)
def _timescale():
    from skyfield.api import load

    return load.timescale(builtin=True)


def to_teme(epoch: float, frame: str) -> np.ndarray:
    """The rotation taking the frame's vectors into TEME at the epoch."""
    if FRAMES[frame] == "TEME":
        return np.eye(3)
    from skyfield.sgp4lib import TEME

    moment = _timescale().utc(1970, 1, 1, 0, 0, epoch)
    return np.asarray(TEME.rotation_at(moment))


def _start(state: CartesianState) -> tuple[np.ndarray, np.ndarray]:
    """The rotation into TEME at the epoch, and the state in TEME as one 6-vector."""
    rotation = to_teme(state.epoch, state.frame)
    return rotation, np.concatenate([rotation @ np.array(state.position), rotation @ np.array(state.velocity)])


def _derivatives(y: np.ndarray, _t: float) -> list[float]:
    x, yy, z, vx, vy, vz = y
    r2 = x * x + yy * yy + z * z
    r = math.sqrt(r2)
    central = -MU_KM3_S2 / (r2 * r)
    oblate = 1.5 * J2 * EARTH_RADIUS_KM**2 / r2
    z2 = 5 * z * z / r2
    equatorial = central * (1 + oblate * (1 - z2))
    return [vx, vy, vz, equatorial * x, equatorial * yy, central * z * (1 + oblate * (3 - z2))]


def _integrate(start: np.ndarray, epoch: float, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """States (times, 6) at sorted ``times`` from the state ``start`` at ``epoch``, and an error code per time.

    The integration goes forward and backward from the epoch; once a leg reaches
    the ground (or the integrator gives up) its later times are marked.
    """
    from scipy.integrate import odeint

    states = np.full((times.size, 6), np.nan)
    errors = np.zeros(times.size, dtype=np.int64)
    split = int(np.searchsorted(times, epoch))
    for leg in (np.arange(split, times.size), np.arange(split - 1, -1, -1)):
        if leg.size == 0:
            continue
        grid = np.concatenate([[epoch], times[leg]])
        result, info = odeint(_derivatives, start, grid - epoch, rtol=RELATIVE_TOLERANCE,
                              atol=ABSOLUTE_TOLERANCE, full_output=True, mxstep=50_000)
        result = result[1:]
        bad = ~np.all(np.isfinite(result), axis=1) | (np.linalg.norm(result[:, :3], axis=1) < GROUND_KM)
        if not info.get("message", "").startswith("Integration successful"):
            bad[:] = True
        if bad.any():
            bad[int(np.argmax(bad)):] = True
        states[leg] = result
        errors[leg] = np.where(bad, DECAYED, 0)
    return states, errors


@dataclass
class NumericalOrbit:
    """A state's trajectory over [first, last] (Unix seconds), usable by the pass engine.

    The integration runs once, onto nodes a minute apart; any time between is
    a cubic Hermite interpolation of the nodes, within a metre for LEO.
    """

    state: CartesianState
    first: float
    last: float
    spacing: float = NODE_SPACING_S
    _elements: Elements = field(init=False)
    _lattice: Lattice = field(init=False)

    def __post_init__(self) -> None:
        found = elements(self.state)
        if found is None:
            raise ValueError("the state is not on a closed orbit around the Earth")
        self._elements = found
        _, start = _start(self.state)
        nodes = np.arange(math.floor(self.first / self.spacing), math.ceil(self.last / self.spacing) + 2)
        states, errors = _integrate(start, self.state.epoch, nodes * self.spacing)
        ok = errors == 0
        states[~ok] = 0.0
        self._lattice = Lattice(self.spacing, nodes, states[:, :3], states[:, 3:], ok)

    @property
    def period_s(self) -> float:
        return self._elements.period_s

    @property
    def apogee_km(self) -> float:
        return self._elements.apogee_km * 1.01 + 20.0      # J2 swings the osculating apogee by kilometres

    @property
    def eccentricity(self) -> float:
        return self._elements.eccentricity

    def teme(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TEME positions and velocities (times, 3) and an error code per time (0: good)."""
        position, velocity, found = self._lattice(times)
        return position.T, velocity.T, np.where(found, 0, NOT_COMPUTED)


def propagate_state(state: CartesianState, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (km) and velocities (km/s), (times, 3), in the state's own frame at sorted Unix
    ``times``, and an error code per time (0: good; 6: the trajectory reached the ground)."""
    rotation, start = _start(state)
    states, errors = _integrate(start, state.epoch, np.asarray(times, dtype=float))
    back = rotation.T
    return states[:, :3] @ back.T, states[:, 3:] @ back.T, errors


def propagate_many(satellites: Sequence[Satrec], times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Many TLEs propagated by sgp4 over one grid of Unix ``times``, in a single call.

    sgp4's SatrecArray runs the whole satellites x times grid in C, so a
    thousand satellites over a day of minutes cost one call instead of a
    million Python ones. Returns TEME positions (km) and velocities (km/s),
    each (satellites, times, 3), and sgp4's error code per satellite and time
    (0: good; others as in ``sgp4.api.SGP4_ERRORS``: the state is NaN, except
    for 6, decayed, where it is sgp4's position under the ground).
    """
    jd, fr = split_jd(np.asarray(times, dtype=float))
    if not satellites:
        return np.empty((0, jd.size, 3)), np.empty((0, jd.size, 3)), np.empty((0, jd.size), dtype=np.uint8)
    errors, position, velocity = SatrecArray(list(satellites)).sgp4(jd, fr)
    return position, velocity, errors
