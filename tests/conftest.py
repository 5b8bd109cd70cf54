"""Fixtures shared by the suite: in-process apps and live servers of a service."""
from __future__ import annotations

import warnings
from typing import Iterator

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.core.service import Settings
from mockserver.server import LiveServer


class Mock:
    """An in-process service with helpers for its control API."""

    def __init__(self, service_id: str, settings: Settings) -> None:
        self.app = create_app(service_id, settings)
        self.http = TestClient(self.app, raise_server_exceptions=False)

    def credentials(self) -> list[dict]:
        return self.http.get("/__skymock/credentials").json()["credentials"]

    def journal(self) -> list[dict]:
        return self.http.get("/__skymock/journal").json()["entries"]

    def advance(self, seconds: float) -> dict:
        return self.http.post("/__skymock/clock", json={"advance": seconds}).json()


@pytest.fixture
def make_mock():
    def make(service_id: str, **settings) -> Mock:
        return Mock(service_id, Settings(**settings))
    return make


@pytest.fixture(scope="module")
def live_ods() -> Iterator[LiveServer]:
    with LiveServer("nrao-ods", Settings(token_ttl=600)) as server:
        yield server
