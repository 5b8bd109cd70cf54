"""clients/lco.py against live LCO mocks sharing one observatory: validate-first submission, waiting,
pages, frame downloads and thumbnails, and the command."""
from __future__ import annotations

import json
from typing import Iterator

import pytest
from astropy.io import fits
from lcodata import EXAMPLE, NOW, changed
from PIL import Image
from sandbox import Control

from clients import lco as cli
from clients.lco import LcoClient, RequestInvalid, flatten
from mockserver.core.clock import parse_instant
from mockserver.core.service import Settings
from mockserver.server import LiveServer

SETTINGS = Settings(clock_start=parse_instant(NOW), frozen=True, completion_fraction=1.0)


class FakeTime:
    def __init__(self, control: Control) -> None:
        self.control, self.now, self.sleeps = control, 0.0, []

    def sleep(self, seconds: float) -> None:          # waiting moves the mock's clock too
        self.sleeps.append(seconds)
        self.now += seconds
        self.control.advance(seconds)

    def monotonic(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, LiveServer]]:
    with LiveServer("lco-observe", SETTINGS) as portal, LiveServer("lco-archive", SETTINGS) as archive, \
            LiveServer("lco-thumbnails", SETTINGS) as thumbnails:
        yield {"portal": portal, "archive": archive, "thumbnails": thumbnails}


@pytest.fixture
def lco(servers) -> tuple[LcoClient, Control, FakeTime]:
    control = Control(servers["portal"].root)
    control.call("POST", "/reset")
    astro = next(c for c in control.call("GET", "/credentials")["credentials"] if c["username"] == "astro")
    clock = FakeTime(control)
    client = LcoClient("astro", astro["password"], portal_url=servers["portal"].url,
                       archive_url=servers["archive"].url, thumbnails_url=servers["thumbnails"].url,
                       sleep=clock.sleep, monotonic=clock.monotonic)
    return client, control, clock


def test_an_invalid_userrequest_is_reported_place_by_place_and_nothing_is_stored(lco):
    client, control, _ = lco
    bad = changed(EXAMPLE, requests__0__molecules__0__filter="notafilter", ipp_value=0.1)
    with pytest.raises(RequestInvalid) as invalid:
        client.submit(bad)
    assert "ipp_value: Ensure this value is greater than or equal to 0.5." in invalid.value.problems
    assert any(p.startswith("requests[0].molecules[0].filter: Invalid filter notafilter") for p in invalid.value.problems)
    assert [e["path"] for e in control.journal() if e["method"] == "POST"] == [
        "/api/api-token-auth/", "/api/userrequests/validate/"]


def test_submit_wait_then_find_download_and_draw_the_frames(lco, tmp_path):
    client, control, clock = lco
    made = client.submit(EXAMPLE)
    seen = []
    final = client.wait(made["id"], timeout=30 * 86400, interval=3600, max_interval=6 * 3600,
                        progress=lambda ur: seen.append(ur["state"]))
    assert final["state"] == "COMPLETED" and seen[0] == "PENDING" and seen[-1] == "COMPLETED"
    assert clock.sleeps[0] == 3600 and max(clock.sleeps) <= 6 * 3600
    frames = list(client.frames(REQNUM=made["requests"][0]["id"]))
    assert len(frames) == 6
    path = client.download(frames[0], tmp_path)
    with fits.open(path) as hdus:
        assert hdus[1].header["OBJECT"] == "m42"
    picture = client.save_thumbnail(frames[0]["id"], tmp_path / "m42.jpg", width=120, height=120, label="M42")
    assert Image.open(picture).size == (120, 120)
    assert client.proposals()[0]["id"] == "LCO2026B-001"


def test_pages_are_followed_to_the_end(lco):
    client, _, _ = lco
    for title in "abc":
        client.submit(changed(EXAMPLE, group_id=title), validate_first=False)
    found = list(client.pages(client.portal, "userrequests/", {"limit": 1}))
    assert [u["group_id"] for u in found] == ["c", "b", "a"]


def test_a_portal_token_alone_reaches_the_archive_through_the_profiles_bearer_token(servers, lco):
    _, control, _ = lco
    astro = next(c for c in control.call("GET", "/credentials")["credentials"] if c["username"] == "astro")
    client = LcoClient(token=astro["token"], portal_url=servers["portal"].url, archive_url=servers["archive"].url,
                       thumbnails_url=servers["thumbnails"].url)
    assert list(client.frames()) == []                          # nothing observed yet, but the token works
    assert client.archive.auth.__class__.__name__ == "BearerToken"


def test_flatten_names_the_place_of_each_message():
    errors = {"requests": [{"molecules": [{}, {"filter": ["bad"]}], "non_field_errors": ["never visible"]}],
              "non_field_errors": ["not a member"]}
    assert list(flatten(errors)) == ["requests[0].molecules[1].filter: bad", "requests[0]: never visible",
                                     "not a member"]


def test_the_command_submits_and_lists_frames(servers, lco, tmp_path, capsys, monkeypatch):
    _, control, _ = lco
    astro = next(c for c in control.call("GET", "/credentials")["credentials"] if c["username"] == "astro")
    for name, server in servers.items():
        monkeypatch.setenv(f"LCO_{name.upper()}_URL", server.url)
    monkeypatch.setenv("LCO_USERNAME", "astro")
    monkeypatch.setenv("LCO_PASSWORD", astro["password"])
    request = tmp_path / "request.json"
    request.write_text(json.dumps(EXAMPLE))
    assert cli.main(["--env-file", "", "submit", str(request)]) == 0
    submitted = capsys.readouterr().out
    assert "PENDING" in submitted
    request_id = submitted.split("requests ")[1].split(",")[0].strip()
    control.advance(14 * 86400)
    assert cli.main(["--env-file", "", "frames", "--reqnum", request_id, "--rlevel", "91",
                     "--download", str(tmp_path / "frames")]) == 0
    out = capsys.readouterr().out
    assert "2 frame(s)" in out and len(list((tmp_path / "frames").glob("*.fits.fz"))) == 2
    request.write_text(json.dumps(changed(EXAMPLE, ipp_value=0.1)))
    assert cli.main(["--env-file", "", "submit", str(request)]) == 1
    assert "ipp_value: Ensure this value" in capsys.readouterr().err
