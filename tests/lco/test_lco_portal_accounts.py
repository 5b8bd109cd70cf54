"""The portal's logins, refusals, profile, instruments, proposals and semesters, as the real portal answers."""
from __future__ import annotations

NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
INVALID = {"detail": "Invalid token."}


def test_login_answers_the_users_token_and_refuses_bad_credentials_in_drf_shape(portal):
    astro = portal.users["astro"]
    form = portal.http.post("/api/api-token-auth/", data={"username": "astro", "password": astro["password"]})
    assert form.status_code == 200 and form.json() == {"token": astro["token"]}
    again = portal.http.post("/api/api-token-auth/", json={"username": "astro", "password": astro["password"]})
    assert again.json() == {"token": astro["token"]}                     # the same token every time
    wrong = portal.http.post("/api/api-token-auth/", data={"username": "astro", "password": "wrong"})
    assert wrong.status_code == 400
    assert wrong.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    half = portal.http.post("/api/api-token-auth/", data={"username": "astro"})
    assert half.status_code == 400 and half.json() == {"password": ["This field is required."]}


def test_missing_and_bad_tokens_are_403_with_drfs_details(portal):
    assert portal.get("/", username=None).json() == NOT_PROVIDED
    assert portal.get("/proposals/", username=None).status_code == 403
    bad = portal.http.get("/api/proposals/", headers={"Authorization": "Token 0123456789abcdef"})
    assert bad.status_code == 403 and bad.json() == INVALID
    # a bad token is refused even where anyone may read
    assert portal.http.get("/api/semesters/", headers={"Authorization": "Token nope"}).json() == INVALID
    # a header of another scheme is not a Token header: the caller is anonymous
    assert portal.http.get("/api/semesters/", headers={"Authorization": "Bearer nope"}).status_code == 200
    assert portal.http.get("/api/profile/", headers={"Authorization": "Bearer nope"}).json() == NOT_PROVIDED
    spaced = portal.http.get("/api/profile/", headers={"Authorization": "Token a b"})
    assert spaced.json() == {"detail": "Invalid token header. Token string should not contain spaces."}


def test_a_revoked_token_is_an_invalid_one(portal):
    portal.http.post("/__skymock/tokens/expire", json={"token": portal.users["astro"]["token"]})
    assert portal.get("/profile/").json() == INVALID


def test_the_api_root_lists_absolute_urls(portal):
    root = portal.get("/").json()
    assert root["userrequests"] == "http://testserver/api/userrequests/"
    assert set(root) >= {"userrequests", "requests", "proposals", "semesters"}


def test_a_path_without_its_trailing_slash_is_redirected_with_301(portal):
    answer = portal.get("/semesters/2026B", semester_contains="x")
    assert answer.status_code == 301
    assert answer.headers["location"] == "http://testserver/api/semesters/2026B/?semester_contains=x"


def test_the_profile_names_current_proposals_and_an_archive_token(portal):
    profile = portal.get("/profile/").json()
    assert profile["username"] == "astro" and profile["email"] == "astro@example.org"
    assert {p["id"]: p["current"] for p in profile["proposals"]} == {
        "LCO2026B-001": True, "KEY2026B-002": True, "LCO2026B-003": True}
    assert "1M0-SCICAM-SINISTRO" in profile["available_instrument_types"]
    assert profile["profile"]["api_quota"] == {"used": 0, "allowed": "unlimited"}
    assert len(profile["tokens"]["archive"]) >= 20
    assert portal.get("/profile/", "carol").json()["tokens"]["archive"] != profile["tokens"]["archive"]


def test_instruments_list_filters_by_lower_case_code_with_the_portals_names(portal):
    instruments = portal.get("/instruments/", username=None).json()
    sinistro = instruments["1M0-SCICAM-SINISTRO"]
    assert (sinistro["type"], sinistro["class"], sinistro["binnings"], sinistro["default_binning"]) == \
        ("IMAGE", "1M0", [1], 1)
    assert sinistro["filters"]["rp"] == {"type": "Standard", "name": "SDSS-r&prime;"}
    assert instruments["2M0-FLOYDS-SCICAM"]["type"] == "SPECTRA"
    assert set(instruments["2M0-FLOYDS-SCICAM"]["filters"]) == {"slit_1.2as", "slit_1.6as", "slit_2.0as", "slit_6.0as"}
    assert instruments["2M0-SCICAM-SPECTRAL"]["filters"]["h-alpha"]["name"] == "H Alpha"


def test_proposals_are_the_members_own_with_allocations_and_absolute_page_links(portal):
    page = portal.get("/proposals/", limit=2).json()
    assert page["count"] == 3
    assert page["next"] == "http://testserver/api/proposals/?limit=2&offset=2" and page["previous"] is None
    last = portal.http.get(page["next"], headers=portal.auth()).json()
    assert last["previous"] == "http://testserver/api/proposals/?limit=2" and last["next"] is None
    first = page["results"][0]
    assert first["id"] == "LCO2026B-001" and first["pi"] == "astro"
    allocation = first["timeallocation_set"][0]
    assert allocation == {"std_allocation": 100.0, "std_time_used": 0.0, "ipp_limit": 10.0,
                          "ipp_time_available": 5.0, "too_allocation": 10.0, "too_time_used": 0.0,
                          "telescope_class": "1m0", "instrument_name": "1M0-SCICAM-SINISTRO",
                          "semester": "2026B", "proposal": "LCO2026B-001"}
    assert first["users"]["carol"] == {"first_name": "Carol", "last_name": "Cadence", "time_limit": 3600}
    assert [p["id"] for p in portal.get("/proposals/", title="spent").json()["results"]] == ["LCO2026B-003"]
    assert portal.get("/proposals/LCO2026B-001/").json()["title"] == "Supernova light curves"
    # another user's proposal is not found, as one that does not exist
    assert portal.get("/proposals/LCO2026A-004/").json() == {"detail": "Not found."}
    assert portal.get("/proposals/LCO2026A-004/", "carol").status_code == 200


def test_semesters_follow_lcos_history_and_the_filters_read_dates_as_django_forms_do(portal):
    contains = portal.get("/semesters/", username=None, semester_contains="2026-11-20T23:02:11Z").json()
    assert contains["results"] == [{"id": "2026B", "start": "2026-08-01T00:00:00Z", "end": "2027-01-31T23:59:59Z"}]
    odd = portal.get("/semesters/", username=None, semester_contains="2017-04-10").json()["results"]
    assert odd == [{"id": "2017AB", "start": "2017-04-01T00:00:00Z", "end": "2017-11-30T23:59:59Z"}]
    assert portal.get("/semesters/2016B/", username=None).json() == {
        "id": "2016B", "start": "2016-10-01T00:00:00Z", "end": "2017-03-31T23:59:59Z"}
    since = portal.get("/semesters/", username=None, start="2026-02-01").json()
    assert [s["id"] for s in since["results"]][-2:] == ["2026B", "2026A"]
    assert [s["id"] for s in portal.get("/semesters/", username=None, id="2019").json()["results"]] == [
        "2019B", "2019A"]
    assert portal.get("/semesters/2019B/", username=None).json()["end"] == "2020-01-31T23:59:59Z"
    iso = portal.get("/semesters/", username=None, start="2026-02-01T00:00:00Z")
    assert iso.status_code == 400 and iso.json() == {"start": ["Enter a valid date/time."]}
    assert portal.get("/semesters/1999A/", username=None).status_code == 404


def test_minted_users_belong_to_the_proposals_named_and_unknown_ones_are_refused(portal):
    minted = portal.http.post("/__skymock/credentials", json={"username": "dave", "proposals": ["KEY2026B-002"]})
    assert minted.status_code == 201
    token = minted.json()["token"]
    proposals = portal.http.get("/api/proposals/", headers={"Authorization": f"Token {token}"}).json()
    assert [p["id"] for p in proposals["results"]] == ["KEY2026B-002"]
    refused = portal.http.post("/__skymock/credentials", json={"username": "erin", "proposals": ["NOPE"]})
    assert refused.status_code == 400 and "NOPE" in refused.text
    assert "erin" not in [c["username"] for c in portal.mock.credentials()]


def test_wrong_methods_and_broken_json_get_drfs_details(portal):
    delete = portal.http.delete("/api/userrequests/1/", headers=portal.auth())
    assert delete.status_code == 405 and delete.json() == {"detail": 'Method "DELETE" not allowed.'}
    assert "GET" in delete.headers["allow"]
    broken = portal.http.post("/api/userrequests/validate/", content=b"{nope", headers={
        **portal.auth(), "Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["detail"].startswith("JSON parse error - ")
    # a literal path is not taken for an id: validate answers POST, and its Allow says so
    options = portal.http.request("OPTIONS", "/api/userrequests/validate/", headers=portal.auth())
    assert "POST" in options.headers.get("allow", "")


def test_drafts_belong_to_their_author_and_keep_valid_json(portal):
    content = '{"group_id": "later"}'
    made = portal.post("/drafts/", {"proposal": "LCO2026B-001", "title": "for later", "content": content})
    assert made.status_code == 201
    draft = made.json()
    assert (draft["author"], draft["content"]) == ("astro", content)
    assert portal.get("/drafts/").json()["count"] == 1
    assert portal.get(f"/drafts/{draft['id']}/", "bob").json() == {"detail": "Not found."}
    patched = portal.http.patch(f"/api/drafts/{draft['id']}/", json={"title": "renamed"}, headers=portal.auth())
    assert patched.json()["title"] == "renamed" and patched.json()["content"] == content
    broken = portal.post("/drafts/", {"proposal": "LCO2026B-001", "title": "x", "content": "{nope"})
    assert broken.status_code == 400 and broken.json() == {"content": ["Content must be valid JSON"]}
    foreign = portal.post("/drafts/", {"proposal": "LCO2026A-004", "title": "x", "content": "{}"})
    assert foreign.json() == {"non_field_errors": ["You are not a member of that proposal"]}
    deleted = portal.http.delete(f"/api/drafts/{draft['id']}/", headers=portal.auth())
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert portal.get("/drafts/").json()["count"] == 0


def test_a_limit_or_offset_that_is_not_a_whole_number_is_ignored(portal):
    page = portal.get("/semesters/", username=None, limit="null", offset="x").json()
    assert len(page["results"]) == page["count"] == 43 and page["previous"] is None     # 2014A to 2035B, all on one page


def test_a_json_null_body_is_not_an_object(portal):
    made = portal.post("/drafts/", {"proposal": "LCO2026B-001", "title": "t", "content": "{}"}).json()
    answer = portal.http.patch(f"/api/drafts/{made['id']}/", content=b"null",
                               headers={**portal.auth(), "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got NoneType."]}
