"""Fixtures of the live-client tests: each module starts its own ``server`` (a LiveServer)."""
from __future__ import annotations

import pytest
from sandbox import Control


@pytest.fixture
def mock(server) -> Control:
    """The control API of the module's server, back to the seeded state for each test."""
    control = Control(server.root)
    control.call("POST", "/reset")
    return control
