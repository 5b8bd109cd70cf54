"""A small integrator's client for `skymock certify lco-observe`: observe M42 in the next two weeks.

It logs in with LCO_USERNAME and LCO_PASSWORD (LCO_PORTAL_URL, LCO_ARCHIVE_URL and
LCO_THUMBNAILS_URL point it elsewhere), picks the first of the user's proposals, validates
a request for two exposures of M42 and submits it. Run it as
`python -m conformance.examples.lco.submit_m42`.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta

from clients._http import run_command
from clients.lco import ARCHIVE_URL, PORTAL_URL, THUMBNAILS_URL, LcoClient

M42 = {"name": "M42", "type": "SIDEREAL", "ra": 83.8220792, "dec": -5.3911111, "epoch": 2000}


def userrequest(proposal: str) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    window = {"start": now.strftime("%Y-%m-%d %H:%M:%S"), "end": (now + timedelta(days=14)).strftime("%Y-%m-%d %H:%M:%S")}
    exposures = [{"type": "EXPOSE", "instrument_name": "1M0-SCICAM-SINISTRO", "filter": band, "exposure_time": 30,
                  "exposure_count": 1} for band in ("v", "b")]
    return {"group_id": "M42 in V and B", "proposal": proposal, "ipp_value": 1.0, "operator": "SINGLE",
            "observation_type": "NORMAL",
            "requests": [{"target": M42, "molecules": exposures, "windows": [window],
                          "location": {"telescope_class": "1m0"},
                          "constraints": {"max_airmass": 1.6, "min_lunar_distance": 30}}]}


def main() -> int:
    env = os.environ.get
    client = LcoClient(env("LCO_USERNAME"), env("LCO_PASSWORD"), env("LCO_TOKEN"),
                       portal_url=env("LCO_PORTAL_URL") or PORTAL_URL, archive_url=env("LCO_ARCHIVE_URL") or ARCHIVE_URL,
                       thumbnails_url=env("LCO_THUMBNAILS_URL") or THUMBNAILS_URL)
    proposal = client.proposals()[0]["id"]
    made = client.submit(userrequest(proposal))
    print(json.dumps({"id": made["id"], "state": made["state"], "proposal": proposal}))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
