from __future__ import annotations

from typing import Iterator

import pytest
from okapidata import NOW, Okapi
from sandbox import Mock

from mockserver.core.service import Settings


@pytest.fixture(scope="module")
def okapi_mock() -> Iterator[Mock]:
    yield Mock("okapi", Settings())


@pytest.fixture
def okapi(okapi_mock: Mock) -> Okapi:
    return Okapi(okapi_mock.fresh(NOW))
