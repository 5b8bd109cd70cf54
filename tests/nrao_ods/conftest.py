from __future__ import annotations

import pytest
from odsdata import START, Ods


@pytest.fixture
def ods(make_mock) -> Ods:
    return Ods(make_mock("nrao-ods", clock_start=START, frozen=True, token_ttl=300))


@pytest.fixture
def ods_strict(make_mock) -> Ods:
    return Ods(make_mock("nrao-ods", clock_start=START, frozen=True, strict=True))
