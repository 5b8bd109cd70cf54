"""The published oda_api, unmodified, against a live MMODA sandbox: the token notebook's whole flow."""
from __future__ import annotations

import os
from typing import Iterator

import jwt
import pytest
from oda_api.api import DispatcherAPI, RemoteException, Unauthorized, UnexpectedDispatcherStatusCode
from oda_api.token import discover_token

from mockserver.core.jobs import JobPace
from mockserver.core.service import Settings
from mockserver.server import LiveServer

IMAGE = dict(instrument="isgri", product="isgri_image", product_type="Real", osa_version="OSA11.2", radius=8,
             RA=275.09142677, DEC=7.18535523, T1=58193.455, T2=58246.892, T_format="mjd", max_pointings=10,
             E1_keV=30.0, E2_keV=80.0)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer("mmoda", Settings(job_pace=JobPace(seconds=None, polls=None))) as live:
        yield live


@pytest.fixture
def disp(server, mock, tmp_path, monkeypatch) -> DispatcherAPI:
    monkeypatch.chdir(tmp_path)               # oda_api writes tokens and products in the working directory
    monkeypatch.delenv("ODA_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return DispatcherAPI(url=server.url.rstrip("/"))


def test_an_spi_acs_light_curve_as_the_notebook_asks_for_it(disp, mock):
    collection = disp.get_product(src_name="4U 1700-377", RA="257.815417", DEC="-41.593417", T1="58195.455",
                                  T2="58195.555", T_format="mjd", instrument="spi_acs", product_type="Real",
                                  product="spi_acs_lc", time_bin="1", user_catalog_file=None,
                                  token=mock.token_of("observer"), silent=True)
    curve = collection._p_list[0]
    assert collection._n_list == ["spi_acs_lc_0_query"]
    data = curve.data_unit[1].data
    assert len(data) == 8640 and set(data.dtype.names) == {"TIME", "RATE", "ERROR"}
    assert 70_000 < data["RATE"].mean() < 90_000 and 0 < data["ERROR"].mean() < 1_000


def test_an_image_then_spectra_of_its_catalog_sources_saved_as_fits(disp, mock, tmp_path):
    token = mock.token_of("observer")
    image = disp.get_product(**IMAGE, token=token, silent=True)
    assert image._n_list == ["mosaic_image_0_mosaic", "dispatcher_catalog_1"]
    significance = image.mosaic_image_0_mosaic.data_unit[4]
    assert significance.header["IMATYPE"] == "SIGNIFICANCE" and significance.header["CTYPE1"] == "RA---TAN"
    table = image.dispatcher_catalog_1.table
    assert "MAXI J1820+070" in list(table["src_names"]) and table["significance"].max() > 100
    catalog = image.dispatcher_catalog_1.get_api_dictionary()
    spectrum = disp.get_product(instrument="isgri", product="isgri_spectrum", product_type="Real",
                                osa_version="OSA11.2", RA="275.09142677", DEC="7.18535523", radius="8",
                                T1="58193.455", T2="58246.892", T_format="mjd", max_pointings="50", token=token,
                                selected_catalog=catalog, silent=True)
    chosen = spectrum.new_from_metadata("src_name", "MAXI J1820+070")
    assert [p.meta_data["product"] for p in chosen._p_list] == ["isgri_spectrum", "isgri_arf", "isgri_rmf"]
    assert [p.data_unit[1].name for p in chosen._p_list] == ["ISGR-EVTS-SPE", "SPECRESP", "SPECRESP MATRIX"]
    chosen.save_all_data()
    assert sorted(os.listdir(tmp_path)) == ["prod_0_MAXIJ1820p070_isgri_spectrum.fits",
                                            "prod_1_MAXIJ1820p070_isgri_arf.fits", "prod_2_MAXIJ1820p070_isgri_rmf.fits"]


def test_light_curves_per_catalog_source_with_the_documented_columns(disp, mock, capsys):
    token = mock.token_of("observer")
    catalog = disp.get_product(**IMAGE, token=token, silent=True).dispatcher_catalog_1.get_api_dictionary()
    curves = disp.get_product(**{**IMAGE, "product": "isgri_lc", "max_pointings": 50}, time_bin=1000, token=token,
                              selected_catalog=catalog, silent=True)
    curves.show()
    assert "isgri_lc_0_MAXIJ1820p070" in capsys.readouterr().out
    unit = curves.isgri_lc_0_MAXIJ1820p070.data_unit[1]
    assert unit.name == "ISGR-SRC.-LCR" and unit.header["EXTNAME"] == "ISGR-SRC.-LCR"
    assert {"TIME", "RATE", "ERROR", "XAX_E"} <= set(unit.data.dtype.names)
    assert unit.header["DETNAM"] == "ISGRI" and unit.header["NAME"] == "MAXI J1820+070"
    assert (unit.header["E_MIN"], unit.header["E_MAX"]) == (30.0, 80.0)
    assert 58193.455 - 51544 <= unit.data["TIME"].min() and unit.data["TIME"].max() <= 58246.892 - 51544


def test_descriptions_and_the_instrument_list(disp, mock):
    description = disp.get_product_description(instrument="isgri", product_name="isgri_spectrum")
    assert description[0][0] == {"instrumet": "isgri"}
    assert "isgri" in disp.get_instruments_list()


def test_polling_through_submitted_and_progress(server, disp, mock):
    mock.call("POST", "/jobs", json={"seconds": None, "polls": 2})
    collection = disp.get_product(instrument="empty-async", product="numerical", product_type="Real",
                                  token=mock.token_of("observer"), silent=True)
    statuses = [e["status"] for e in mock.journal("/mmoda/dispatch-data/run_analysis")]
    assert len(statuses) == 4 and collection._p_list[0].name == "user_image"


def test_tokens_refreshed_and_rewritten_are_discovered(disp, mock, monkeypatch):
    token = mock.token_of("collaborator")
    monkeypatch.setenv("ODA_TOKEN", token)
    assert discover_token() == token
    refreshed = disp.refresh_token(token, write_token=True)
    assert jwt.decode(refreshed, options={"verify_signature": False})["exp"] > \
        jwt.decode(token, options={"verify_signature": False})["exp"]
    assert discover_token() == refreshed == os.environ["ODA_TOKEN"] == open(".oda-token").read().strip()
    quiet = disp.disable_email_token(refreshed)
    claims = jwt.decode(quiet, options={"verify_signature": False})
    assert (claims["msdone"], claims["msfail"], claims["mssub"]) == (False, False, False)
    with pytest.raises(RuntimeError):
        disp.refresh_token(mock.token_of("observer"))            # no refresh-tokens role: the server says 403


def test_refusals_and_failures_raise_the_clients_exceptions(disp, mock):
    with pytest.raises(Unauthorized) as lacking:
        disp.get_product(instrument="empty", product="numerical", product_type="Real", silent=True)
    assert "You are lacking all of the following roles" in str(lacking.value.message)
    short = mock.call("POST", "/credentials", json={"roles": ["general"], "lifetime": 60})["token"]
    mock.advance(61)
    with pytest.raises(Unauthorized) as expired:
        disp.get_product(instrument="empty", product="dummy", product_type="Real", token=short, silent=True)
    assert "The token provided is expired" in str(expired.value.message)
    disp.token = short
    with pytest.raises(UnexpectedDispatcherStatusCode):
        disp.get_instruments_list()
    with pytest.raises(RemoteException) as failed:
        disp.get_product(instrument="empty", product="failing", product_type="Real", silent=True)
    assert failed.value.message == "Error when getting query products"
