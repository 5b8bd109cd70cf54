"""Client for OKAPI:Orbits pass prediction and orbit propagation, as library and command.

Usage as a command::

    python -m clients.okapi passes --tle iss.tle --lat 52.3283 --lon 10.645 --alt 0.048 \\
        --start 2018-08-07T18:00Z --end 2018-08-08T00:00Z
    python -m clients.okapi propagate --tle iss.tle --end 2018-08-08T00:00Z --step 600

The username and password come from ``--username``/``--password``, the variables
``OKAPI_USERNAME``/``OKAPI_PASSWORD`` or a dotenv file (``.okapi.env`` by default);
prefer the latter two, since arguments are visible to other users of the machine.
The client logs in at OKAPI's Auth0 tenant for the real service (at
``<base-url>/oauth/token`` for any other base URL, such as a Skymock mock), logs in
again a few minutes before the token's day is over and once more if a request is
refused with 401, and polls results while the service answers 202.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._http import (ApiError, ApiSession, RetryPolicy, Token, TokenAuth, json_object, parse_retry_after,
                    run_subcommand, settings_from)

DEFAULT_BASE_URL = "https://api.okapiorbits.com"
AUTH0_TOKEN_URL = "https://okapi-development.eu.auth0.com/oauth/token"
AUDIENCE = "https://api.okapiorbits.space/picard"
CLIENT_ID = "jrk0ZTrTuApxUstXcXdu9r71IX5IeKD3"
SCOPE = ("neptune_propagation neptune_propagation_request pass_predictions pass_prediction_requests "
         "pass_predictions_long pass_prediction_requests_long")
DEFAULT_ENV_FILE = ".okapi.env"
ENV_PREFIX = "OKAPI"


class ConfigError(ValueError):
    """A required setting is missing or malformed."""


def token_url_for(base_url: str) -> str:
    """OKAPI's Auth0 tenant for OKAPI's own hosts; ``<base>/oauth/token`` for anything else (a mock)."""
    host = urlsplit(base_url).hostname or ""
    return AUTH0_TOKEN_URL if host.endswith("okapiorbits.com") else base_url.rstrip("/") + "/oauth/token"


class Auth0Login(TokenAuth):
    """Auth0's resource-owner password grant; the token's ``expires_in`` drives the proactive renewal."""

    dead_statuses: frozenset[int] = frozenset({401})
    refresh_margin = 300.0            # log in again five minutes before the day is over

    def __init__(self, username: str, password: str, token_url: str) -> None:
        self._form = {"grant_type": "password", "username": username, "password": password,
                      "audience": AUDIENCE, "scope": SCOPE, "client_id": CLIENT_ID}
        self.token_url = token_url

    def fetch(self, session: ApiSession) -> Token:
        answer = json_object(session.request("POST", self.token_url, data=self._form, authenticate=False,
                                                     idempotent=True))
        lifetime = float(answer["expires_in"])
        # never renew "before" a token is issued: a short lifetime shrinks the margin with it
        self.refresh_margin = min(Auth0Login.refresh_margin, lifetime / 4)
        return Token.expiring(answer["access_token"], lifetime, session.monotonic())

    def __repr__(self) -> str:
        return "Auth0Login(username=<redacted>, password=<redacted>)"


@dataclass(frozen=True)
class Pass:
    start: str
    end: str
    duration: float
    start_azimuth: float
    end_azimuth: float
    max_elevation: float
    max_elevation_epoch: str


@dataclass(frozen=True)
class State:
    epoch: str
    x: float
    y: float
    z: float
    x_dot: float
    y_dot: float
    z_dot: float


def _instant(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _status_text(body: Any) -> str:
    status = body.get("status") if isinstance(body, dict) else None
    return str(status.get("text", "")) if isinstance(status, dict) else ""


class OkapiClient:
    """Send requests, wait for their results, read passes and states."""

    def __init__(self, username: str, password: str, base_url: str = DEFAULT_BASE_URL, *,
                 token_url: str | None = None, retry: RetryPolicy | None = None,
                 session: ApiSession | None = None) -> None:
        auth = Auth0Login(username, password, token_url or token_url_for(base_url))
        self.session = session or ApiSession(base_url, auth=auth, retry=retry)
        if session is not None:
            self.session.auth = auth

    # --- the asynchronous protocol --------------------------------------------------------------
    def send(self, family: str, engine: str, body: Mapping[str, Any]) -> str:
        """POST a request; its ``request_id``."""
        answer = self.session.request("POST", f"{family}/{engine}/requests", json=dict(body), expected=(200, 202))
        return str(json_object(answer)["request_id"])

    def look(self, family: str, engine: str, request_id: str, fmt: str) -> tuple[int, dict[str, Any], str | None]:
        """One look at a result: (200 or 202, body, Retry-After if the server sent one)."""
        answer = self.session.request("GET", f"{family}/{engine}/results/{request_id}/{fmt}", expected=(200, 202))
        return answer.status_code, json_object(answer), answer.headers.get("Retry-After")

    def wait(self, family: str, engine: str, request_id: str, fmt: str = "simple", *, timeout: float = 300.0,
             interval: float = 1.0, max_interval: float = 15.0,
             progress: Callable[[int, str], None] | None = None) -> dict[str, Any]:
        """Poll until the result is ready. Waits grow from ``interval`` to ``max_interval``, and are never
        shorter than a Retry-After the service sends; TimeoutError after ``timeout`` seconds."""
        session = self.session
        deadline = session.monotonic() + timeout
        wait, looks = interval, 0
        while True:
            status, body, retry_after = self.look(family, engine, request_id, fmt)
            looks += 1
            if progress is not None:
                progress(looks, _status_text(body))
            if status == 200:
                return body
            asked = parse_retry_after(retry_after, session.retry.wall_clock())
            pause = max(wait, asked or 0.0)
            remaining = deadline - session.monotonic()
            if remaining <= 0 or pause > remaining:
                raise TimeoutError(f"{family}/{engine} request {request_id} not done after {timeout:g} s "
                                   f"({looks} looks): {_status_text(body)}")
            session.sleep(pause)
            wait = min(max_interval, wait * 1.5)

    def run(self, family: str, engine: str, body: Mapping[str, Any], fmt: str = "simple", **wait: Any) -> dict[str, Any]:
        """Send a request and wait for its result; the first look comes one interval after the request,
        as the answer has just said it is not ready."""
        request_id = self.send(family, engine, body)
        self.session.sleep(wait.get("interval", 1.0))
        return self.wait(family, engine, request_id, fmt, **wait)

    # --- typed helpers --------------------------------------------------------------------------
    def predict_passes(self, tle: str, latitude: float, longitude: float, altitude_km: float,
                       start: datetime | str, end: datetime | str, *, step: float = 60, engine: str = "sgp4",
                       **wait: Any) -> list[Pass]:
        body = {"orbit": {"type": "tle.txt", "content": tle.strip()},
                "ground_location": {"type": "ground_loc.json",
                                    "content": {"longitude": longitude, "latitude": latitude, "altitude": altitude_km}},
                "time_window": {"type": "tw.json", "content": {"start": _instant(start), "end": _instant(end)}},
                "settings": {"type": "shared_prop_settings.json", "content": {"output_step_size": step}}}
        result = self.run("predict-passes", engine, body, "summary", **wait)
        fields = Pass.__dataclass_fields__
        return [Pass(**{k: v for k, v in p.items() if k in fields}) for p in result["pass_predictions"]]

    def propagate(self, tle: str, end: datetime | str, *, step: float = 60, engine: str = "sgp4",
                  **wait: Any) -> list[State]:
        body = {"orbit": {"type": "tle.txt", "content": tle.strip()},
                "settings": {"type": "prop_settings.json",
                             "content": {"propagation_end_epoch": _instant(end), "more": {"output_step_size": step}}}}
        return [State(**s) for s in self.run("propagate-orbit", engine, body, "simple", **wait)["states"]]


# --- the command ----------------------------------------------------------------------------------
def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)


def _client(args: argparse.Namespace) -> OkapiClient:
    settings = settings_from(ENV_PREFIX, args={"username": args.username, "password": args.password,
                                               "base_url": args.base_url}, env_file=args.env_file)
    missing = [name for name in ("username", "password") if not settings[name]]
    if missing:
        raise ConfigError(f"missing {' and '.join(missing)}: set OKAPI_USERNAME and OKAPI_PASSWORD "
                          f"(environment or {DEFAULT_ENV_FILE}) or pass --username/--password")
    return OkapiClient(settings["username"], settings["password"], settings["base_url"] or DEFAULT_BASE_URL)


def _progress(enabled: bool) -> Callable[[int, str], None] | None:
    if not enabled:
        return None
    from tqdm import tqdm

    bar = tqdm(desc="waiting for OKAPI", unit=" looks", file=sys.stderr, leave=False)

    def show(looks: int, text: str) -> None:
        bar.update(looks - bar.n)
        bar.set_postfix_str(text[:60])
    return show


def _passes(args: argparse.Namespace) -> int:
    client = _client(args)
    passes = client.predict_passes(Path(args.tle).read_text(), args.lat, args.lon, args.alt, args.start, args.end,
                                   step=args.step, engine=args.engine, timeout=args.timeout,
                                   progress=_progress(not args.quiet))
    rows = [(p.start, p.end, f"{p.duration:.0f}", f"{p.start_azimuth:.1f}", f"{p.end_azimuth:.1f}",
             f"{p.max_elevation:.1f}", p.max_elevation_epoch) for p in passes]
    print(_table(rows, ["AOS (UTC)", "LOS (UTC)", "seconds", "AOS az", "LOS az", "max el", "max el at"]))
    print(f"{len(passes)} pass(es)")
    return 0


def _propagate(args: argparse.Namespace) -> int:
    client = _client(args)
    states = client.propagate(Path(args.tle).read_text(), args.end, step=args.step, engine=args.engine,
                              timeout=args.timeout, progress=_progress(not args.quiet))
    rows = [(s.epoch, *(f"{v:.3f}" for v in (s.x, s.y, s.z)), *(f"{v:.6f}" for v in (s.x_dot, s.y_dot, s.z_dot)))
            for s in states]
    print(_table(rows, ["epoch (UTC)", "x km", "y km", "z km", "vx km/s", "vy km/s", "vz km/s"]))
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m clients.okapi", description=__doc__.split("\n\n")[0])
    top.add_argument("--base-url", help=f"service URL (default {DEFAULT_BASE_URL}, or OKAPI_BASE_URL)")
    top.add_argument("--username", help="OKAPI user (prefer OKAPI_USERNAME)")
    top.add_argument("--password", help="OKAPI password (prefer OKAPI_PASSWORD)")
    top.add_argument("--env-file", default=DEFAULT_ENV_FILE, help=f"dotenv file (default {DEFAULT_ENV_FILE})")
    top.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for a result (default 300)")
    top.add_argument("--quiet", action="store_true", help="no progress bar while waiting")
    sub = top.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--tle", required=True, help="file with the TLE (two lines, or a name line and two lines)")
        p.add_argument("--engine", default="sgp4", choices=["sgp4", "neptune", "orekit-numerical"])
        p.add_argument("--step", type=float, default=60.0, help="output step in seconds (default 60)")

    passes = sub.add_parser("passes", help="passes of a satellite over a ground location")
    common(passes)
    passes.add_argument("--lat", type=float, required=True, help="latitude, degrees north")
    passes.add_argument("--lon", type=float, required=True, help="longitude, degrees east")
    passes.add_argument("--alt", type=float, default=0.0, help="altitude, km (default 0)")
    passes.add_argument("--start", required=True, help="window start, ISO 8601 UTC")
    passes.add_argument("--end", required=True, help="window end, ISO 8601 UTC")
    passes.set_defaults(func=_passes)

    propagate = sub.add_parser("propagate", help="states of an orbit from its epoch to --end")
    common(propagate)
    propagate.add_argument("--end", required=True, help="end epoch, ISO 8601 UTC")
    propagate.set_defaults(func=_propagate)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    return run_subcommand(parser(), argv)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["ApiError", "Auth0Login", "OkapiClient", "Pass", "State", "main", "token_url_for"]
