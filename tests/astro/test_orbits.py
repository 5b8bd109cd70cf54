"""The numerical propagator: integration both ways from an epoch, and its interpolated trajectory."""
from __future__ import annotations

import math

import numpy as np

from mockserver.astro.orbits import CartesianState, NumericalOrbit, elements, propagate_state

EPOCH = 1_533_643_200.0                 # 2018-08-07T12:00:00Z
SPEED = math.sqrt(398600.4418 / 7000.0)
STATE = CartesianState(EPOCH, (7000.0, 0.0, 0.0), (0.0, SPEED * 0.6, SPEED * 0.8), "TEME")


def test_integrating_back_and_forth_returns_to_the_start():
    times = EPOCH + np.array([-6 * 3600.0, -60.0, 0.0, 3600.0])
    position, velocity, errors = propagate_state(STATE, times)
    assert not errors.any()
    assert np.allclose(position[2], STATE.position, atol=1e-9) and np.allclose(velocity[2], STATE.velocity, atol=1e-12)
    earlier = CartesianState(times[0], tuple(position[0]), tuple(velocity[0]), "TEME")
    again, _, _ = propagate_state(earlier, times[1:])
    assert np.allclose(again, position[1:], atol=1e-3)          # a metre after six hours there and back


def test_the_interpolated_trajectory_agrees_with_the_integration_and_knows_its_span():
    orbit = NumericalOrbit(STATE, EPOCH - 3600, EPOCH + 7200)
    times = EPOCH + np.array([-1234.5, 17.25, 5000.0])
    position, velocity, errors = orbit.teme(times)
    exact_position, exact_velocity, _ = propagate_state(STATE, times)
    assert not errors.any()
    assert np.abs(position - exact_position).max() < 1e-3          # within a metre
    assert np.abs(velocity - exact_velocity).max() < 5e-5          # and 5 cm/s
    _, _, outside = orbit.teme(np.array([EPOCH - 7200.0, EPOCH + 9000.0]))
    assert outside.all()
    assert orbit.period_s == elements(STATE).period_s == 2 * math.pi * math.sqrt(7000.0**3 / 398600.4418)


def test_an_open_orbit_has_no_elements():
    escaping = CartesianState(EPOCH, (7000.0, 0.0, 0.0), (0.0, 11.0, 0.0))
    assert elements(escaping) is None
