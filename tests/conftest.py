"""Fixtures shared by the suite: in-process apps. Live mocks come from the kit's own pytest plugin
(``skymock_<id>`` fixtures, mockserver/pytest_plugin.py), as an integrator's tests get them."""
from __future__ import annotations

import pytest

from sandbox import Mock

from mockserver.core.service import Settings

pytest_plugins = ["pytester"]      # tests/test_pytest_plugin.py runs pytest sessions of its own


@pytest.fixture
def make_mock():
    def make(service_id: str, **settings) -> Mock:
        return Mock(service_id, Settings(**settings))
    return make
