"""What the LCO tests share: the instant the portal was recorded at, and a portal with its demo users."""
from __future__ import annotations

import copy
from typing import Any

from sandbox import Mock

#: the real portal's answers in these tests were recorded at this instant, in semester 2026B
NOW = "2026-11-20T23:02:11Z"
#: the portal's documented example, on the recorded instant's semester: M42 with the Sinistro in V and B
WINDOW = {"start": "2026-11-21 00:00:00", "end": "2026-12-05 00:00:00"}
M42 = {"name": "m42", "type": "SIDEREAL", "ra": 83.8220792, "dec": -5.3911111, "epoch": 2000}
EXAMPLE = {"group_id": "Example Request 3", "proposal": "LCO2026B-001", "ipp_value": 1.05, "operator": "SINGLE",
           "observation_type": "NORMAL",
           "requests": [{"target": M42,
                         "molecules": [{"type": "EXPOSE", "instrument_name": "1M0-SCICAM-SINISTRO", "filter": "v",
                                        "exposure_time": 30, "exposure_count": 1},
                                       {"type": "EXPOSE", "instrument_name": "1M0-SCICAM-SINISTRO", "filter": "b",
                                        "exposure_time": 30, "exposure_count": 1}],
                         "windows": [WINDOW], "location": {"telescope_class": "1m0"},
                         "constraints": {"max_airmass": 1.6, "min_lunar_distance": 30}}]}


def changed(body: dict, **edits) -> dict:
    """A deep copy with edits given as paths joined by double underscores (requests__0__target__ra=...);
    the value ``...`` deletes the key."""
    body = copy.deepcopy(body)
    for path, value in edits.items():
        *parents, last = path.split("__")
        node = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is ...:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return body




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
