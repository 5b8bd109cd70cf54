from __future__ import annotations

from typing import Iterator

import pytest
from lcodata import NOW, Portal
from sandbox import Mock

from mockserver.core.clock import parse_instant
from mockserver.core.service import Settings


@pytest.fixture(scope="module")
def portal_mock() -> Iterator[Mock]:
    # The demo proposals are made for the semester of the sandbox's start: 2026B here.
    yield Mock("lco-observe", Settings(clock_start=parse_instant(NOW), frozen=True))


@pytest.fixture
def portal(portal_mock: Mock) -> Portal:
    return Portal(portal_mock.fresh(NOW))
