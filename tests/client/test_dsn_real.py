"""The same DSN client calls against the mock and, with ``--skymock-target=real`` (or ``both``), the
real dsn.systems orbapi: a DSN-issued token with scope passes:read in SKYMOCK_DSN_TOKEN
(SKYMOCK_DSN_URL overrides the address). Read-only calls only: reference data and a pass search."""
from __future__ import annotations

import pytest

from clients.dsn import DsnClient
from mockserver.testing import SkymockService

ISS = 25544

pytestmark = pytest.mark.skymock_real


@pytest.fixture
def client(skymock_dsn: SkymockService) -> DsnClient:
    return DsnClient(skymock_dsn.url, skymock_dsn.credential["token"])


def test_satellite_catalog_pages_have_a_total(client):
    page = client.list_satellites(limit=5)
    assert 0 < len(page["data"]) <= 5 and page["total"] >= len(page["data"])
    for satellite in page["data"]:
        assert {"norad_cat_id", "name", "status"} <= set(satellite)
    assert ISS in {s["norad_cat_id"] for s in client.find_satellites("ISS")["data"]}


def test_ground_stations_list_and_status(client):
    stations = list(client.iter_pages(client.list_stations))
    assert stations and all({"id", "description"} <= set(s) for s in stations)
    status = client.get_station_status(stations[0]["id"])
    assert status["groundStation"]["id"] == stations[0]["id"] and isinstance(status["online"], bool)


def test_iss_pass_search_over_one_station(client):
    station = next(s for s in client.iter_pages(client.list_stations) if s.get("latitude") is not None)
    result = client.search_passes(ISS, days=2, ground_station_ids=[station["id"]], min_elevation=10)
    passes = result["passes"]
    assert result["satellite"]["noradId"] == ISS and result["total"] == len(passes)
    assert [p["aos"] for p in passes] == sorted(p["aos"] for p in passes)
    for p in passes:
        assert p["groundStationId"] == station["id"] and p["max_elevation"] >= 10
        times = [point["time"] for point in p["polar_track"]]
        assert times == sorted(times) and p["rise_time"] <= times[0] and times[-1] <= p["set_time"]
