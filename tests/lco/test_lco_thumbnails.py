"""Thumbnails are drawn from archive frames, through the archive's rules and the caller's own token."""
from __future__ import annotations

import io
from typing import Iterator

import pytest
from lcodata import EXAMPLE, NOW, Portal, changed
from PIL import Image
from sandbox import Mock

from mockserver.core.clock import parse_instant
from mockserver.core.service import Settings

SETTINGS = Settings(clock_start=parse_instant(NOW), frozen=True, completion_fraction=1.0)
RVB = changed(EXAMPLE, requests__0__molecules=[
    {"type": "EXPOSE", "instrument_name": "1M0-SCICAM-SINISTRO", "filter": name, "exposure_time": 30,
     "exposure_count": 1} for name in ("rp", "v", "b")])


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[Mock, Mock, Mock]]:
    yield Mock("lco-observe", SETTINGS), Mock("lco-archive", SETTINGS), Mock("lco-thumbnails", SETTINGS)


@pytest.fixture
def frame(services) -> tuple[Mock, Mock, dict, dict]:
    """A reduced frame of astro's red, visual and blue request, observed; and astro's archive token header."""
    portal_mock, archive_mock, thumbs = services
    portal = Portal(portal_mock.fresh(NOW))
    assert portal.post("/userrequests/", RVB).status_code == 201
    portal.mock.advance(14 * 86400)
    token = {c["username"]: c["token"] for c in archive_mock.credentials()}["astro"]
    auth = {"Authorization": f"Token {token}"}
    found = archive_mock.http.get("/frames/", params={"RLEVEL": "91", "OBSTYPE": "EXPOSE"}, headers=auth).json()
    return thumbs, archive_mock, found["results"][0], auth


def picture(thumbs: Mock, url: str) -> Image.Image:
    answer = thumbs.http.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    return Image.open(io.BytesIO(answer.content))


def test_a_thumbnail_is_a_jpeg_of_the_frame_at_the_size_asked(frame):
    thumbs, _, chosen, auth = frame
    answer = thumbs.http.get(f"/{chosen['id']}/", headers=auth)
    assert answer.status_code == 200 and answer.json()["propid"] == "LCO2026B-001"
    image = picture(thumbs, answer.json()["url"])
    assert image.size == (200, 200) and image.mode == "L"
    small = thumbs.http.get(f"/{chosen['id']}/", params={"width": "100", "height": "50", "label": "M42",
                                                        "median": "true", "quality": "30"}, headers=auth).json()
    assert picture(thumbs, small["url"]).size == (50, 50)
    by_name = thumbs.http.get(f"/{chosen['basename']}/", headers=auth).json()
    assert by_name["propid"] == "LCO2026B-001"


def test_colour_comes_from_the_requests_red_visual_and_blue_frames(frame):
    thumbs, _, chosen, auth = frame
    answer = thumbs.http.get(f"/{chosen['id']}/", params={"color": "true"}, headers=auth).json()
    assert picture(thumbs, answer["url"]).mode == "RGB"


def test_image_redirects_to_the_jpeg(frame):
    thumbs, _, chosen, auth = frame
    answer = thumbs.http.get(f"/{chosen['id']}/", params={"image": ""}, headers=auth, follow_redirects=False)
    assert answer.status_code == 302 and "/images/" in answer.headers["location"]


def test_the_archives_rules_and_refusals_pass_through(frame):
    thumbs, archive, chosen, auth = frame
    assert thumbs.http.get(f"/{chosen['id']}/").json() == {"message": "Not found"}         # proprietary
    bad = thumbs.http.get(f"/{chosen['id']}/", headers={"Authorization": "Token nope"})
    assert bad.status_code == 401 and bad.json() == {"message": "Got error response",
                                                     "response": {"detail": "Invalid token."}}
    bias = archive.http.get("/frames/", params={"OBSTYPE": "BIAS"}).json()["results"][0]
    assert thumbs.http.get(f"/{bias['id']}/").status_code == 200                      # public, drawable
    refused = thumbs.http.get(f"/{bias['id']}/", params={"color": "true"})
    assert refused.status_code == 400 and refused.json() == {"message": "Cannot generate thumbnail for OBSTYPE=BIAS"}
    assert thumbs.http.get(f"/{chosen['id']}/", params={"width": "0"}, headers=auth).json() == {
        "message": "width must be a whole number from 1 to 5000"}
    assert thumbs.http.get("/images/nothing.jpg").status_code == 404


def test_a_path_without_its_slash_is_redirected_with_its_odd_characters_encoded(services):
    thumbs = services[2]
    answer = thumbs.http.get("/caf\u00e9 \u00b5", follow_redirects=False)
    assert answer.status_code == 308 and answer.headers["location"].endswith("/caf%C3%A9%20%C2%B5/")


def test_a_token_the_archive_expired_or_revoked_is_refused_here_too(frame):
    thumbs, archive_mock, chosen, auth = frame
    assert thumbs.http.get(f"/{chosen['id']}/", headers=auth).status_code == 200
    token = auth["Authorization"].split()[1]
    assert archive_mock.http.post("/__skymock/tokens/expire", json={"token": token}).json() == {"expired": 1}
    refused = thumbs.http.get(f"/{chosen['id']}/", headers=auth)
    assert refused.status_code == 401
    assert refused.json() == {"message": "Got error response", "response": {"detail": "Invalid token."}}
    archive_mock.http.post("/__skymock/reset")     # the token lives again for the tests after this one
