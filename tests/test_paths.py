"""Paths as front ends pass them on: repeated slashes merged, an encoded newline an ordinary value."""
from __future__ import annotations

from sandbox import Mock

from mockserver.core.service import Settings


def test_repeated_slashes_are_merged_and_a_newline_in_a_path_value_is_not_a_server_error():
    dsn = Mock("dsn", Settings())
    assert dsn.http.get("http://testserver/orbapi//gs/id/1").json() == dsn.http.get("/orbapi/gs/id/1").json()
    for path in ("/orbapi/gs/id/ab%0Acd/status", "/orbapi/gs/id/ab%0A/status"):
        answer = dsn.http.get(path)
        assert answer.status_code == 404 and "error" in answer.json()
