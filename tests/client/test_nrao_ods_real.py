"""The same client functions against a target: the mock always, the real ods.nrao.edu when
credentials are in the environment (ODS_CLIENT_ID, ODS_CLIENT_SECRET; uploads also need
ODS_ALLOW_UPLOADS=1, because they write to the production service)."""
from __future__ import annotations

import os

import pytest
import requests

from clients.nrao_ods import OdsClient
from odsdata import TLE_TEXT

REQUIRED = {"site_id", "site_lat_deg", "site_lon_deg", "site_el_m", "src_ra_j2000_deg", "src_dec_j2000_deg",
            "src_start_utc", "src_end_utc", "freq_lower_hz", "freq_upper_hz"}


@pytest.fixture(params=["mock", "real"])
def target(request, live_ods) -> tuple[str, OdsClient]:
    if request.param == "mock":
        requests.post(f"{live_ods.root}/__skymock/reset", timeout=5)
        credential = requests.get(f"{live_ods.root}/__skymock/credentials", timeout=5).json()["credentials"][0]
        return "mock", OdsClient(live_ods.url, credential["client_id"], credential["client_secret"], progress=False)
    if not (os.environ.get("ODS_CLIENT_ID") and os.environ.get("ODS_CLIENT_SECRET")):
        pytest.skip("real NRAO ODS: set ODS_CLIENT_ID and ODS_CLIENT_SECRET (an NRAO-issued client) to run")
    return "real", OdsClient.from_settings(env_file=None, progress=False)


def test_ods_data_records_have_the_required_fields(target):
    _, client = target
    records = client.get_ods_data()
    assert isinstance(records, list)
    for record in records:
        assert REQUIRED <= set(record)


def test_tle_upload_is_acknowledged_with_a_count(target, tmp_path):
    kind, client = target
    if kind == "real" and os.environ.get("ODS_ALLOW_UPLOADS") != "1":
        pytest.skip("real NRAO ODS uploads write to production: set ODS_ALLOW_UPLOADS=1 to run them")
    path = tmp_path / "skymock-check.txt"
    path.write_text(TLE_TEXT)
    assert int(client.upload_tle(path)["ingested_records"]) == 2
