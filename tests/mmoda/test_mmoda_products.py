"""Products of every instrument: JEM-X's, the semi-asynchronous debug instrument, form POSTs, and no NaN anywhere."""
from __future__ import annotations

import json

import pytest
from mmodadata import BASE, DUMMY, DUMMY_JOB_ID

from clients.mmoda import decode_result
from mockserver.services.mmoda.instruments import INSTRUMENTS

CRAB_FIELD = {"RA": "83.633", "DEC": "22.014", "T1": "2004-02-18T00:00:00", "T2": "2004-02-22T00:00:00",
              "radius": "8", "max_pointings": "10"}


def query(instrument: str, product: str, **params: str) -> dict[str, str]:
    return {**DUMMY, "instrument": instrument, "product_type": product, "query_type": "Real", **params}


def finished(mmoda, params: dict[str, str]) -> dict:
    """Ask, then poll as oda_api does until the job is done or failed."""
    body = mmoda.run(**params).json()
    for _ in range(10):
        if body["query_status"] in ("done", "failed"):
            return body
        body = mmoda.run(**{**params, "query_status": body["query_status"], "job_id": body["job_monitor"]["job_id"]}
                         ).json()
    raise AssertionError(f"still {body['query_status']} after 10 polls")


def test_a_jemx_light_curve_has_its_table_after_the_grouping_unit(mmoda):
    body = finished(mmoda, query("jemx", "jemx_lc", **CRAB_FIELD, time_bin="2000", jemx_num="1"))
    [curve] = [p for p in decode_result(body).products if p.meta_data["src_name"] == "Crab"]
    names = [unit.name for unit in curve.units]
    assert names == ["PRIMARY", "GROUPING", "JMX1-SRC.-LCR"]
    table = curve.units[2]
    assert {"TIME", "RATE", "ERROR", "XAX_E"} <= set(table.data.dtype.names)
    assert (table.header["E_MIN"], table.header["E_MAX"]) == (3.0, 20.0)
    assert table.data["RATE"].mean() > 10 * table.data["ERROR"].mean()      # the Crab is bright for JEM-X


def test_a_jemx_image_finds_the_crab_and_its_spectra_come_in_threes(mmoda):
    image = decode_result(finished(mmoda, query("jemx", "jemx_image", **CRAB_FIELD)))
    rows = image.catalog_rows()
    assert "Crab" in [row["src_names"] for row in rows]
    assert image.products[0].unit("SIGNIFICANCE").header["DETNAM"].startswith("JMX")
    spectra = decode_result(finished(mmoda, query("jemx", "jemx_spectrum", **CRAB_FIELD,
                                                  selected_catalog=json.dumps(image.catalog))))
    kinds = [(p.meta_data["src_name"], p.meta_data["product"]) for p in spectra.products]
    assert kinds[:3] == [("Crab", "jemx_spectrum"), ("Crab", "jemx_arf"), ("Crab", "jemx_rmf")]
    assert len(kinds) == 3 * len(rows)


def test_the_semi_async_instrument_is_quick_for_large_p_slow_for_small_and_fails_for_minus_one(mmoda):
    quick = mmoda.run(**query("empty-semi-async", "numerical", p="5")).json()
    slow = mmoda.run(**query("empty-semi-async", "numerical", p="2")).json()
    assert quick["query_status"] == "done" and slow["query_status"] == "submitted"
    assert finished(mmoda, query("empty-semi-async", "numerical", p="2"))["query_status"] == "done"
    failing = finished(mmoda, query("empty-semi-async", "numerical", p="-1"))
    assert failing["query_status"] == "failed" and failing["exit_status"]["status"] == 1


def test_a_form_post_is_the_same_question_as_a_get(mmoda):
    answer = mmoda.http.post(f"{BASE}/run_analysis", data=DUMMY)
    assert answer.status_code == 200
    assert answer.json()["job_monitor"]["job_id"] == DUMMY_JOB_ID


def _strict(text: str) -> object:
    def refuse(constant: str) -> None:
        raise AssertionError(f"the answer holds {constant}, which oda_api cannot read")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("instrument,product", [(i, p) for i, inst in INSTRUMENTS.items() for p in inst.products
                                                if i != "empty-development"])
def test_no_answer_holds_nan_or_infinity(mmoda, instrument, product):
    params = query(instrument, product, token=mmoda.token("collaborator"), **CRAB_FIELD, time_bin="100")
    body = finished(mmoda, params)
    text = mmoda.run(**{**params, "query_status": body["query_status"], "job_id": body["job_monitor"]["job_id"]}).text
    answer = _strict(text)                     # headers, catalogs and parameters included
    assert answer["query_status"] in ("done", "failed")
