"""What the MMODA tests share: the dispatcher's recorded answers and a sandbox with its demo users."""
from __future__ import annotations

from typing import Any

from sandbox import Mock

BASE = "/mmoda/dispatch-data"
#: a request the real dispatcher (1.3.6, debug mode) was recorded answering: oda_api's defaults for the
#: dummy instrument; it gave job id 9424935f19fa0808 and the keys below
DUMMY_JOB_ID = "9424935f19fa0808"
ANSWER_KEYS = {"query_status", "products", "exit_status", "job_monitor", "job_status", "session_id", "time_request"}
EXIT_KEYS = {"job_status", "status", "message", "error_message", "debug_message", "comment", "warning"}
ERROR_KEYS = {"error_message", "error", "cdci_data_analysis_version", "cdci_data_analysis_version_details",
              "oda_api_version", "installed_instruments", "debug_mode", "config"}
DUMMY = {"instrument": "empty", "product_type": "dummy", "query_type": "Dummy", "query_status": "new",
         "session_id": "SESSIONAAAAAAAAA", "api": "True", "oda_api_version": "1.3.5", "off_line": "False"}


class Dispatcher:
    """A fresh MMODA sandbox, its demo users' tokens, and the calls oda_api makes."""

    def __init__(self, mock: Mock) -> None:
        self.mock = mock
        self.http = mock.http
        mock.http.post("/__skymock/reset")
        self.users = {c["owner"]: c for c in mock.credentials()}

    def token(self, owner: str) -> str:
        return self.users[owner]["token"]

    def mint(self, **fields: Any) -> str:
        answer = self.http.post("/__skymock/credentials", json=fields)
        assert answer.status_code == 201, answer.text
        return answer.json()["token"]

    def pace(self, **pace: Any) -> None:
        self.http.post("/__skymock/jobs", json=pace)

    def run(self, **params: Any):
        return self.http.get(f"{BASE}/run_analysis", params={k: v for k, v in params.items() if v is not None})

    def get(self, path: str, **params: Any):
        return self.http.get(f"{BASE}/{path}", params=params, follow_redirects=False)
