"""An in-process mock with helpers for its control API, for the suite's fixtures."""
from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.core.service import Settings
from mockserver.testing import ControlApi


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

    def fresh(self, now: str) -> "Mock":
        """Back to the seeded state with the clock frozen at ``now``: how each test of a module starts."""
        self.http.post("/__skymock/reset")
        self.http.post("/__skymock/clock", json={"set": now, "frozen": True})
        return self



class Control(ControlApi):
    """The control API of a live mock (a LiveServer), over HTTP as a user's test would use it, with
    the shortcuts the suite's tests share."""

    def journal(self, path: str | None = None) -> list[dict]:
        return [e for e in super().journal() if path is None or e["path"] == path]

    def advance(self, seconds: float) -> None:
        self.set_clock(advance=seconds)

    def token_of(self, owner: str) -> str:
        """The token of the demo user ``owner`` (services whose credentials carry one)."""
        return next(c["token"] for c in self.credentials() if c["owner"] == owner)

    def tokens(self) -> list[str]:
        return [c["token"] for c in self.credentials()]
