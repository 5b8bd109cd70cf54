"""Sample NRAO ODS inputs and an in-process ODS session for the tests."""
from __future__ import annotations

from datetime import datetime, timezone

TLE_TEXT = (
    "ISS (ZARYA)\n"
    "1 25544U 98067A   26034.04958920  .00010142  00000+0  19604-3 0  9992\n"
    "2 25544  51.6308 243.5964 0011016  59.0626 301.1443 15.48354905550960\n"
    "ISS (NAUKA)\n"
    "1 49044U 21066A   26034.04958920  .00010142  00000+0  19604-3 0  9998\n"
    "2 49044  51.6308 243.5964 0011016  59.0626 301.1443 15.48354905230449\n"
)
HEADER = "utc_time,freq_lower_mhz,freq_upper_mhz,avoidance_type,angular_threshold,sat_id\n"
LOG_NAME = "VLA_Logs_2025-08-30_to_2025-08-31.csv"
START = datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)


def log_rows(count: int, start_second: int = 0) -> str:
    return "".join(f"2025-08-30 00:{(start_second + i) // 60 % 60:02d}:{(start_second + i) % 60:02d},"
                   f"10700,12700,{'outer' if i % 2 else 'inner'},3.5,{44713 + i}\n" for i in range(count))


class Ods:
    """The ODS mock in-process, logged in as a chosen demo client."""

    def __init__(self, mock, client_index: int = 0) -> None:
        self.mock = mock
        self.http = mock.http
        self.credential = mock.credentials()[client_index]
        self.token = self.login()

    def login(self, **overrides) -> str:
        form = {"grant_type": "client_credentials", "client_id": self.credential["client_id"],
                "client_secret": self.credential["client_secret"], **overrides}
        answer = self.http.post("/token/", data=form)
        assert answer.status_code == 200, answer.text
        return answer.json()["token"]

    def auth(self, token: str | None = None) -> dict:
        return {"Authorization": f"Bearer {token or self.token}"}

    def feed(self, token: str | None = None):
        return self.http.get("/ods_data/", headers=self.auth(token))

    def upload_log(self, text: str | bytes, name: str = LOG_NAME, token: str | None = None):
        return self.http.post("/sat_avoidance_logs", files={"file": (name, text, "text/csv")},
                              headers=self.auth(token))

    def upload_tle(self, text: str | bytes = TLE_TEXT, name: str = "tle.txt", token: str | None = None):
        return self.http.post("/tle_data", files={"tle_file": (name, text, "text/plain")},
                              headers=self.auth(token))
