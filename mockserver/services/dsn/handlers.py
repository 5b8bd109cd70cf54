"""HTTP side of the DSN orbapi: read the request, call the model, shape the answer."""
from __future__ import annotations

from typing import Any

from ...core.errors import ApiError
from ...core.paging import start_limit
from ...core.service import caller, sandbox
from .model import SCOPE_BOOK, SCOPE_CANCEL, SCOPE_PASSES, SCOPE_PROFILES, DsnModel


def _model() -> DsnModel:
    return sandbox().model


def _catalog():
    return _model().catalog


def _one(item: Any, what: str) -> dict[str, Any]:
    """The by-id lookups answer a one-item page, as the list endpoints do."""
    if item is None:
        raise ApiError(404, f"{what} not found")
    return {"data": [item], "total": 1}


# --- passes, bookings, files, profiles (token needed) ------------------------------------------
def search_passes(body: dict[str, Any]) -> dict[str, Any]:
    caller(SCOPE_PASSES)
    return _model().search_passes(body)


def create_booking(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return _model().create_booking(caller(SCOPE_BOOK), body), 201


def list_bookings() -> dict[str, Any]:
    return _model().list_bookings(caller())


def cancel_booking(bookingId: int) -> dict[str, Any]:  # noqa: N803 - the spec's parameter name
    return _model().cancel_booking(caller(SCOPE_CANCEL), bookingId)


def attach_uplink_file(bookingId: int, body: dict[str, Any]) -> tuple[dict[str, Any], int]:  # noqa: N803
    return _model().attach_uplink(caller(SCOPE_BOOK), bookingId, body), 201


def list_uplink_files(bookingId: int) -> dict[str, Any]:  # noqa: N803
    return _model().list_files(caller(), bookingId, "uplink")


def list_downlink_files(bookingId: int) -> dict[str, Any]:  # noqa: N803
    return _model().list_files(caller(), bookingId, "downlink")


def create_profile(noradId: int, body: dict[str, Any]) -> tuple[dict[str, Any], int]:  # noqa: N803
    return _model().create_profile(caller(SCOPE_PROFILES), noradId, body), 201


def list_profiles(noradId: int) -> dict[str, Any]:  # noqa: N803
    return _model().list_profiles(caller(SCOPE_PROFILES), noradId)


def get_profile(profileId: int) -> dict[str, Any]:  # noqa: N803
    return _model().get_profile(caller(SCOPE_PROFILES), profileId)


def delete_profile(profileId: int) -> dict[str, Any]:  # noqa: N803
    return _model().delete_profile(caller(SCOPE_PROFILES), profileId)


# --- reference data (public) --------------------------------------------------------------------
def list_satellites(start: int = 0, limit: int = 20) -> dict[str, Any]:
    return start_limit(_catalog().satellites, start, limit)


def get_satellite(noradId: int) -> dict[str, Any]:  # noqa: N803
    return _one(_catalog().satellite(noradId), f"Satellite {noradId}")


def find_satellites(name: str, start: int = 0, limit: int = 20) -> dict[str, Any]:
    return start_limit(_catalog().find_satellites(name), start, limit)


def list_tles(start: int = 0, limit: int = 20) -> dict[str, Any]:
    return start_limit(_catalog().tles, start, limit)


def get_tle(noradId: int) -> dict[str, Any]:  # noqa: N803
    catalog = _catalog()
    satellite = catalog.satellite(noradId)
    if satellite is not None and catalog.tle(noradId) is None:
        raise ApiError(404, f"Satellite {noradId} ({satellite['name']}) re-entered on {satellite['decayed']}; "
                            "it has no current TLE")
    return _one(catalog.tle(noradId), f"TLE for satellite {noradId}")


def find_tles(name: str, start: int = 0, limit: int = 20) -> dict[str, Any]:
    return start_limit(_catalog().find_tles(name), start, limit)


def list_stations(start: int = 0, limit: int = 20) -> dict[str, Any]:
    return start_limit([s.as_json() for s in _catalog().stations], start, limit)


def _station(station_id: str):
    station = _catalog().station(station_id)
    if station is None:
        raise ApiError(404, f"Ground station {station_id} not found")
    return station


def get_station(id: str) -> dict[str, Any]:  # noqa: A002 - the spec's parameter name
    return _one(_station(id).as_json(), f"Ground station {id}")


def get_station_status(id: str) -> dict[str, Any]:  # noqa: A002
    return _model().station_status(_station(id))


def find_stations(description: str, start: int = 0, limit: int = 20) -> dict[str, Any]:
    return start_limit([s.as_json() for s in _catalog().find_stations(description)], start, limit)


def _mode(mode_id: str) -> dict[str, Any]:
    mode = _catalog().mode(mode_id)
    if mode is None:
        raise ApiError(404, f"Mode {mode_id!r} not found: give a mode name such as lora or a mode number such as 89")
    return mode


def _transmitters(start: int, limit: int, norad: int | None = None, station: str | None = None,
                  mode: str | None = None) -> dict[str, Any]:
    catalog = _catalog()
    if norad is not None and catalog.satellite(norad) is None:
        raise ApiError(404, f"Satellite {norad} not found")
    if station is not None:
        _station(station)
    wanted = _mode(mode)["id"] if mode is not None else None
    found = [t for t in catalog.transmitters
             if (norad is None or t["norad_cat_id"] == norad) and (station is None or t["gs_id"] == station)
             and (wanted is None or t["mode_id"] == wanted)]
    return start_limit(found, start, limit)


def list_transmitters(start: int = 0, limit: int = 20) -> dict[str, Any]:
    return _transmitters(start, limit)


def satellite_transmitters(noradCatId: int, start: int = 0, limit: int = 20) -> dict[str, Any]:  # noqa: N803
    return _transmitters(start, limit, norad=noradCatId)


def get_transmitter(uuid: str) -> dict[str, Any]:
    return _one(_catalog().transmitter(uuid), f"Transmitter {uuid}")


def transmitters_by_mode(modeId: str, start: int = 0, limit: int = 20) -> dict[str, Any]:  # noqa: N803
    return _transmitters(start, limit, mode=modeId)


def satellite_transmitters_by_mode(noradCatId: int, modeId: str, start: int = 0,  # noqa: N803
                                   limit: int = 20) -> dict[str, Any]:
    return _transmitters(start, limit, norad=noradCatId, mode=modeId)


def station_transmitters(gsId: str, start: int = 0, limit: int = 20) -> dict[str, Any]:  # noqa: N803
    return _transmitters(start, limit, station=gsId)


def station_transmitters_by_mode(gsId: str, modeId: str, start: int = 0,  # noqa: N803
                                 limit: int = 20) -> dict[str, Any]:
    return _transmitters(start, limit, station=gsId, mode=modeId)
