"""What the OKAPI tests share: the document's example request and a logged-in mock."""
from __future__ import annotations

from typing import Any

from sandbox import Mock
from sgp4.api import Satrec, jday

from mockserver.core.clock import parse_instant

NOW = "2018-08-07T12:00:00Z"
AUDIENCE = "https://api.okapiorbits.space/picard"
CLIENT_ID = "jrk0ZTrTuApxUstXcXdu9r71IX5IeKD3"
# the document's example: the ISS over Braunschweig, six hours of an August evening in 2018
TLE = ("1 25544U 98067A   18218.76369510  .00001449  00000-0  29472-4 0  9993\n"
       "2 25544  51.6423 126.6422 0005481  33.3092  62.9075 15.53806849126382")
GROUND = {"longitude": 10.645, "latitude": 52.3283, "altitude": 0.048}
WINDOW = {"start": "2018-08-07T18:00:00.000Z", "end": "2018-08-08T00:00:00.000Z"}


def sgp4_state(epoch: str) -> list[float]:
    """The example TLE's TEME state (km, km/s) at an instant, straight from sgp4."""
    line1, line2 = TLE.split("\n")
    moment = parse_instant(epoch)
    jd, fr = jday(moment.year, moment.month, moment.day, moment.hour, moment.minute,
                  moment.second + moment.microsecond / 1e6)
    error, position, velocity = Satrec.twoline2rv(line1, line2).sgp4(jd, fr)
    assert error == 0
    return [*position, *velocity]


def pass_request(step: float | None = 60, **members: Any) -> dict[str, Any]:
    body = {"orbit": {"type": "tle.txt", "content": TLE},
            "ground_location": {"type": "ground_loc.json", "content": GROUND},
            "time_window": {"type": "tw.json", "content": WINDOW}}
    if step is not None:
        body["settings"] = {"type": "shared_prop_settings.json", "content": {"output_step_size": step}}
    body.update(members)
    return body


def propagation_request(end: str = "2018-08-07T00:00:00.000Z", step: float = 600, **content: Any) -> dict[str, Any]:
    return {"orbit": {"type": "tle.txt", "content": TLE},
            "settings": {"type": "prop_settings.json",
                         "content": {"propagation_end_epoch": end, "more": {"output_step_size": step}, **content}}}


class Okapi:
    """An OKAPI mock at a fixed instant, logged in as its demo users."""

    def __init__(self, mock: Mock) -> None:
        self.mock = mock
        self.http = mock.http
        self.users = {c["owner"]: c for c in mock.credentials()}
        self._tokens: dict[str, str] = {}

    def login(self, owner: str = "analyst", **fields: Any):
        user = self.users[owner]
        form = {"grant_type": "password", "username": user["username"], "password": user["password"],
                "audience": AUDIENCE, "scope": "pass_predictions", "client_id": CLIENT_ID, **fields}
        return self.http.post("/oauth/token", data=form)

    def auth(self, owner: str = "analyst") -> dict[str, str]:
        if owner not in self._tokens:
            self._tokens[owner] = self.login(owner).json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[owner]}"}

    def clock(self, **body: Any) -> dict:
        return self.http.post("/__skymock/clock", json=body).json()

    def send(self, family: str, body: dict, engine: str = "sgp4", owner: str = "analyst"):
        return self.http.post(f"/{family}/{engine}/requests", json=body, headers=self.auth(owner))

    def result(self, family: str, request_id: str, fmt: str = "simple", engine: str = "sgp4", owner: str = "analyst"):
        return self.http.get(f"/{family}/{engine}/results/{request_id}/{fmt}", headers=self.auth(owner))

    def done(self, family: str, body: dict, fmt: str = "simple", engine: str = "sgp4") -> dict:
        """Send, let the job finish on the clock, and read the result."""
        sent = self.send(family, body, engine)
        assert sent.status_code == 202, sent.text
        self.clock(advance=60)
        answer = self.result(family, sent.json()["request_id"], fmt, engine)
        assert answer.status_code == 200, answer.text
        return answer.json()
