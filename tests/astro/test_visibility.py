"""Visibility from ERFA's Sun and Moon, checked against astropy's full transformation chain."""
from __future__ import annotations

import warnings
from datetime import UTC, datetime

import numpy as np
import pytest

from mockserver.astro.visibility import Constraints, Observatory, intervals, observable, samples, sky

CERRO_TOLOLO = Observatory(-30.1674, -70.8048, 2198, horizon=30.0, ha_limits=(-4.5, 4.5))
M83 = (204.253, -29.865)


def unix(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_target_sun_and_moon_agree_with_astropy_within_a_hundredth_of_a_degree():
    from astropy import units as u
    from astropy.coordinates import AltAz, EarthLocation, SkyCoord, get_body
    from astropy.time import Time
    from astropy.utils import iers
    iers.conf.auto_download = False

    times = samples(unix("2026-11-20T00:00:00"), unix("2027-01-20T00:00:00"))
    view = sky(*M83, CERRO_TOLOLO, times)
    chosen = np.arange(0, times.size, 997)
    when = Time(times[chosen], format="unix")
    where = EarthLocation.from_geodetic(CERRO_TOLOLO.longitude * u.deg, CERRO_TOLOLO.latitude * u.deg,
                                        CERRO_TOLOLO.elevation * u.m)
    target = SkyCoord(M83[0] * u.deg, M83[1] * u.deg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # IERS tables end before these dates: UT1 = UTC, as here
        frame = AltAz(obstime=when, location=where)
        altitude = target.transform_to(frame).alt.deg
        sun = get_body("sun", when).transform_to(frame).alt.deg
        moon = get_body("moon", when, location=where).separation(target).deg
    assert np.abs(altitude - view.altitude[chosen]).max() < 0.01
    assert np.abs(sun - view.sun_altitude[chosen]).max() < 0.01
    assert np.abs(moon - view.moon_distance[chosen]).max() < 0.01


def test_observable_samples_keep_every_rule():
    times = samples(unix("2026-05-01T00:00:00"), unix("2026-05-15T00:00:00"))
    view = sky(*M83, CERRO_TOLOLO, times)
    rules = Constraints(max_airmass=1.6, min_lunar_distance=30)
    ok = observable(view, CERRO_TOLOLO, rules)
    assert ok.any()
    assert (view.sun_altitude[ok] < -18).all() and (view.altitude[ok] >= 30).all()
    assert (view.airmass[ok] <= 1.6).all() and (np.abs(view.hour_angle[ok]) <= 4.5).all()
    assert (view.moon_distance[ok] >= 30).all()
    # in May, M83 transits Chile near midnight: several hours a night
    longest = max(last - first for first, last in intervals(times, ok))
    assert 4 * 3600 < longest < 11 * 3600


def test_a_target_that_never_rises_high_enough_has_no_interval():
    polaris = (37.95, 89.26)
    times = samples(unix("2026-05-01T00:00:00"), unix("2026-05-03T00:00:00"))
    assert not observable(sky(*polaris, CERRO_TOLOLO, times), CERRO_TOLOLO, Constraints()).any()


def test_the_moon_rule_removes_nights_near_the_moon():
    times = samples(unix("2026-05-01T00:00:00"), unix("2026-06-01T00:00:00"))
    view = sky(*M83, CERRO_TOLOLO, times)
    loose = observable(view, CERRO_TOLOLO, Constraints(max_airmass=3, min_lunar_distance=0)).sum()
    strict = observable(view, CERRO_TOLOLO, Constraints(max_airmass=3, min_lunar_distance=90)).sum()
    assert strict < loose


@pytest.mark.parametrize("gap", [600, 1200])
def test_intervals_are_runs_of_consecutive_samples(gap):
    times = np.arange(0, 10 * gap, gap, dtype=float)
    mask = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1], dtype=bool)
    assert intervals(times, mask, gap) == [(gap, 2 * gap), (4 * gap, 4 * gap), (7 * gap, 9 * gap)]
