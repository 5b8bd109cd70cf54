"""Client for the Decentralized Space Network (DSN) orbapi, as library and command.

Usage as a command (see ``clients/dsn_cli.py`` or ``--help`` for every subcommand)::

    python -m clients.dsn passes 25544 --days 2 --stations 1,3886
    python -m clients.dsn passes 25544 --plot 1 --out track.png
    python -m clients.dsn book 25544 --type data --slot 2026-05-06T10:00Z,2026-05-06T10:10Z,1
    python -m clients.dsn satellites ISS --json

The API token (``Authorization: Bearer dsn_live_...``) is issued by DSN out of
band; it comes from ``--token``, the ``DSN_API_TOKEN`` variable or a dotenv file
(``.dsn.env`` by default). Prefer the latter two: command-line arguments are
visible to other users of the machine. Reference data (satellites, element
sets, stations, transmitters) is public and needs no token.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ._http import ApiError, ApiSession, RetryPolicy, Token, TokenAuth, json_object, settings_from

DEFAULT_BASE_URL = "https://dsn.systems/orbapi"
DEFAULT_ENV_FILE = ".dsn.env"
ENV_PREFIX = "DSN"
PAGE_MAX = 100  # the largest ``limit`` the service accepts

NO_TOKEN = ("missing API token: set DSN_API_TOKEN (environment or .dsn.env) or pass --token; "
            "DSN issues tokens out of band")
HINTS = {
    401: "the API token is missing, invalid, expired or revoked; tokens cannot be renewed "
         "by the client: ask DSN for a valid one and set it in DSN_API_TOKEN",
    403: "the API token lacks the scope named above; ask DSN for a token that has it",
}


class ConfigError(ValueError):
    """A required setting is missing or malformed."""


class DsnTokenAuth(TokenAuth):
    """A static API token. Nothing can renew it, so no status counts as "renew and
    resend": a 401 is raised at once instead of being retried with the same token."""

    dead_statuses: frozenset[int] = frozenset()

    def __init__(self, token: str) -> None:
        self._token = token

    def fetch(self, session: ApiSession) -> Token:
        return Token(self._token)

    def __repr__(self) -> str:
        return "DsnTokenAuth(token=<redacted>)"


def _instant(value: datetime | str | None) -> str | None:
    """An ISO 8601 string for the API; naive datetimes are taken as UTC."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _segment(value: Any) -> str:
    """One path segment, quoted so names with spaces or slashes stay one segment."""
    return quote(str(value), safe="")


def _slot(slot: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    """A booking slot from a ``{start, end, gs_id}`` mapping or a (start, end, gs_id) triple."""
    if isinstance(slot, Mapping):
        start, end, gs_id = slot["start"], slot["end"], slot["gs_id"]
    else:
        start, end, gs_id = slot
    return {"start": _instant(start), "end": _instant(end), "gs_id": str(gs_id)}


def _uplink(key: str, sha256: str | None) -> dict[str, Any]:
    return {"key": key} if sha256 is None else {"key": key, "sha256": sha256}


class DsnClient:
    """Pass prediction, bookings, their files, mission profiles and reference data.

    Every method returns the service's JSON answer as a dict and raises
    :class:`~clients._http.ApiError` (``status``, ``message``) on a refusal.
    ``sleep``/``monotonic`` replace the real clocks (tests pass a sleep that
    does not wait); ``retry`` tunes the 429/5xx retries.
    """

    def __init__(self, base_url: str | None = DEFAULT_BASE_URL, token: str | None = None, *,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] | None = None,
                 monotonic: Callable[[], float] | None = None, timeout: float = 30) -> None:
        token = (token or "").strip() or None
        self.has_token = token is not None
        self.session = ApiSession(base_url or DEFAULT_BASE_URL,
                                  auth=DsnTokenAuth(token) if token else None, retry=retry,
                                  sleep=sleep or time.sleep, monotonic=monotonic or time.monotonic,
                                  timeout=timeout)

    @classmethod
    def from_settings(cls, args: Mapping[str, Any] | None = None,
                      env_file: str | None = DEFAULT_ENV_FILE, **kwargs: Any) -> DsnClient:
        """Build from args, then DSN_* variables, then the dotenv file.

        Recognised names: base_url (DSN_BASE_URL), api_token (DSN_API_TOKEN).
        Other keyword arguments (sleep, retry, timeout...) go to the constructor.
        """
        found = settings_from(ENV_PREFIX, args=args, env_file=env_file, names=("base_url", "api_token"))
        return cls(found["base_url"] or DEFAULT_BASE_URL, found["api_token"], **kwargs)

    def __repr__(self) -> str:
        return f"DsnClient(base_url={self.session.base_url!r}, token={'<redacted>' if self.has_token else None})"

    # -- plumbing ------------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, public: bool = False, expected: Iterable[int] = (200,),
              **kwargs: Any) -> dict[str, Any]:
        """Send one request; public endpoints go without the token (it is not needed there)."""
        if not public and not self.has_token:
            raise ConfigError(NO_TOKEN)
        try:
            resp = self.session.request(method, path, expected=expected, authenticate=not public, **kwargs)
        except ApiError as exc:
            hint = None if public else HINTS.get(exc.status or 0)
            if hint is None:
                raise
            raise ApiError(exc.status, exc.body, exc.method, exc.url, hint) from None
        return json_object(resp)

    def _page(self, path: str, start: int, limit: int) -> dict[str, Any]:
        return self._call("GET", path, public=True, params={"start": start, "limit": limit})

    def iter_pages(self, fetch: Callable[..., dict[str, Any]], *args: Any, limit: int = PAGE_MAX,
                   **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged ``{data, total}`` endpoint: calls ``fetch(*args, start=...,
        limit=..., **kwargs)`` with ``start`` moving on until ``total`` items have come.

        Example: ``for sat in client.iter_pages(client.find_satellites, "cube"): ...``
        """
        start = 0
        while True:
            page = fetch(*args, start=start, limit=limit, **kwargs)
            data = page.get("data") or []
            yield from data
            start += len(data)
            if not data or start >= int(page.get("total", 0)):
                return

    # -- passes --------------------------------------------------------------------------------
    def search_passes(self, norad_id: int | None = None, *, tle: Mapping[str, str] | None = None,
                      start: datetime | str | None = None, end: datetime | str | None = None,
                      days: float | None = None, ground_station_ids: Iterable[str | int] | None = None,
                      min_elevation: float | None = None, step_seconds: int | None = None) -> dict[str, Any]:
        """Predicted passes of one satellite (catalog ``norad_id`` or a raw ``tle`` mapping with
        line1, line2 and optional name), ordered by AOS. Scope ``passes:read``."""
        if norad_id is None and tle is None:
            raise ValueError("give a NORAD id or a TLE")
        body = {"noradId": norad_id, "tle": dict(tle) if tle is not None else None,
                "start": _instant(start), "end": _instant(end), "days": days,
                "groundStationIds": [str(s) for s in ground_station_ids] if ground_station_ids else None,
                "minElevationDeg": min_elevation, "stepSeconds": step_seconds}
        return self._call("POST", "/passes/search", json={k: v for k, v in body.items() if v is not None},
                          idempotent=True)   # a search: asking twice changes nothing

    # -- bookings and their files --------------------------------------------------------------
    def create_booking(self, norad_id: int, mission_type: str,
                       slots: Iterable[Mapping[str, Any] | Sequence[Any]], *,
                       uplink_key: str | None = None, uplink_sha256: str | None = None) -> dict[str, Any]:
        """Book slots, each ``(start, end, gs_id)`` or ``{start, end, gs_id}``; ``mission_type``
        is ``data`` or ``lora``. Scope ``bookings:create``."""
        body: dict[str, Any] = {"norad_cat_id": int(norad_id), "type": mission_type,
                                "slots": [_slot(s) for s in slots]}
        if uplink_key is not None:
            body["uplinkFile"] = _uplink(uplink_key, uplink_sha256)
        elif uplink_sha256 is not None:
            raise ValueError("an uplink checksum needs an uplink key")
        return self._call("POST", "/bookings", json=body, expected=(201,))

    def list_bookings(self) -> dict[str, Any]:
        """The caller's bookings, newest first (not paged)."""
        return self._call("GET", "/bookings")

    def cancel_booking(self, booking_id: int) -> dict[str, Any]:
        """Cancel a booking before its first slot. Scope ``bookings:cancel``."""
        return self._call("DELETE", f"/bookings/{int(booking_id)}")

    def attach_uplink_file(self, booking_id: int, key: str, sha256: str | None = None) -> dict[str, Any]:
        """Record an uplink object (already put in the DSN bucket). Scope ``bookings:create``."""
        return self._call("POST", f"/bookings/{int(booking_id)}/uplink-files", json=_uplink(key, sha256),
                          expected=(201,))

    def list_uplink_files(self, booking_id: int) -> dict[str, Any]:
        return self._call("GET", f"/bookings/{int(booking_id)}/uplink-files")

    def list_downlink_files(self, booking_id: int) -> dict[str, Any]:
        return self._call("GET", f"/bookings/{int(booking_id)}/downlink-files")

    # -- mission profiles (scope mission-profile:create) ---------------------------------------
    def create_profile(self, norad_id: int, profile: Any, name: str | None = None) -> dict[str, Any]:
        """Store ``profile`` (any JSON value) for a satellite. It is always sent wrapped as
        ``{"profile": ...}``, so a configuration with a member of its own called ``profile``
        is stored whole rather than cut down to that member."""
        body: dict[str, Any] = {"profile": profile}
        if name is not None:
            body["name"] = name
        return self._call("POST", f"/satellites/id/{int(norad_id)}/profiles", json=body, expected=(201,))

    def list_profiles(self, norad_id: int) -> dict[str, Any]:
        return self._call("GET", f"/satellites/id/{int(norad_id)}/profiles")

    def get_profile(self, profile_id: int) -> dict[str, Any]:
        return self._call("GET", f"/satellites/profiles/{int(profile_id)}")

    def delete_profile(self, profile_id: int) -> dict[str, Any]:
        return self._call("DELETE", f"/satellites/profiles/{int(profile_id)}")

    # -- satellites and element sets (public; paged as {data, total}) --------------------------
    def list_satellites(self, start: int = 0, limit: int = 20) -> dict[str, Any]:
        return self._page("/satellites", start, limit)

    def get_satellite(self, norad_id: int) -> dict[str, Any]:
        """A one-item page; ApiError 404 when the satellite is not in the catalog."""
        return self._call("GET", f"/satellites/id/{int(norad_id)}", public=True)

    def find_satellites(self, name: str, start: int = 0, limit: int = 20) -> dict[str, Any]:
        return self._page(f"/satellites/name/{_segment(name)}", start, limit)

    def list_tles(self, start: int = 0, limit: int = 20) -> dict[str, Any]:
        return self._page("/tles", start, limit)

    def get_tle(self, norad_id: int) -> dict[str, Any]:
        return self._call("GET", f"/tles/id/{int(norad_id)}", public=True)

    def find_tles(self, name: str, start: int = 0, limit: int = 20) -> dict[str, Any]:
        return self._page(f"/tles/name/{_segment(name)}", start, limit)

    # -- ground stations (public) --------------------------------------------------------------
    def list_stations(self, start: int = 0, limit: int = 20) -> dict[str, Any]:
        return self._page("/gs", start, limit)

    def get_station(self, station_id: str | int) -> dict[str, Any]:
        return self._call("GET", f"/gs/id/{_segment(station_id)}", public=True)

    def get_station_status(self, station_id: str | int) -> dict[str, Any]:
        """Heartbeat of a station: online, lastSeenAt, lastSeenAgeMs, queueDepth."""
        return self._call("GET", f"/gs/id/{_segment(station_id)}/status", public=True)

    def find_stations(self, description: str, start: int = 0, limit: int = 20) -> dict[str, Any]:
        return self._page(f"/gs/description/{_segment(description)}", start, limit)

    # -- transmitters (public); modes by name (lora) or number (89) ----------------------------
    def list_transmitters(self, start: int = 0, limit: int = 20) -> dict[str, Any]:
        return self._page("/transmitters", start, limit)

    def satellite_transmitters(self, norad_id: int, start: int = 0, limit: int = 20) -> dict[str, Any]:
        return self._page(f"/transmitters/id/{int(norad_id)}", start, limit)

    def get_transmitter(self, uuid: str) -> dict[str, Any]:
        return self._call("GET", f"/transmitters/uuid/{_segment(uuid)}", public=True)

    def transmitters_by_mode(self, mode: str | int, start: int = 0, limit: int = 20) -> dict[str, Any]:
        return self._page(f"/transmitters/mode/{_segment(mode)}", start, limit)

    def satellite_transmitters_by_mode(self, norad_id: int, mode: str | int, start: int = 0,
                                       limit: int = 20) -> dict[str, Any]:
        return self._page(f"/transmitters/id/{int(norad_id)}/mode/{_segment(mode)}", start, limit)

    def station_transmitters(self, station_id: str | int, start: int = 0, limit: int = 20) -> dict[str, Any]:
        return self._page(f"/transmitters/gs/{_segment(station_id)}", start, limit)

    def station_transmitters_by_mode(self, station_id: str | int, mode: str | int, start: int = 0,
                                     limit: int = 20) -> dict[str, Any]:
        return self._page(f"/transmitters/gs/{_segment(station_id)}/mode/{_segment(mode)}", start, limit)


def main(argv: list[str] | None = None) -> int:
    """The command (it lives in :mod:`clients.dsn_cli`); see that module's ``main``."""
    from .dsn_cli import main as run
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
