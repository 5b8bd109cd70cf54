"""Requests become jobs on the clock: 202 while running, 200 when done, only for their owner."""
from __future__ import annotations

import uuid

from okapidata import pass_request, propagation_request


def test_a_request_is_accepted_with_a_uuid_and_its_result_is_202_until_the_job_is_done(okapi):
    sent = okapi.send("predict-passes", pass_request())
    assert sent.status_code == 202
    request_id = sent.json()["request_id"]
    assert uuid.UUID(request_id).version == 4
    assert sent.json()["status"]["type"] == "NONE"
    running = okapi.result("predict-passes", request_id)
    assert running.status_code == 202
    assert running.json()["status"]["type"] == "WARNING" and "still being processed" in running.json()["status"]["text"]
    okapi.clock(advance=1.9)
    assert okapi.result("predict-passes", request_id).status_code == 202
    okapi.clock(advance=0.1)                      # two seconds of clock by default
    done = okapi.result("predict-passes", request_id)
    assert done.status_code == 200 and done.json()["status"] == {"type": "NONE", "text": "Done"}
    assert okapi.result("predict-passes", request_id, "summary").status_code == 200   # and stays readable


def test_the_pace_can_be_counted_in_polls_instead_of_seconds(okapi):
    pace = okapi.http.post("/__skymock/jobs", json={"seconds": None, "polls": 3})
    assert pace.status_code == 200 and pace.json()["pace"] == {"seconds": None, "polls": 3, "retry_after": None}
    request_id = okapi.send("predict-passes", pass_request()).json()["request_id"]
    statuses = [okapi.result("predict-passes", request_id).status_code for _ in range(5)]
    assert statuses == [202, 202, 202, 200, 200]
    assert okapi.http.get("/__skymock/jobs").json() == {"pace": {"seconds": None, "polls": 3, "retry_after": None},
                                                        "running": 0, "done": 1}


def test_a_pace_of_nothing_means_done_at_once_and_a_reset_restores_the_default(okapi):
    okapi.http.post("/__skymock/jobs", json={"seconds": None})
    request_id = okapi.send("predict-passes", pass_request()).json()["request_id"]
    assert okapi.result("predict-passes", request_id).status_code == 200
    okapi.http.post("/__skymock/reset")
    assert okapi.http.get("/__skymock/jobs").json()["pace"] == {"seconds": 2.0, "polls": None, "retry_after": None}


def test_a_bad_pace_is_refused_naming_the_field(okapi):
    answer = okapi.http.post("/__skymock/jobs", json={"polls": -1})
    assert answer.status_code == 400 and answer.json()["field"] == "polls"


def test_unknown_ids_other_users_requests_and_other_engines_are_404(okapi):
    request_id = okapi.send("predict-passes", pass_request()).json()["request_id"]
    okapi.clock(advance=10)
    assert okapi.result("predict-passes", request_id).status_code == 200
    for answer in (okapi.result("predict-passes", str(uuid.uuid4())),
                   okapi.result("predict-passes", request_id, owner="operator"),
                   okapi.result("predict-passes", request_id, engine="neptune"),
                   okapi.result("propagate-orbit", request_id)):
        assert answer.status_code == 404
        assert answer.json()["status"]["type"] == "FATAL" and "request" in answer.json()["status"]["text"]


def test_a_format_the_engine_does_not_offer_is_400_and_does_not_count_as_a_poll(okapi):
    okapi.http.post("/__skymock/jobs", json={"seconds": None, "polls": 1})
    request_id = okapi.send("propagate-orbit", propagation_request()).json()["request_id"]
    wrong = okapi.result("propagate-orbit", request_id, "opm")
    assert wrong.status_code == 400 and "simple, omm, oem" in wrong.json()["status"]["text"]
    unknown = okapi.result("propagate-orbit", request_id, "xml")
    assert unknown.status_code == 400 and "format" in unknown.json()["status"]["text"]
    assert okapi.result("propagate-orbit", request_id, "omm").status_code == 202     # the first real poll
    assert okapi.result("propagate-orbit", request_id, "omm").status_code == 200


def test_a_request_from_a_leading_slash_endpoint_is_served_too(okapi):
    # the connector joins base URL and endpoint with "/"; an endpoint written "/predict-passes/..." gives "//"
    sent = okapi.http.post("http://testserver//predict-passes/sgp4/requests", json=pass_request(), headers=okapi.auth())
    assert sent.status_code == 202


def test_a_pace_with_retry_after_asks_pollers_to_wait(okapi):
    okapi.http.post("/__skymock/jobs", json={"retry_after": 5})
    request_id = okapi.send("predict-passes", pass_request()).json()["request_id"]
    running = okapi.result("predict-passes", request_id)
    assert running.status_code == 202 and running.headers["Retry-After"] == "5"
    okapi.clock(advance=5)
    done = okapi.result("predict-passes", request_id)
    assert done.status_code == 200 and "Retry-After" not in done.headers
