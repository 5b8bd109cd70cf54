from __future__ import annotations

from typing import Any, Iterator

import pytest
from sandbox import Mock

from mockserver.core.service import Settings

NOW = "2026-05-05T12:00:00Z"
ISS = 25544


class Dsn:
    """A DSN mock at a fixed instant, with its demo tokens by owner."""

    def __init__(self, mock: Mock) -> None:
        self.mock = mock
        self.http = mock.http
        self.tokens = {c["owner"]: c["token"] for c in mock.credentials()}

    def auth(self, owner: str = "client_123") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[owner]}"}

    def mint(self, **body: Any) -> str:
        answer = self.http.post("/__skymock/credentials", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()["token"]

    def clock(self, **body: Any) -> dict:
        return self.http.post("/__skymock/clock", json=body).json()

    def book(self, start: str = "2026-05-06T10:00:00Z", end: str = "2026-05-06T10:10:00Z", gs_id: str = "1",
             owner: str = "client_123", **extra: Any):
        body = {"norad_cat_id": ISS, "type": "data", "slots": [{"start": start, "end": end, "gs_id": gs_id}], **extra}
        return self.http.post("/orbapi/bookings", json=body, headers=self.auth(owner))

    def get(self, path: str, owner: str | None = "client_123", **params: Any):
        return self.http.get(f"/orbapi{path}", params=params, headers=self.auth(owner) if owner else {})


@pytest.fixture(scope="module")
def dsn_mock() -> Iterator[Mock]:
    # One app per module (building it parses the large spec); every test starts from a reset.
    yield Mock("dsn", Settings())


@pytest.fixture
def dsn(dsn_mock: Mock) -> Dsn:
    return Dsn(dsn_mock.fresh(NOW))
