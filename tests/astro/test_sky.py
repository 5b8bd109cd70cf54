from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from mockserver.astro.sky import Site, airmass, alt_az, alt_az_many

VLA = Site("VLA", 34.0787, -107.6177, 2124.0)
START = datetime(2026, 2, 3, tzinfo=timezone.utc)


def scan_day(ra, dec, site=VLA, step_minutes=1):
    """Altitudes/azimuths of several sources over 24 h; arrays shaped (times, sources)."""
    alts, azs = [], []
    for minute in range(0, 24 * 60, step_minutes):
        alt, az = alt_az_many(ra, dec, site, START + timedelta(minutes=minute))
        alts.append(alt)
        azs.append(az)
    return np.array(alts), np.array(azs)


def test_upper_culmination_altitude_and_azimuth():
    decs = [-20.0, 10.0, 34.0, 60.0]
    alts, azs = scan_day([83.6, 150.0, 210.0, 330.0], decs)
    for column, dec in enumerate(decs):
        peak = int(np.argmax(alts[:, column]))
        assert alts[peak, column] == pytest.approx(90 - abs(VLA.lat_deg - dec), abs=0.5)
        if abs(dec - VLA.lat_deg) > 5:  # near the zenith the azimuth is meaningless
            south = dec < VLA.lat_deg
            az = azs[peak, column]
            assert (abs(az - 180) < 2) if south else (min(az, 360 - az) < 2)


def test_equatorial_source_rises_east_and_sets_west():
    alts, azs = scan_day([0.0], [0.0])
    alt, az = alts[:, 0], azs[:, 0]
    rising = np.nonzero((alt[:-1] < 0) & (alt[1:] >= 0))[0]
    setting = np.nonzero((alt[:-1] >= 0) & (alt[1:] < 0))[0]
    assert len(rising) == 1 and len(setting) == 1
    assert az[rising[0]] == pytest.approx(90, abs=2)
    assert az[setting[0]] == pytest.approx(270, abs=2)


def test_circumpolar_source_never_sets():
    alts, _ = scan_day([37.95], [89.0], step_minutes=10)
    assert alts.min() > 0
    assert alts.min() == pytest.approx(VLA.lat_deg - 1, abs=0.5)


def test_far_southern_source_never_rises_at_vla():
    alts, _ = scan_day([120.0], [-80.0], step_minutes=10)
    assert alts.max() < 0
    assert alts.max() == pytest.approx(90 - (VLA.lat_deg + 80), abs=0.5)


def test_many_matches_single():
    rng = np.random.default_rng(7)
    ra = rng.uniform(0, 360, 25)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 25)))
    when = START + timedelta(hours=5, minutes=17)
    alts, azs = alt_az_many(ra, dec, VLA, when)
    assert alts.shape == azs.shape == (25,)
    for i in range(25):
        alt, az = alt_az(ra[i], dec[i], VLA, when)
        assert isinstance(alt, float) and isinstance(az, float)
        assert alt == pytest.approx(alts[i], abs=1e-9)
        assert az == pytest.approx(azs[i], abs=1e-9)


def test_other_timezone_gives_same_answer():
    plus_two = timezone(timedelta(hours=2))
    assert alt_az(10, 20, VLA, START) == pytest.approx(alt_az(10, 20, VLA, START.astimezone(plus_two)))


def test_naive_datetime_rejected():
    with pytest.raises(ValueError, match="aware"):
        alt_az(10.0, 20.0, VLA, datetime(2026, 2, 3))
    with pytest.raises(ValueError, match="aware"):
        alt_az_many([10.0], [20.0], VLA, datetime(2026, 2, 3))


def test_mismatched_lengths_rejected():
    with pytest.raises(ValueError):
        alt_az_many([1.0, 2.0], [3.0], VLA, START)


def test_airmass_zenith_and_thirty_degrees():
    assert airmass(90) == pytest.approx(1.0, abs=1e-6)
    assert airmass(30) == pytest.approx(2.0, abs=0.01)


def test_airmass_grows_towards_horizon():
    altitudes = [90, 80, 60, 45, 30, 20, 10, 5, 2, 1, 0.5, 0.1]
    values = [airmass(a) for a in altitudes]
    assert all(b > a for a, b in zip(values[1:-1], values[2:]))
    assert values[1] > values[0]
    assert 30 < airmass(0.01) < 45  # finite at the horizon, unlike sec(z)


@pytest.mark.parametrize("altitude", [0, -5, -90])
def test_airmass_below_horizon_is_infinite(altitude):
    assert airmass(altitude) == float("inf")
