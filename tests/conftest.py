"""Fixtures shared by the suite: in-process apps and live servers of a service."""
from __future__ import annotations

from typing import Iterator

import pytest

from sandbox import Mock

from mockserver.core.service import Settings
from mockserver.server import LiveServer


@pytest.fixture
def make_mock():
    def make(service_id: str, **settings) -> Mock:
        return Mock(service_id, Settings(**settings))
    return make


@pytest.fixture(scope="module")
def live_ods() -> Iterator[LiveServer]:
    with LiveServer("nrao-ods", Settings(token_ttl=600)) as server:
        yield server
