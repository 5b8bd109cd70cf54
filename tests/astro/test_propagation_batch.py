"""Many satellites propagated in one call: the same states and error codes as one Satrec at a time."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
from sgp4.api import WGS72, Satrec

from mockserver.astro.orbits import propagate_many
from mockserver.astro.passes import split_jd
from mockserver.astro.tle import checksum, parse_element_set

ISS = ("ISS (ZARYA)",
       "1 25544U 98067A   26034.04958920  .00010142  00000+0  19604-3 0  9992",
       "2 25544  51.6308 243.5964 0011016  59.0626 301.1443 15.48354905550960")
NOAA_19 = ("NOAA 19",
           "1 33591U 09005A   26034.50000000  .00000120  00000+0  89000-4 0  9998",
           "2 33591  99.0500  60.1200 0013500 180.1000 180.0200 14.12900000880008")
START = datetime(2026, 2, 3, tzinfo=timezone.utc).timestamp()
TIMES = START + 60.0 * np.arange(1441)          # a day at one-minute steps


def with_checksum(body: str) -> str:
    return body + str(checksum(body))


def dipping() -> Satrec:
    """Valid at its epoch (at apogee), but its perigee is under the ground: sgp4 says 6, decayed, near perigee."""
    line1 = with_checksum("1 99990U 26001A   26034.00000000  .00000000  00000-0  10000-3 0  999")
    line2 = with_checksum("2 99990  51.6400 200.0000 1000000  90.0000 180.0000 15.00000000    1")
    return parse_element_set("DIPPING", line1, line2).satrec()


def hyperbolic() -> Satrec:
    """Elements sgp4 cannot use at all: an eccentricity over 1 gives error 1 at every time."""
    satrec = Satrec()
    satrec.sgp4init(WGS72, "i", 99991, 9500.0, 0.0, 0.0, 0.0, 1.2, 0.0, 0.9, 0.06, 0.0, 0.0)
    return satrec


def one_at_a_time(satrec: Satrec, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions, velocities and error codes from a plain loop of Satrec.sgp4 calls."""
    jd, fr = split_jd(times)
    results = [satrec.sgp4(j, f) for j, f in zip(jd.tolist(), fr.tolist())]
    errors = np.array([e for e, _, _ in results])
    return np.array([r for _, r, _ in results]), np.array([v for _, _, v in results]), errors


def test_positions_and_velocities_agree_with_single_satrec_calls():
    satellites = [parse_element_set(*lines).satrec() for lines in (ISS, NOAA_19)]
    position, velocity, errors = propagate_many(satellites, TIMES)
    assert position.shape == velocity.shape == (2, TIMES.size, 3) and errors.shape == (2, TIMES.size)
    assert not errors.any()
    for i, satrec in enumerate(satellites):
        single_position, single_velocity, single_errors = one_at_a_time(satrec, TIMES)
        assert not single_errors.any()
        assert np.abs(position[i] - single_position).max() < 1e-6          # km: under a millimetre
        assert np.abs(velocity[i] - single_velocity).max() < 1e-9          # km/s


def test_error_codes_of_a_decayed_and_a_bad_satellite_are_passed_through():
    good = parse_element_set(*ISS).satrec()
    position, velocity, errors = propagate_many([dipping(), good, hyperbolic()], TIMES)
    for i, satrec in enumerate((dipping(), good, hyperbolic())):
        single_position, _, single_errors = one_at_a_time(satrec, TIMES)
        assert np.array_equal(errors[i], single_errors)
        assert np.allclose(position[i], single_position, rtol=0.0, atol=1e-6, equal_nan=True)
    assert 0 < np.count_nonzero(errors[0]) < TIMES.size and set(errors[0].tolist()) == {0, 6}
    assert np.linalg.norm(position[0][errors[0] == 6], axis=1).max() < 6378.135    # sgp4 says where: underground
    assert not errors[1].any()
    assert set(errors[2].tolist()) == {1}
    assert np.isnan(position[2]).all() and np.isnan(velocity[2]).all()


def test_no_satellites_give_empty_arrays_shaped_by_the_times():
    position, velocity, errors = propagate_many([], TIMES[:5])
    assert position.shape == velocity.shape == (0, 5, 3) and errors.shape == (0, 5)
