"""OKAPI's rules: the Auth0 login, service requests accepted as jobs, results in their formats.

A request is checked and computed when it is sent (bad input is refused at once,
naming the field); its result can be read once the job is done on the clock
(core/jobs.py), until then the result endpoint answers 202. Results belong to
the user who asked: another user's request id is as unknown as a made-up one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from ...astro.orbits import EARTH_RADIUS_KM, FRAMES, CartesianState, NumericalOrbit, elements, propagate_state
from ...astro.passes import GroundSite, find_passes, propagate, search_span
from ...astro.tle import ElementSet, TLEError, parse_tle_text
from ...core.auth import Credential
from ...core.clock import iso_ms, parse_instant
from ...core.errors import ApiError, invalid, missing
from ...core.jobs import RUNNING
from ...core.service import Sandbox, current_or_none
from . import formats

AUDIENCE = "https://api.okapiorbits.space/picard"
AUTH0_ISSUER = "https://okapi-development.eu.auth0.com/"
CLIENT_ID = "jrk0ZTrTuApxUstXcXdu9r71IX5IeKD3"          # the published connector's Auth0 application
REQUESTED_SCOPE = ("neptune_propagation neptune_propagation_request pass_predictions pass_prediction_requests "
                   "pass_predictions_long pass_prediction_requests_long")

ENGINES = ("sgp4", "neptune", "orekit-numerical")
PASS_FORMATS = ("simple", "summary")
PROPAGATION_FORMATS = {"sgp4": ("simple", "omm", "oem"), "neptune": ("simple", "oem", "opm"),
                       "orekit-numerical": ("simple", "oem", "opm")}
ORBIT_TYPES = {"sgp4": ("tle.txt",), "neptune": ("tle.txt", "state.json", "opm.json"),
               "orekit-numerical": ("tle.txt", "state.json", "opm.json")}
GROUND_TYPES = ("ground_loc.json",)
WINDOW_TYPES = ("tw.json",)
PASS_SETTINGS_TYPES = ("shared_prop_settings.json", "prop_settings.json")
PROPAGATION_SETTINGS_TYPES = ("prop_settings.json", "shared_prop_settings.json")
MAX_PASS_WINDOW = timedelta(days=31)
MAX_PROPAGATION_SPAN = timedelta(days=366)
MAX_SAMPLES = 100_000            # look angles or states in one result
DEFAULT_STEP_S = 60.0
ALTITUDE_KM = (-0.5, 10.0)       # from the Dead Sea shore to above the highest summit
MAX_NUMERICAL_ARC = timedelta(days=31)   # from a state's epoch to the furthest time asked
MIN_PERIGEE_ALTITUDE_KM = 80.0
MAX_APOGEE_KM = 1_000_000.0      # beyond, the Sun pulls harder than the Earth
STATE_KEYS = ("x", "y", "z", "x_dot", "y_dot", "z_dot")

SIMULATED = {"neptune": "NEPTUNE", "orekit-numerical": "Orekit"}
FROM_TLE = "the states come from SGP4 propagation of the TLE"
FROM_STATE = ("the state is integrated numerically with two-body gravity and the J2 term only "
              "(no drag, third bodies or radiation pressure)")


@dataclass(frozen=True)
class StateOrbit:
    """An orbit given as a state vector (state.json or opm.json), for the numerical engines."""

    state: CartesianState
    object: dict[str, Any]
    spacecraft: dict[str, float]
    where: str                      # the field the state was read from

    @property
    def epoch(self) -> datetime:
        return datetime.fromtimestamp(self.state.epoch, timezone.utc)


def auth0_error(status: int, error: str, description: str) -> ApiError:
    return ApiError(status, description, code=f"auth0:{error}")


def not_found(family: str, engine: str, request_id: str) -> ApiError:
    return ApiError(404, f"No {family} request {request_id!r} for {engine} is known to this user; "
                         f"send one to {family}/{engine}/requests first", field="request_id", location="path")


class OkapiModel:
    def __init__(self, sandbox: Sandbox) -> None:
        self.box = sandbox

    def now(self) -> datetime:
        return self.box.clock.now()

    # --- Auth0 --------------------------------------------------------------------------------
    def login(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Auth0's resource-owner password grant, as the connector sends it (form or JSON)."""
        for name in ("grant_type", "client_id", "username", "password"):
            if not isinstance(fields.get(name), str) or not fields[name]:
                raise auth0_error(400, "invalid_request", f"Missing required parameter: {name}")
        context = current_or_none()
        if context is not None:
            context.client = fields["username"]
        if fields["grant_type"] != "password":
            raise auth0_error(403, "unauthorized_client",
                              f"Grant type '{fields['grant_type']}' not allowed for the client.")
        if fields["client_id"] != CLIENT_ID:
            raise auth0_error(401, "access_denied", "Unauthorized")
        audience = fields.get("audience")
        if audience != AUDIENCE:
            raise auth0_error(403, "access_denied", f"Service not found: {audience or '(no audience given)'}")
        credential = self.box.tokens.find(username=fields["username"], password=fields["password"])
        if credential is None:
            raise auth0_error(403, "invalid_grant", "Wrong email or password.")
        scope = fields.get("scope") if isinstance(fields.get("scope"), str) else ""
        token = self.box.tokens.issue(credential, claims={"scope": scope})
        lifetime = token.expires_at - token.issued_at if token.expires_at is not None else 10 * 365 * 86_400
        return {"access_token": token.value, "expires_in": int(round(lifetime)), "token_type": "Bearer",
                "scope": scope}

    # --- requests -----------------------------------------------------------------------------
    def request_passes(self, who: Credential, engine: str, body: dict[str, Any]) -> dict[str, Any]:
        orbit = self._orbit(body, engine)
        lat, lon, alt_km = self._ground_location(body)
        start, end = self._time_window(body)
        step, where = self._step(body, PASS_SETTINGS_TYPES)
        if (end - start).total_seconds() / step > 20 * MAX_SAMPLES:
            raise invalid(where, f"{step:g} s is too fine for a window of "
                          f"{end - start}; use a coarser step or a shorter window", step)
        site = GroundSite("ground", lat, lon, alt_km * 1000.0)
        if isinstance(orbit, StateOrbit):
            first, last = search_span(elements(orbit.state).period_s, start.timestamp(), end.timestamp())
            self._within_arc(orbit, start, end, "time_window")
            satellite = NumericalOrbit(orbit.state, first, last)
        else:
            satellite = orbit.satrec()
        found = find_passes(satellite, [site], start.timestamp(), end.timestamp(), 0.0, step)
        samples = sum(len(p.track_times) for p in found)
        if samples > MAX_SAMPLES:
            raise invalid(where, f"{step:g} s gives {samples} look angles, more than "
                          f"{MAX_SAMPLES} in one result; use a coarser step or a shorter window", step)
        outcome = {"object": self._object(orbit), "simulation": self._simulation(orbit),
                   "ground_location": {"longitude": lon, "latitude": lat, "altitude": alt_km},
                   "time_window": {"start": iso_ms(start), "end": iso_ms(end)}, "output_step_size": step,
                   "passes": [formats.pass_record(p) for p in found]}
        return self._accept(who, "predict-passes", engine, outcome)

    def request_propagation(self, who: Credential, engine: str, body: dict[str, Any]) -> dict[str, Any]:
        orbit = self._orbit(body, engine)
        content = self._settings(body, PROPAGATION_SETTINGS_TYPES, required=True)
        where = "settings.content"
        start = orbit.epoch
        if content.get("propagation_start_epoch") is not None:
            start = self._instant(content["propagation_start_epoch"], f"{where}.propagation_start_epoch")
        if content.get("propagation_end_epoch") is None:
            raise missing(f"{where}.propagation_end_epoch")
        end = self._instant(content["propagation_end_epoch"], f"{where}.propagation_end_epoch")
        if end <= start:
            raise invalid(f"{where}.propagation_end_epoch", f"must be after the start, {iso_ms(start)} "
                          "(the orbit's epoch unless propagation_start_epoch is given)", content["propagation_end_epoch"])
        if end - start > MAX_PROPAGATION_SPAN:
            raise invalid(f"{where}.propagation_end_epoch", f"spans {end - start}; at most "
                          f"{MAX_PROPAGATION_SPAN.days} days can be propagated in one request", content["propagation_end_epoch"])
        step, step_field = self._step(body, PROPAGATION_SETTINGS_TYPES)
        count = int(math.floor((end - start).total_seconds() / step + 1e-9)) + 1
        if count > MAX_SAMPLES:
            raise invalid(step_field, f"{step:g} s gives {count} states, more than {MAX_SAMPLES} in "
                          "one result; use a coarser step or a shorter span", step)
        times = start.timestamp() + step * np.arange(count)
        if times[-1] < end.timestamp():
            times = np.append(times, end.timestamp())
        if isinstance(orbit, StateOrbit):
            self._within_arc(orbit, start, end, where)
            position, velocity, errors = propagate_state(orbit.state, times)
            frame, reason = orbit.state.frame, "the trajectory reaches the ground"
        else:
            position, velocity, errors = propagate(orbit.satrec(), times)
            frame, reason = formats.FRAME, "the satellite has decayed or the elements are unusable"
        if errors.any():
            at = int(np.argmax(errors != 0))
            raise ApiError(422, f"{'The integrator' if isinstance(orbit, StateOrbit) else 'SGP4'} cannot propagate this orbit to {iso_ms(datetime.fromtimestamp(times[at], start.tzinfo))}"
                                f" (error {int(errors[at])}: {reason}); end the propagation earlier",
                           field="settings.content.propagation_end_epoch", code="input")
        outcome = {"object": self._object(orbit), "simulation": self._simulation(orbit), "frame": frame,
                   "created": iso_ms(self.now()),
                   "epochs": [iso_ms(datetime.fromtimestamp(t, start.tzinfo)) for t in times.tolist()],
                   "states": np.round(np.hstack([position, velocity]), 9).tolist()}
        if isinstance(orbit, StateOrbit):
            outcome["spacecraft"] = orbit.spacecraft
        else:
            outcome["tle"] = [orbit.line1, orbit.line2]
        return self._accept(who, "propagate-orbit", engine, outcome)

    @staticmethod
    def _object(orbit: ElementSet | StateOrbit) -> dict[str, Any]:
        return orbit.object if isinstance(orbit, StateOrbit) else formats.object_of(orbit)

    @staticmethod
    def _simulation(orbit: ElementSet | StateOrbit) -> str:
        return FROM_STATE if isinstance(orbit, StateOrbit) else FROM_TLE

    @staticmethod
    def _within_arc(orbit: StateOrbit, start: datetime, end: datetime, where: str) -> None:
        """Refuse times further from a state's epoch than the numerical engines integrate."""
        epoch = orbit.epoch
        for moment, name in ((start, "start"), (end, "end")):
            if abs(moment - epoch) > MAX_NUMERICAL_ARC:
                field = f"{where}.content.{name}" if where == "time_window" else f"{where}.propagation_{name}_epoch"
                raise invalid(field, f"{iso_ms(moment)} is {abs(moment - epoch)} from the state's epoch "
                              f"{iso_ms(epoch)}; numerical propagation reaches at most {MAX_NUMERICAL_ARC.days} days "
                              f"from it: send a state closer to the times you ask for", iso_ms(moment))

    def _accept(self, who: Credential, family: str, engine: str, outcome: dict[str, Any]) -> dict[str, Any]:
        job = self.box.jobs.submit(who.owner, f"{family}/{engine}", outcome)
        return {"request_id": job["id"],
                "status": {"type": "NONE", "text": f"Request accepted; get the result at "
                                                   f"{family}/{engine}/results/{job['id']}/<format>"}}

    # --- results ------------------------------------------------------------------------------
    def result(self, who: Credential, family: str, engine: str, request_id: str, fmt: str
               ) -> tuple[dict[str, Any], int, dict[str, str]]:
        """(body, status, headers): 202 while the job runs (with Retry-After if the pace asks for one), then 200."""
        if self.box.jobs.find(request_id, who.owner, f"{family}/{engine}") is None:
            raise not_found(family, engine, request_id)
        offered = PASS_FORMATS if family == "predict-passes" else PROPAGATION_FORMATS[engine]
        if fmt not in offered:
            raise invalid("format", f"{family}/{engine} results come as {', '.join(offered)}, not {fmt!r}",
                          fmt, location="path")
        state, job = self.box.jobs.poll(request_id)
        if state == RUNNING:
            done = self.box.jobs.progress(job)
            hint = self.box.jobs.pace.retry_after
            return {"request_id": request_id, "status": {
                "type": "WARNING", "text": f"The request is still being processed ({done:.0%} done); ask again shortly"}}, \
                202, ({"Retry-After": str(hint)} if hint is not None else {})
        body = formats.render(family, fmt, self.box.jobs.outcome(request_id))
        outcome = self.box.jobs.outcome(request_id)
        if engine in SIMULATED:
            body["status"] = {"type": "REMARK", "text": f"Done. {SIMULATED[engine]} is simulated in this sandbox: "
                                                         f"{outcome.get('simulation', FROM_TLE)}"}
        else:
            body["status"] = {"type": "NONE", "text": "Done"}
        return body, 200, {}

    # --- reading a request's members ----------------------------------------------------------
    @staticmethod
    def _member(body: dict[str, Any], key: str, kinds: tuple[str, ...], legacy: str | None = None,
                flat_ok: bool = False, required: bool = True) -> tuple[Any, str]:
        """(content, its field path) of a ``{type, content}`` member, or of the older flat form."""
        if key in body and body[key] is not None:
            member = body[key]
            if not isinstance(member, dict):
                raise invalid(key, "must be an object {\"type\": ..., \"content\": ...}", member)
            if "content" in member:
                if member.get("type") not in kinds:
                    raise invalid(f"{key}.type", f"must be {' or '.join(map(repr, kinds))}", member.get("type"))
                return member["content"], f"{key}.content"
            if flat_ok:
                return member, key
            raise missing(f"{key}.content")
        if legacy is not None and body.get(legacy) is not None:
            return body[legacy], legacy
        if required:
            raise missing(key)
        return None, key

    def _orbit(self, body: dict[str, Any], engine: str) -> ElementSet | StateOrbit:
        kinds = ORBIT_TYPES[engine]
        try:
            content, where = self._member(body, "orbit", kinds, legacy="tle")
        except ApiError as exc:
            if exc.field == "orbit.type" and engine == "sgp4":
                raise invalid("orbit.type", "must be 'tle.txt': SGP4 propagates TLEs; send states "
                              "(state.json, opm.json) to a numerical engine", body["orbit"].get("type")) from None
            raise
        kind = body["orbit"].get("type") if isinstance(body.get("orbit"), dict) else "tle.txt"
        if kind == "state.json":
            return self._state_json(content, where)
        if kind == "opm.json":
            return self._opm_json(content, where)
        if not isinstance(content, str):
            raise invalid(where, "must be the TLE as text: its two lines separated by a newline", content)
        try:
            return parse_tle_text(content)
        except TLEError as exc:
            raise invalid(where, f"is not a valid TLE: {exc}") from None

    def _state_json(self, content: Any, where: str) -> StateOrbit:
        """OKAPI's state.json: {x, y, z (km), x_dot, y_dot, z_dot (km/s), epoch, area (m^2), mass (kg)}, GCRF."""
        if not isinstance(content, dict):
            raise invalid(where, "must be an object with x, y, z (km), x_dot, y_dot, z_dot (km/s), epoch, "
                          "area (m^2) and mass (kg)", content)
        values = [self._number(content, name, where) for name in STATE_KEYS]
        epoch = self._instant(self._present(content, "epoch", where), f"{where}.epoch")
        spacecraft = {"MASS": self._number(content, "mass", where, positive=True),
                      "DRAG_AREA": self._number(content, "area", where, positive=True)}
        state = CartesianState(epoch.timestamp(), tuple(values[:3]), tuple(values[3:]), "GCRF")
        thing = {"name": None, "norad_id": None, "international_designator": None, "state_epoch": iso_ms(epoch)}
        return self._checked(StateOrbit(state, thing, spacecraft, where))

    def _opm_json(self, content: Any, where: str) -> StateOrbit:
        """A CCSDS OPM in its own key names: OPM_META_DATA (REF_FRAME ...) and OPM_DATA (EPOCH, X ... Z_DOT)."""
        if not isinstance(content, dict):
            raise invalid(where, "must be a CCSDS OPM object with OPM_META_DATA and OPM_DATA", content)
        meta = self._present(content, "OPM_META_DATA", where)
        data = self._present(content, "OPM_DATA", where)
        for name, part in (("OPM_META_DATA", meta), ("OPM_DATA", data)):
            if not isinstance(part, dict):
                raise invalid(f"{where}.{name}", "must be an object", part)
        at = f"{where}.OPM_META_DATA"
        frame = self._present(meta, "REF_FRAME", at)
        if frame not in FRAMES:
            raise invalid(f"{at}.REF_FRAME", f"must be one of {', '.join(FRAMES)} (an Earth-centred inertial frame)",
                          frame)
        for name, only in (("CENTER_NAME", "EARTH"), ("TIME_SYSTEM", "UTC")):
            if meta.get(name) is not None and str(meta[name]).upper() != only:
                raise invalid(f"{at}.{name}", f"must be {only}: the sandbox propagates Earth orbits in UTC", meta[name])
        at = f"{where}.OPM_DATA"
        values = [self._number(data, name.upper(), at, text_ok=True) for name in STATE_KEYS]
        epoch = self._instant(self._present(data, "EPOCH", at), f"{at}.EPOCH")
        spacecraft = {name: self._number(data, name, at, positive=True, text_ok=True)
                      for name in ("MASS", "DRAG_AREA") if data.get(name) is not None}
        state = CartesianState(epoch.timestamp(), tuple(values[:3]), tuple(values[3:]), frame)
        thing = {"name": meta.get("OBJECT_NAME") if isinstance(meta.get("OBJECT_NAME"), str) else None,
                 "norad_id": None,
                 "international_designator": meta.get("OBJECT_ID") if isinstance(meta.get("OBJECT_ID"), str) else None,
                 "state_epoch": iso_ms(epoch)}
        return self._checked(StateOrbit(state, thing, spacecraft, where))

    @staticmethod
    def _checked(orbit: StateOrbit) -> StateOrbit:
        """Refuse states that are not on a closed orbit clear of the atmosphere."""
        found = elements(orbit.state)
        if found is None:
            raise invalid(orbit.where, "is not on a closed orbit around the Earth: the speed is at or above "
                          "escape speed for that distance")
        if found.perigee_km - EARTH_RADIUS_KM < MIN_PERIGEE_ALTITUDE_KM:
            raise invalid(orbit.where, f"gives a perigee {found.perigee_km - EARTH_RADIUS_KM:.0f} km above the Earth's "
                          f"surface, under {MIN_PERIGEE_ALTITUDE_KM:g} km: the object would re-enter")
        if found.apogee_km > MAX_APOGEE_KM:
            raise invalid(orbit.where, f"gives an apogee {found.apogee_km:.0f} km from the Earth's centre, beyond "
                          f"{MAX_APOGEE_KM:.0f} km where the Earth no longer holds an orbit")
        return orbit

    @staticmethod
    def _present(content: dict[str, Any], name: str, where: str) -> Any:
        if content.get(name) is None:
            raise missing(f"{where}.{name}")
        return content[name]

    def _number(self, content: dict[str, Any], name: str, where: str, positive: bool = False,
                text_ok: bool = False) -> float:
        """A finite number (or, in CCSDS messages, its text), positive if asked."""
        value = self._present(content, name, where)
        number: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif text_ok and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            raise invalid(f"{where}.{name}", "must be a number", value)
        if positive and number <= 0:
            raise invalid(f"{where}.{name}", "must be more than 0", value)
        return number

    def _ground_location(self, body: dict[str, Any]) -> tuple[float, float, float]:
        content, where = self._member(body, "ground_location", GROUND_TYPES, legacy="simple_ground_location")
        if not isinstance(content, dict):
            raise invalid(where, "must be an object with longitude, latitude (degrees) and altitude (km)", content)
        limits = {"longitude": (-180.0, 180.0, "degrees"), "latitude": (-90.0, 90.0, "degrees"),
                  "altitude": (*ALTITUDE_KM, "km above the WGS84 ellipsoid")}
        values = []
        for name, (low, high, unit) in limits.items():
            value = content.get(name)
            if value is None:
                raise missing(f"{where}.{name}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise invalid(f"{where}.{name}", f"must be a number of {unit}", value)
            if not low <= value <= high:
                raise invalid(f"{where}.{name}", f"{value} is out of range: it must be from {low:g} to {high:g} {unit}",
                              value)
            values.append(float(value))
        return values[1], values[0], values[2]

    def _time_window(self, body: dict[str, Any]) -> tuple[datetime, datetime]:
        content, where = self._member(body, "time_window", WINDOW_TYPES, flat_ok=True)
        if not isinstance(content, dict):
            raise invalid(where, "must be an object with start and end (ISO 8601, UTC)", content)
        for name in ("start", "end"):
            if content.get(name) is None:
                raise missing(f"{where}.{name}")
        start = self._instant(content["start"], f"{where}.start")
        end = self._instant(content["end"], f"{where}.end")
        if end <= start:
            raise invalid(f"{where}.end", f"must be after the start, {iso_ms(start)}", content["end"])
        if end - start > MAX_PASS_WINDOW:
            raise invalid(f"{where}.end", f"the window spans {end - start}; at most {MAX_PASS_WINDOW.days} days "
                                          "can be searched in one request", content["end"])
        return start, end

    def _settings(self, body: dict[str, Any], kinds: tuple[str, ...], required: bool = False) -> dict[str, Any]:
        content, where = self._member(body, "settings", kinds, required=required)
        if content is None:
            return {}
        if not isinstance(content, dict):
            raise invalid(where, "must be an object", content)
        return content

    def _step(self, body: dict[str, Any], kinds: tuple[str, ...]) -> tuple[float, str]:
        """The output step in seconds (default 60) and the field it was read from."""
        content = self._settings(body, kinds)
        where = "settings.content.output_step_size"
        step = content.get("output_step_size")
        if step is None and isinstance(content.get("more"), dict):
            step, where = content["more"].get("output_step_size"), "settings.content.more.output_step_size"
        if step is None:
            return DEFAULT_STEP_S, where
        if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step):
            raise invalid(where, "must be a number of seconds", step)
        if not 1 <= step <= 86_400:
            raise invalid(where, f"{step} s is out of range: it must be from 1 to 86400 seconds", step)
        return float(step), where

    @staticmethod
    def _instant(value: Any, where: str) -> datetime:
        if not isinstance(value, str):
            raise invalid(where, "must be an ISO 8601 date-time such as 2018-08-07T18:00:00.000Z", value)
        try:
            moment = parse_instant(value)
        except (ValueError, OverflowError):
            raise invalid(where, "is not an ISO 8601 date-time such as 2018-08-07T18:00:00.000Z", value) from None
        if not 1957 <= moment.year <= 2100:
            raise invalid(where, "must fall between 1957 and 2100", value)
        return moment
