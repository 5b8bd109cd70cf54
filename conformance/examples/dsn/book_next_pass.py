"""A small integrator's client for `skymock certify dsn`: book the ISS's next pass over one station.

It reads DSN_BASE_URL and DSN_API_TOKEN like the reference client does, searches the passes
of the next day and books the first. Run it as `python -m conformance.examples.dsn.book_next_pass`.
"""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

from clients._http import run_command
from clients.dsn import DsnClient

ISS, STATION = 25544, "1"


def main() -> int:
    client = DsnClient.from_settings()
    found = client.search_passes(ISS, days=1, ground_station_ids=[STATION])
    soon = datetime.now(UTC) + timedelta(minutes=5)      # a slot must start in the future
    first = next(p for p in found["passes"] if datetime.fromisoformat(p["aos"].replace("Z", "+00:00")) > soon)
    booking = client.create_booking(ISS, "data", [(first["aos"], first["los"], first["groundStationId"])])
    print(json.dumps(booking, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
