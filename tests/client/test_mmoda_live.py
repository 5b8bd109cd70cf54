"""clients/mmoda.py against a live MMODA mock: products, polling, long queries, token renewal, the command."""
from __future__ import annotations

import base64
import json
import os
import pickle
from datetime import UTC, datetime
from typing import Iterator
from urllib.parse import parse_qs

import jwt
import numpy as np
import pytest
from astropy.io import fits
from sandbox import Control

from clients import mmoda as cli
from clients._http import ApiError, ApiSession, RetryPolicy
from clients.mmoda import JobFailed, MmodaClient, Product, ProductError, TokenExpired
from mockserver.core.clock import parse_instant
from mockserver.core.jobs import JobPace
from mockserver.core.service import Settings
from mockserver.server import LiveServer

NOW = "2026-03-02T12:00:00Z"
FIELD = dict(RA=275.09142677, DEC=7.18535523, T1="58193.455", T2="58246.892", T_format="mjd", radius=8,
             osa_version="OSA11.2")
ACS = dict(RA=257.815417, DEC=-41.593417, T1="58195.455", T2="58195.555", T_format="mjd", time_bin=1)


class FakeTime:
    """Monotonic time and sleeps that do not wait; the wall clock stands at the mock's frozen instant."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.wall = parse_instant(NOW).timestamp()
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.wall += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer("mmoda", Settings(clock_start=parse_instant(NOW), frozen=True,
                                      job_pace=JobPace(seconds=None, polls=2))) as live:
        yield live


def mint(mock: Control, roles: list[str], lifetime: float) -> str:
    return mock.call("POST", "/credentials", json={"roles": roles, "lifetime": lifetime})["token"]


def client_for(server, token: str | None, clock: FakeTime | None = None, **options) -> MmodaClient:
    clock = clock or FakeTime()
    session = ApiSession(server.url, sleep=clock.sleep, monotonic=clock.monotonic,
                         retry=RetryPolicy(backoff_base=0.01, wall_clock=lambda: clock.wall))
    return MmodaClient(server.url, token, session=session, **options)


def analyses(mock: Control) -> list[dict]:
    """The run_analysis requests, with their query parameters parsed."""
    return [{**e, "query": {k: v[0] for k, v in parse_qs(e["query"]).items()}}
            for e in mock.journal() if e["path"].endswith("/run_analysis")]


def on_the_wall_clock(mock: Control) -> None:
    """The mock's clock at the real time, for the command, which reads token expiries on the machine's clock."""
    mock.call("POST", "/clock", json={"set": datetime.now(UTC).isoformat(), "frozen": True})


def test_a_light_curve_comes_back_at_once_with_its_columns_and_saves_as_fits(server, mock, tmp_path):
    clock = FakeTime()
    result = client_for(server, mock.token_of("observer"), clock).run("spi_acs", "spi_acs_lc", **ACS)
    assert clock.sleeps == [] and len(analyses(mock)) == 1            # spi_acs answers in one request
    curve = result.products[0].unit("RATE")
    assert set(curve.data.dtype.names) == {"TIME", "RATE", "ERROR"} and len(curve.data) == 8640
    [path] = result.save(tmp_path)
    with fits.open(path) as hdus:
        assert hdus[1].name == "RATE" and hdus[1].columns["RATE"].unit == "count/s"
        assert np.allclose(hdus[1].data["RATE"], curve.data["RATE"])


def test_an_image_is_polled_to_done_and_its_catalog_feeds_the_spectra(server, mock, tmp_path):
    clock, seen = FakeTime(), []
    client = client_for(server, mock.token_of("observer"), clock)
    image = client.run("isgri", "isgri_image", max_pointings=10, E1_keV=30, E2_keV=80, **FIELD,
                       progress=lambda answer: seen.append(answer["query_status"]))
    assert seen == ["submitted", "progress", "progress", "done"]
    assert clock.sleeps == [1.0, 1.0, 1.5]                            # waits grow between looks
    sent = [e["query"] for e in analyses(mock)]
    assert [q["query_status"] for q in sent] == ["new", "submitted", "progress", "progress"]
    assert {q.get("job_id") for q in sent[1:]} == {image.job_id}
    assert image.products[0].unit("SIGNIFICANCE").header["CTYPE1"] == "RA---TAN"
    assert "MAXI J1820+070" in [row["src_names"] for row in image.catalog_rows()]

    spectra = client.run("isgri", "isgri_spectrum", max_pointings=10, selected_catalog=image.catalog, **FIELD)
    assert [p.meta_data["product"] for p in spectra.products] == ["isgri_spectrum", "isgri_arf", "isgri_rmf"]
    paths = spectra.save(tmp_path)
    with fits.open(paths[0]) as hdus:
        assert hdus[1].name == "ISGR-EVTS-SPE" and hdus[1].header["NAME"] == "MAXI J1820+070"


def test_a_long_query_is_sent_as_a_form_post(server, mock):
    windows = [f"{revolution:04d}00100010.001" for revolution in range(1800, 1845)]
    client = client_for(server, mock.token_of("observer"))
    client.submit("isgri", "isgri_image", scw_list=windows, **FIELD)
    [entry] = analyses(mock)
    assert entry["method"] == "POST"


def test_a_failed_job_raises_with_the_dispatchers_message(server, mock):
    with pytest.raises(JobFailed) as failed:
        client_for(server, None).run("empty-semi-async", "numerical", p=-1)
    assert failed.value.error_message == "p = -1 fails by design" and failed.value.job_id


def test_a_missing_role_is_an_error_naming_it(server, mock):
    with pytest.raises(ApiError) as refused:
        client_for(server, mock.token_of("guest")).run("empty", "numerical", p=5)
    assert refused.value.status == 403 and "general" in refused.value.message


def test_a_renewable_token_is_renewed_before_it_expires(server, mock):
    token = mint(mock, ["general", "refresh-tokens"], lifetime=600)
    renewed = []
    client = client_for(server, token, on_token=renewed.append)
    client.run("empty", "dummy")
    [fresh] = renewed
    assert jwt.decode(fresh, options={"verify_signature": False})["exp"] > \
        jwt.decode(token, options={"verify_signature": False})["exp"] + 86_400
    refreshes = [e for e in mock.journal() if e["path"].endswith("/refresh_token")]
    assert len(refreshes) == 1 and refreshes[0]["status"] == 200
    assert analyses(mock)[0]["query"]["token"] == fresh
    client.run("empty", "dummy")                                    # the renewed token lasts: no second renewal
    assert len([e for e in mock.journal() if e["path"].endswith("/refresh_token")]) == 1


def test_a_token_without_the_role_is_used_until_it_expires_then_reported(server, mock):
    token = mint(mock, ["general"], lifetime=600)
    clock = FakeTime()
    client = client_for(server, token, clock)
    client.run("empty", "dummy")
    assert not [e for e in mock.journal() if e["path"].endswith("/refresh_token")]
    clock.wall += 601
    with pytest.raises(TokenExpired, match="cannot be renewed"):
        client.run("empty", "dummy")
    assert len(analyses(mock)) == 1                                  # nothing sent with the dead token


def test_pickles_holding_anything_but_arrays_are_refused():
    evil = base64.b64encode(pickle.dumps(os.system)).decode()
    with pytest.raises(ProductError, match="refusing to unpickle"):
        Product.decode({"data_unit_list": [{"binarys": evil, "name": "X", "hdu_type": "image"}]})
    sneaky = base64.b64encode(pickle.dumps(print)).decode()
    with pytest.raises(ProductError, match="builtins.print"):
        Product.decode({"data_unit_list": [{"binarys": sneaky, "name": "X", "hdu_type": "image"}]})


def test_products_sent_as_json_rows_decode_too():
    product = Product.decode({"name": "lc", "meta_data": json.dumps({"src_name": "Crab"}), "data_unit_list": [
        {"data": "[[58000.0, 1.0, 0.1], [58000.5, 2.0, 0.1]]", "binarys": None, "name": "LC", "hdu_type": "bintable",
         "dt": "(numpy.record, [('TIME', '<f8'), ('RATE', '<f8'), ('ERROR', '<f8')])", "header": {},
         "units_dict": {"TIME": "d"}}]})
    assert product.label == "Crab" and list(product.unit("LC").data["RATE"]) == [1.0, 2.0]


def test_the_command_lists_and_saves_products(server, mock, tmp_path, capsys):
    on_the_wall_clock(mock)
    token = mint(mock, ["general"], lifetime=86_400)
    code = cli.main(["--base-url", server.url, "--token", token, "--env-file", "", "run", "--instrument", "spi_acs",
                     "--product", "spi_acs_lc", *[f"-p{k}={v}" for k, v in ACS.items()], "-pcolour=blue",
                     "--save", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "argument colour is not used" in out and "RATE[8640]" in out
    assert len(list(tmp_path.glob("*.fits"))) == 1


def test_the_command_reports_a_refusal_and_renews_a_token_file(server, mock, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ODA_TOKEN", raising=False)
    monkeypatch.delenv("MMODA_TOKEN", raising=False)
    on_the_wall_clock(mock)
    (tmp_path / ".oda-token").write_text(mint(mock, [], lifetime=86_400))
    args = ["--base-url", server.url, "--env-file", ""]
    assert cli.main([*args, "run", "--instrument", "empty", "--product", "numerical", "-pp=5", "--quiet"]) == 1
    assert "lacking all of the following roles:\n - general" in capsys.readouterr().err

    assert cli.main([*args, "refresh"]) == 1                         # the guest may not renew tokens
    assert "refresh-tokens" in capsys.readouterr().err
    renewable = mint(mock, ["general", "refresh-tokens"], lifetime=86_400)
    (tmp_path / ".oda-token").write_text(renewable)
    assert cli.main([*args, "refresh"]) == 0
    assert "written to .oda-token" in capsys.readouterr().err
    assert (tmp_path / ".oda-token").read_text().strip() != renewable


def test_the_refresh_command_prints_a_token_it_cannot_keep(server, mock, capsys, monkeypatch):
    on_the_wall_clock(mock)
    monkeypatch.setenv("MMODA_TOKEN", mint(mock, ["general", "refresh-tokens"], lifetime=86_400))
    assert cli.main(["--base-url", server.url, "--env-file", "", "refresh", "--interval", "3600"]) == 0
    printed = capsys.readouterr().out.strip()
    assert cli.token_claims(printed)["exp"] == cli.token_claims(os.environ["MMODA_TOKEN"])["exp"] + 3600
