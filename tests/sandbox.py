"""An in-process mock with helpers for its control API, for the suite's fixtures."""
from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.core.service import Settings


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
