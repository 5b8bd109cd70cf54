"""What the LCO tests share: the instant the portal was recorded at, and a portal with its demo users."""
from __future__ import annotations

from typing import Any

from sandbox import Mock

#: the real portal's answers in these tests were recorded at this instant, in semester 2026B
NOW = "2026-11-20T23:02:11Z"


class Portal:
    """A fresh observing portal and its demo users (astro, bob, carol) by username."""

    def __init__(self, mock: Mock) -> None:
        self.mock = mock
        self.http = mock.http
        self.users = {c["username"]: c for c in mock.credentials()}

    def auth(self, username: str = "astro") -> dict[str, str]:
        return {"Authorization": f"Token {self.users[username]['token']}"}

    def get(self, path: str, username: str | None = "astro", **params: Any):
        headers = self.auth(username) if username else {}
        return self.http.get(f"/api{path}", params=params, headers=headers, follow_redirects=False)

    def post(self, path: str, body: Any = None, username: str | None = "astro", **kwargs: Any):
        headers = self.auth(username) if username else {}
        return self.http.post(f"/api{path}", json=body, headers=headers, follow_redirects=False, **kwargs)
