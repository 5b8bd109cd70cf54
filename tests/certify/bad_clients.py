"""Deliberately bad clients for the examiner's tests: each breaks one rule and keeps the others.

Run as ``python bad_clients.py BEHAVIOUR``; the mock's URL and credentials come from the
environment `skymock certify` gives, as for any client.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))   # the kit's root, for the OKAPI login's constants
from clients.okapi import AUDIENCE, CLIENT_ID  # noqa: E402

ENV = os.environ
EXAMPLES = Path(__file__).resolve().parents[2] / "conformance" / "examples"


def okapi_token() -> str:
    answer = requests.post(f"{ENV['OKAPI_BASE_URL']}/oauth/token", data={
        "grant_type": "password", "username": ENV["OKAPI_USERNAME"], "password": ENV["OKAPI_PASSWORD"],
        "client_id": CLIENT_ID, "audience": AUDIENCE}, timeout=10)
    answer.raise_for_status()
    return answer.json()["access_token"]


def token_per_request() -> None:
    """OKAPI: logs in before every request (and polls politely)."""
    base = ENV["OKAPI_BASE_URL"]
    tle = (EXAMPLES / "okapi" / "iss.tle").read_text().splitlines()
    body = {"orbit": {"type": "tle.txt", "content": "\n".join(tle[1:])},
            "ground_location": {"type": "ground_loc.json", "content": {"longitude": 10.6, "latitude": 52.3,
                                                                      "altitude": 0.05}},
            "time_window": {"type": "tw.json", "content": {"start": "2018-08-07T18:00:00.000Z",
                                                           "end": "2018-08-08T00:00:00.000Z"}}}
    sent = requests.post(f"{base}/predict-passes/sgp4/requests", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {okapi_token()}"})
    request_id = sent.json()["request_id"]
    for _ in range(20):
        time.sleep(1)
        look = requests.get(f"{base}/predict-passes/sgp4/results/{request_id}/simple", timeout=10,
                            headers={"Authorization": f"Bearer {okapi_token()}"})
        if look.status_code == 200:
            return


def dsn_get(path: str) -> requests.Response:
    return requests.get(f"{ENV['DSN_BASE_URL']}{path}", headers={"Authorization": f"Bearer {ENV['DSN_API_TOKEN']}"},
                        timeout=10)


def ignores_retry_after() -> None:
    """DSN: retries a 429/503 after a fixed 0.3 s, whatever Retry-After says (four tries at most)."""
    for _ in range(4):
        if dsn_get("/satellites").status_code == 200:
            return
        time.sleep(0.3)


def retries_forever() -> None:
    """DSN: backs off (0.2 s growing to 1 s) but never gives up."""
    wait = 0.2
    while dsn_get("/satellites").status_code != 200:
        time.sleep(wait)
        wait = min(1.0, wait * 1.5)


def tight_polling() -> None:
    """MMODA: submits an asynchronous product, then asks again every 50 ms."""
    query = {"instrument": "empty-async", "product_type": "numerical", "query_type": "Real", "p": "5",
             "token": ENV["MMODA_TOKEN"], "query_status": "new"}
    url = f"{ENV['MMODA_BASE_URL']}/run_analysis"
    answer = requests.get(url, params=query, timeout=10).json()
    while answer["query_status"] not in ("done", "failed"):
        time.sleep(0.05)
        query.update(query_status=answer["query_status"], job_id=answer["job_monitor"]["job_id"],
                     session_id=answer["session_id"])
        answer = requests.get(url, params=query, timeout=10).json()


def no_upload_pause() -> None:
    """NRAO ODS: uploads every log at once; renews a dead token correctly."""
    base = ENV["ODS_BASE_URL"]

    def login() -> str:
        return requests.post(f"{base}/token/", data={"grant_type": "client_credentials",
                                                     "client_id": ENV["ODS_CLIENT_ID"],
                                                     "client_secret": ENV["ODS_CLIENT_SECRET"]}, timeout=10).json()["token"]
    token = login()
    for path in sorted((EXAMPLES / "nrao-ods").glob("*.csv")):
        for _ in range(2):
            answer = requests.post(f"{base}/sat_avoidance_logs", headers={"Authorization": f"Bearer {token}"},
                                   files={"file": (path.name, path.read_bytes(), "text/csv")}, timeout=10)
            if answer.status_code != 403:
                break
            token = login()


BEHAVIOURS = {f.__name__.replace("_", "-"): f for f in (token_per_request, ignores_retry_after, retries_forever,
                                                         tight_polling, no_upload_pause)}

if __name__ == "__main__":
    BEHAVIOURS[sys.argv[1]]()
