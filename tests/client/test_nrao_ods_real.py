"""The same client calls against the mock and, with ``--skymock-target=real`` (or ``both``), the real
ods.nrao.edu: credentials from SKYMOCK_NRAO_ODS_CLIENT_ID and SKYMOCK_NRAO_ODS_CLIENT_SECRET (an
NRAO-issued client). Uploads write to the production service, so against it they also need
ODS_ALLOW_UPLOADS=1."""
from __future__ import annotations

import os

import pytest

from clients.nrao_ods import OdsClient
from mockserver.testing import SkymockService
from odsdata import TLE_TEXT

REQUIRED = {"site_id", "site_lat_deg", "site_lon_deg", "site_el_m", "src_ra_j2000_deg", "src_dec_j2000_deg",
            "src_start_utc", "src_end_utc", "freq_lower_hz", "freq_upper_hz"}

pytestmark = pytest.mark.skymock_real


@pytest.fixture
def client(skymock_nrao_ods: SkymockService) -> OdsClient:
    login = skymock_nrao_ods.credential
    return OdsClient(skymock_nrao_ods.url, login["client_id"], login["client_secret"], progress=False)


def test_ods_data_records_have_the_required_fields(client):
    records = client.get_ods_data()
    assert isinstance(records, list)
    for record in records:
        assert REQUIRED <= set(record)


def test_tle_upload_is_acknowledged_with_a_count(skymock_nrao_ods, client, tmp_path):
    if skymock_nrao_ods.target == "real" and os.environ.get("ODS_ALLOW_UPLOADS") != "1":
        pytest.skip("real NRAO ODS uploads write to production: set ODS_ALLOW_UPLOADS=1 to run them")
    path = tmp_path / "skymock-check.txt"
    path.write_text(TLE_TEXT)
    assert int(client.upload_tle(path)["ingested_records"]) == 2
