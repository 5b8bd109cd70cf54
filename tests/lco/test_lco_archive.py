"""The archive holds the frames of the requests the portal's network observed, under the archive's rules."""
from __future__ import annotations

import io
from typing import Iterator

import pytest
from astropy.io import fits
from lcodata import EXAMPLE, NOW, Portal, changed
from sandbox import Mock

from mockserver.core.clock import parse_instant
from mockserver.core.service import Settings

SETTINGS = Settings(clock_start=parse_instant(NOW), frozen=True, completion_fraction=1.0)


class Archive:
    def __init__(self, mock: Mock) -> None:
        self.http = mock.http
        self.users = {c["username"]: c for c in mock.credentials()}

    def get(self, path: str, username: str | None = "astro", **params):
        headers = {"Authorization": f"Token {self.users[username]['token']}"} if username else {}
        return self.http.get(path, params=params, headers=headers, follow_redirects=False)


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[Mock, Mock]]:
    yield Mock("lco-observe", SETTINGS), Mock("lco-archive", SETTINGS)


@pytest.fixture
def observed(services) -> tuple[Portal, Archive, dict]:
    """astro's example request, observed: the shared clock moved past its window."""
    portal_mock, archive_mock = services
    portal = Portal(portal_mock.fresh(NOW))
    made = portal.post("/userrequests/", EXAMPLE).json()
    portal.mock.advance(14 * 86400)
    return portal, Archive(archive_mock), made


def test_an_observed_request_yields_raw_quicklook_and_reduced_frames_of_each_exposure(observed):
    portal, archive, made = observed
    request = portal.get(f"/requests/{made['requests'][0]['id']}/").json()
    frames = archive.get("/frames/", REQNUM=str(request["id"])).json()
    assert frames["count"] == 6                                  # two exposures, three reduction levels
    levels = sorted(f["RLEVEL"] for f in frames["results"])
    assert levels == [0, 0, 11, 11, 91, 91]
    [block] = portal.get(f"/requests/{request['id']}/blocks/").json()
    for frame in frames["results"]:
        assert (frame["SITEID"], frame["TELID"], frame["PROPID"], frame["OBJECT"]) == \
            (block["site"], block["telescope"], "LCO2026B-001", "m42")
        assert block["start"] <= frame["DATE_OBS"] <= request["completed"]
        assert frame["EXPTIME"] == "30.000000" and frame["FILTER"] in ("V", "B")
        assert frame["L1PUBDAT"] > frame["DATE_OBS"] and frame["BLKUID"] == block["id"]
        assert frame["basename"].endswith(("-e00", "-e11", "-e91")) and frame["filename"].endswith(".fits.fz")


def test_proprietary_frames_are_the_members_own_and_calibrations_are_public(observed):
    _, archive, _ = observed
    mine = archive.get("/frames/").json()["count"]
    anyone = archive.get("/frames/", username=None).json()
    assert mine == 6 + anyone["count"] and {f["OBSTYPE"] for f in anyone["results"]} <= {"BIAS", "DARK", "SKYFLAT"}
    assert archive.get("/frames/", "bob", PROPID="LCO2026B-001").json()["count"] == 0
    science = archive.get("/frames/", OBSTYPE="EXPOSE").json()["results"][0]
    assert archive.get(f"/frames/{science['id']}/", username=None).json() == {"detail": "Not found."}
    assert archive.get("/frames/", public="false").json()["count"] == 6


def test_related_frames_are_the_other_levels_and_the_nights_calibrations(observed):
    _, archive, _ = observed
    reduced = archive.get("/frames/", RLEVEL="91", OBSTYPE="EXPOSE", ordering="id").json()["results"][0]
    related = archive.get(f"/frames/{reduced['id']}/related/").json()
    kinds = sorted((f["OBSTYPE"], f["RLEVEL"]) for f in related)
    assert kinds == [("BIAS", 91), ("DARK", 91), ("EXPOSE", 0), ("EXPOSE", 11), ("SKYFLAT", 91)]
    flat = next(f for f in related if f["OBSTYPE"] == "SKYFLAT")
    assert flat["FILTER"] == reduced["FILTER"] and flat["PROPID"] == "calibrate"


def test_search_by_sky_position_time_text_and_order(observed):
    _, archive, _ = observed
    assert archive.get("/frames/", covers="POINT(83.822 -5.391)").json()["count"] == 6
    assert archive.get("/frames/", covers="POINT(10 10)").json()["count"] == 0
    near = "POLYGON((83.7 -5.5, 83.7 -5.3, 83.9 -5.3, 83.9 -5.5, 83.7 -5.5))"
    assert archive.get("/frames/", intersects=near).json()["count"] == 6
    assert archive.get("/frames/", covers="POINT(nope)").status_code == 400
    assert archive.get("/frames/", OBJECT="M4").json()["count"] == 6
    assert archive.get("/frames/", start="2026-11-20", end="2026-12-06").json()["count"] >= 6
    assert archive.get("/frames/", start="2026-11-20T00:00:00Z").json() == {"start": ["Enter a valid date/time."]}
    assert archive.get("/frames/", RLEVEL="x").json() == {"RLEVEL": ["Enter a number."]}
    dates = [f["DATE_OBS"] for f in archive.get("/frames/", OBSTYPE="EXPOSE").json()["results"]]
    assert dates == sorted(dates, reverse=True)
    page = archive.get("/frames/", limit="2").json()
    assert page["next"].startswith("http://testserver/frames/?limit=2&offset=2")


def test_headers_aggregate_and_the_frame_file(observed):
    _, archive, _ = observed
    frame = archive.get("/frames/", RLEVEL="91", OBSTYPE="EXPOSE").json()["results"][0]
    headers = archive.get(f"/frames/{frame['id']}/headers/").json()["data"]
    assert headers["DATE_OBS"].startswith(frame["DATE_OBS"][:19]) and "DAY_OBS" in headers and "MJD_OBS" in headers
    assert headers["REQNUM"] == f"{frame['REQNUM']:010d}" and headers["OBJECT"] == "m42"
    totals = archive.get("/frames/aggregate/", username=None).json()
    assert totals == archive.get("/aggregate/", username=None).json()
    assert "calibrate" in totals["proposals"] and "LCO2026B-001" not in totals["proposals"]
    download = archive.http.get(frame["url"])
    assert download.status_code == 200
    with fits.open(io.BytesIO(download.content)) as hdus:
        science = hdus["SCI"]
        assert science.data.shape == (64, 64) and science.header["OBJECT"] == "m42"
        assert science.data[32, 32] > 5 * science.data[2, 2]          # the target at the centre
    assert archive.http.get(frame["url"].split("?")[0]).status_code == 404   # an unsigned link is not found


def test_tokens_of_the_archive_and_bearer_tokens_of_the_portal(observed):
    portal, archive, _ = observed
    astro = archive.users["astro"]
    login = archive.http.post("/api-token-auth/", data={"username": "astro", "password": astro["password"]})
    assert login.json() == {"token": astro["token"]} and astro["token"] != portal.users["astro"]["token"]
    bearer = portal.get("/profile/").json()["tokens"]["archive"]
    profile = archive.http.get("/profile/", headers={"Authorization": f"Bearer {bearer}"}).json()
    assert profile == {"username": "astro", "profile": {"proposals": ["LCO2026B-001", "KEY2026B-002", "LCO2026B-003"]}}
    assert archive.get("/profile/", username=None).json() == {"username": "", "profile": {}}
    bad = archive.http.get("/frames/", headers={"Authorization": "Token nope"})
    assert bad.status_code == 401 and bad.json() == {"detail": "Invalid token."}
    assert bad.headers["www-authenticate"] == "Token"
    stranger = archive.http.get("/frames/", headers={"Authorization": "Bearer nope"})
    assert stranger.status_code == 401 and stranger.json() == {"detail": "No Such User"}


def test_a_spectrum_gives_a_raw_frame_and_a_tarball(services):
    portal_mock, archive_mock = services
    portal = Portal(portal_mock.fresh(NOW))
    floyds = changed(EXAMPLE, requests__0__molecules=[{"type": "SPECTRUM", "instrument_name": "2M0-FLOYDS-SCICAM",
                                                       "exposure_time": 30, "exposure_count": 1,
                                                       "spectra_slit": "slit_2.0as"}],
                     requests__0__location={"telescope_class": "2m0"})
    assert portal.post("/userrequests/", floyds).status_code == 201
    portal.mock.advance(14 * 86400)
    archive = Archive(archive_mock)
    frames = archive.get("/frames/", OBSTYPE="SPECTRUM").json()["results"]
    assert sorted((f["RLEVEL"], f["filename"][-7:]) for f in frames) == [(0, "fits.fz"), (90, ".tar.gz")]
    assert all(f["FILTER"] == "slit_2.0as" and f["SITEID"] in ("ogg", "coj") for f in frames)
