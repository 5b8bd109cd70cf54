"""run_analysis as the real dispatcher answers it: job ids, statuses, refusals, comments and failures."""
from __future__ import annotations

from mmodadata import ANSWER_KEYS, DUMMY, DUMMY_JOB_ID, ERROR_KEYS, EXIT_KEYS

ROLE_REFUSAL = ("Unfortunately, your priviledges are not sufficient to make the request for this particular product "
                "and parameter combination.\n- Your priviledge roles include []\n- You are lacking all of the "
                "following roles:\n - general: please refer to support for details\nYou can request support if you "
                "think you should be able to make this request.")
EXPIRED = ("The token provided is expired, please try to logout and login again. If already logged out, please clean "
           "the cookies, and resubmit you request.")


def test_the_dummy_query_gets_the_real_dispatchers_job_id_and_answer_shape(mmoda):
    answer = mmoda.run(**DUMMY)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == ANSWER_KEYS and set(body["exit_status"]) == EXIT_KEYS
    assert body["query_status"] == body["job_status"] == body["exit_status"]["job_status"] == "done"
    assert body["job_monitor"] == {"job_id": DUMMY_JOB_ID, "session_id": "SESSIONAAAAAAAAA", "status": "done"}
    products = body["products"]
    assert products["job_id"] == DUMMY_JOB_ID and products["prod_process_message"] == ""
    assert products["analysis_parameters"]["RA"] == 265.97845833 and products["analysis_parameters"]["token"] is None
    assert "disp.get_product(**par_dict)" in products["api_code"]


def test_the_job_id_depends_on_the_question_and_the_user_not_the_session(mmoda):
    again = mmoda.run(**{**DUMMY, "session_id": "SESSIONBBBBBBBBB"}).json()["job_monitor"]["job_id"]
    other = mmoda.run(**{**DUMMY, "RA": "10"}).json()["job_monitor"]["job_id"]
    signed = mmoda.run(**DUMMY, token=mmoda.token("observer")).json()["job_monitor"]["job_id"]
    assert again == DUMMY_JOB_ID and len({DUMMY_JOB_ID, other, signed}) == 3


def test_unknown_arguments_are_dropped_and_named_in_the_comment(mmoda):
    one = mmoda.run(**DUMMY, unkpar="1").json()
    two = mmoda.run(**DUMMY, unkpar="1", other="2").json()
    assert one["exit_status"]["comment"] == "Please note that argument unkpar is not used"
    assert two["exit_status"]["comment"] == "Please note that arguments unkpar, other are not used"
    assert one["job_monitor"]["job_id"] == DUMMY_JOB_ID          # dropped: not part of the question


def test_an_async_query_is_submitted_then_in_progress_then_done_under_one_job_id(mmoda):
    request = {**DUMMY, "instrument": "empty-async", "query_type": "Real"}
    first = mmoda.run(**request).json()
    job = first["job_monitor"]["job_id"]
    assert first["query_status"] == "submitted" and first["exit_status"]["status"] == 0
    statuses = [first["query_status"]]
    while statuses[-1] != "done":
        body = mmoda.run(**{**request, "query_status": statuses[-1], "job_id": job}).json()
        assert body["job_monitor"]["job_id"] == job
        statuses.append(body["query_status"])
        assert len(statuses) < 10
    assert statuses == ["submitted", "progress", "progress", "done"]       # the pace: 2 polls answered running
    assert len(body["products"]) and body["products"]["job_id"] == job


def test_polls_must_name_a_known_job(mmoda):
    request = {**DUMMY, "instrument": "empty-async", "query_type": "Real", "query_status": "submitted"}
    missing = mmoda.run(**request)
    assert missing.status_code == 400
    assert missing.json()["error"] == ('RequestNotUnderstood():job_id must be present if query_status != "new" '
                                       '(it is "submitted")')
    unknown = mmoda.run(**request, job_id="0123456789abcdef")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "InvalidJobIDProvided():unable to find any record for 0123456789abcdef"


def test_another_users_job_id_is_refused(mmoda):
    request = {**DUMMY, "instrument": "empty-async", "query_type": "Real"}
    job = mmoda.run(**request, token=mmoda.token("observer")).json()["job_monitor"]["job_id"]
    answer = mmoda.run(**{**request, "query_status": "submitted"}, job_id=job, token=mmoda.token("collaborator"))
    assert answer.status_code == 403
    body = answer.json()
    assert body["status_code"] == 403 and body["exit_status"]["message"] == "Request not authorized"
    assert f"The provided job_id={job} does not match" in body["exit_status"]["debug_message"]


def test_unknown_and_missing_instruments_get_the_dispatchers_400(mmoda):
    unknown = mmoda.run(instrument="nope", query_status="new")
    assert unknown.status_code == 400 and ERROR_KEYS <= set(unknown.json())
    assert unknown.json()["error"].startswith('InstrumentNotRecognized():instrument: "nope", known: [\'empty\'')
    none = mmoda.run(query_status="new")
    assert none.status_code == 400 and none.json()["error"].startswith("NoInstrumentSpecified():have parameters:")
    product = mmoda.run(**{**DUMMY, "product_type": "nope"})
    assert product.status_code == 400
    assert "constructor failed: product type nope not in query_dictionary" in product.json()["error_message"]


def test_a_product_needing_a_role_is_refused_with_the_real_message(mmoda):
    request = {**DUMMY, "product_type": "numerical", "query_type": "Real"}
    refused = mmoda.run(**request)
    assert refused.status_code == 403
    body = refused.json()
    assert body["exit_status"]["message"] == ROLE_REFUSAL and body["status_code"] == 403
    assert body["query_status"] == "failed" and body["products"] == {}
    assert mmoda.run(**request, token=mmoda.token("observer")).status_code == 200
    big = mmoda.run(**request, p="55", token=mmoda.token("observer")).json()
    assert "- unige-hpc-full: unige-hpc-full role is needed for p>50 as well" in big["exit_status"]["message"]
    assert "- general" not in big["exit_status"]["message"]           # only what the user lacks


def test_an_expired_or_forged_token_is_refused_with_403(mmoda):
    short = mmoda.mint(roles=["general"], lifetime=60)
    assert mmoda.run(**DUMMY, token=short).status_code == 200
    mmoda.mock.advance(61)
    expired = mmoda.run(**DUMMY, token=short)
    assert expired.status_code == 403
    assert expired.json()["error_message"] == EXPIRED and expired.json()["debug_message"] == ""
    assert expired.json()["error"] == f"RequestNotAuthorized():{EXPIRED}"
    forged = mmoda.token("observer")[:-4] + "AAAA"
    assert mmoda.run(**DUMMY, token=forged).json()["error_message"].startswith("The token provided is not valid")
    mmoda.mock.advance(86_400 + 1)                                   # the demo tokens live a day
    assert mmoda.run(**DUMMY, token=mmoda.token("observer")).status_code == 403


def test_a_failing_analysis_is_a_200_failed_query(mmoda):
    body = mmoda.run(**{**DUMMY, "product_type": "failing"}).json()
    assert body["query_status"] == "failed" and body["exit_status"]["status"] == 1
    assert body["exit_status"]["message"] == "Error when getting query products"
    assert body["exit_status"]["error_message"].startswith("Instrument: empty, product: failing\n\nThe support team")
    assert body["exit_status"]["debug_message"] == "InternalError()"


def test_bad_values_get_the_dispatchers_wording(mmoda):
    restricted = {**DUMMY, "product_type": "restricted", "query_type": "Real"}
    cases = {("bounded_int_par", "100"): "Parameter bounded_int_par wrong value 100.0: should be lower or equal than 8.0",
             ("string_select_par", "bacon"): "Parameter string_select_par wrong value bacon: not in allowed "
                                              "['spam', 'eggs', 'ham']",
             ("bounded_float_par", "abc"): "Parameter bounded_float_par wrong value abc. could not convert string "
                                           "to float: 'abc'",
             ("T1", "yesterday"): "Parameter T1 wrong value yesterday: can't be parsed as Time of isot format"}
    for (name, value), message in cases.items():
        answer = mmoda.run(**restricted, **{name: value})
        assert answer.status_code == 400 and answer.json()["error_message"] == message, answer.text
    echoed = mmoda.run(**restricted, bounded_int_par="7").json()["products"]["echo"]
    assert echoed["bounded_int_par"] == 7 and echoed["string_select_par"] == "spam"
