from __future__ import annotations

from typing import Iterator

import pytest
from mmodadata import Dispatcher
from sandbox import Mock

from mockserver.core.jobs import JobPace
from mockserver.core.service import Settings


@pytest.fixture(scope="module")
def mmoda_mock() -> Iterator[Mock]:
    yield Mock("mmoda", Settings(job_pace=JobPace(seconds=None, polls=2)))


@pytest.fixture
def mmoda(mmoda_mock: Mock) -> Dispatcher:
    return Dispatcher(mmoda_mock)
