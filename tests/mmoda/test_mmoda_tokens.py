"""Tokens: refresh, e-mail options, and what the instrument lists and descriptions show to whom."""
from __future__ import annotations

import jwt


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_refresh_extends_exp_and_keeps_every_other_claim(mmoda):
    old = mmoda.token("collaborator")
    answer = mmoda.get("refresh_token", token=old, query_status="new", refresh_interval="3600")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    new = claims(answer.text)
    assert new["exp"] == claims(old)["exp"] + 3600
    assert {k: v for k, v in new.items() if k != "exp"} == {k: v for k, v in claims(old).items() if k != "exp"}
    assert mmoda.run(instrument="empty", product_type="dummy", query_status="new", token=answer.text).status_code == 200
    default = claims(mmoda.get("refresh_token", token=old, query_status="new").text)
    assert default["exp"] == claims(old)["exp"] + 604_800


def test_refresh_needs_the_role_and_a_bounded_interval(mmoda):
    lacking = mmoda.get("refresh_token", token=mmoda.token("observer"), query_status="new")
    assert lacking.status_code == 403
    assert lacking.text == ("Unfortunately, your privileges are not sufficient to refresh your token.\nYour privilege "
                            "roles include ['general'], but the following roles are missing: refresh-tokens.")
    assert mmoda.get("refresh_token", query_status="new").text == "A token must be provided."
    too_long = mmoda.get("refresh_token", token=mmoda.token("collaborator"), refresh_interval="9999999")
    assert too_long.status_code == 403 and too_long.json()["error_message"] == "Request not authorized"
    assert "lower than 604800 seconds" in too_long.json()["debug_message"]
    assert mmoda.get("refresh_token", token=mmoda.token("collaborator"), refresh_interval="soon").status_code == 400


def test_email_options_are_rewritten_and_checked(mmoda):
    old = mmoda.token("observer")
    answer = mmoda.get("update_token_email_options", token=old, msfail="False", msdone="False", mssub="False",
                       query_status="new")
    assert answer.status_code == 200
    new = claims(answer.text)
    assert (new["msfail"], new["msdone"], new["mssub"]) == (False, False, False)
    assert new["exp"] == claims(old)["exp"] and new["roles"] == claims(old)["roles"]
    bad = mmoda.get("update_token_email_options", token=old, tem="soon", temaaaa="1", query_status="new")
    assert bad.status_code == 400
    assert bad.json()["error_message"] == ("An error occurred while validating the following fields: {'tem': "
                                           "['Not a valid number.'], 'temaaaa': ['Unknown field.']}. Please check it "
                                           "and re-try to issue the request")


def test_instrument_lists_depend_on_roles_and_refuse_bad_tokens_in_text(mmoda):
    public = mmoda.get("instr-list").json()
    assert "empty-development" not in public and {"isgri", "jemx", "spi_acs", "empty"} <= set(public)
    developer = mmoda.mint(roles=["oda workflow developer"])
    assert "empty-development" in mmoda.get("instr-list", token=developer).json()
    refused = mmoda.get("instr-list", token="not-a-token")
    assert refused.status_code == 403 and refused.text == "The token provided is not valid."
    moved = mmoda.get("api/instr-list", instrument="mock", token=developer)
    assert moved.status_code == 302
    assert moved.headers["location"].startswith("/mmoda/dispatch-data/instr-list?instrument=mock&token=")


def test_parameter_names_and_descriptions_list_every_documented_parameter(mmoda):
    names = mmoda.get("api/par-names", instrument="empty", product_type="numerical").json()
    assert names == ["src_name", "RA", "DEC", "T1", "T_format", "T2", "token", "p_list", "selected_catalog", "p"]
    described = mmoda.get("api/meta-data", instrument="isgri", product_type="isgri_lc").json()[0]
    assert described[0] == {"instrumet": "isgri"} and set(described[1]["prod_dict"]) == {
        "isgri_image", "isgri_spectrum", "isgri_lc"}
    queries = {block[0]["query_name"]: {p["name"]: p for p in block[1:] if "name" in p} for block in described[2:]}
    assert set(queries) == {"src_query", "isgri_parameters", "isgri_lc_query"}
    assert queries["isgri_lc_query"]["time_bin"]["units"] == "sec" and queries["isgri_lc_query"]["time_bin"]["value"] == 1000
    assert queries["isgri_parameters"]["E1_keV"]["units"] == "keV" and queries["src_query"]["RA"]["units"] == "deg"
    assert mmoda.get("api/meta-data", instrument="isgri", token="forged").status_code == 403


def test_inspect_state_lists_jobs_for_job_managers_only(mmoda):
    mmoda.run(instrument="empty", product_type="dummy", query_type="Dummy", query_status="new")
    records = mmoda.get("inspect-state", token=mmoda.token("collaborator")).json()["records"]
    assert len(records) == 1 and records[0]["analysis_parameters"]["instrument"] == "empty"
    assert mmoda.get("inspect-state", token=mmoda.token("observer")).status_code == 403
