"""Client for the NRAO Operational Data Sharing (ODS) API, as library and command.

Usage as a command::

    python -m clients.nrao_ods [--base-url URL] [--env-file PATH] get-ods-data
    python -m clients.nrao_ods upload-tle satellites.tle
    python -m clients.nrao_ods upload-logs ./logs

Credentials come from options, ODS_* environment variables or a dotenv file
(``.ods.env`` by default). Prefer the latter two for the secret: command-line
arguments are visible to other users of the machine.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from tqdm import tqdm

from ._http import ApiError, ApiSession, Token, TokenAuth, json_object, run_command, settings_from

DEFAULT_BASE_URL = "https://ods.nrao.edu"
DEFAULT_ENV_FILE = ".ods.env"
ENV_PREFIX = "ODS"
TLE_LIMIT = 50_000   # bytes; the service wants TLE files strictly smaller
LOG_LIMIT = 750_000  # bytes; avoidance logs may be at most this size
UPLOAD_PAUSE = 10.0  # seconds the service asks for between log uploads


class ConfigError(ValueError):
    """A required setting is missing or malformed."""


class OdsTokenAuth(TokenAuth):
    """Client-credentials tokens; ODS answers 403 (not 401) to a dead token."""

    dead_statuses = frozenset({403})

    def __init__(self, client_id: str, client_secret: str,
                 lifetime: float | None = None) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.lifetime = lifetime
        if lifetime is not None:
            # A margin as large as the lifetime would renew before every request.
            self.refresh_margin = min(self.refresh_margin, lifetime / 10)

    def fetch(self, session: ApiSession) -> Token:
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self._secret}
        resp = session.request("POST", "/token/", data=form, authenticate=False, idempotent=True)
        value = json_object(resp).get("token")
        if not isinstance(value, str) or not value:
            raise ApiError(resp.status_code, None, "POST", resp.url, "no token in the response")
        return Token.expiring(value, self.lifetime, session.monotonic())

    def __repr__(self) -> str:
        return f"OdsTokenAuth(client_id={self.client_id!r}, client_secret=<redacted>)"


def _read_limited(path: str | Path, limit: int, *, inclusive: bool, what: str) -> bytes:
    """Read a file, refusing locally when the service would answer 413."""
    content = Path(path).read_bytes()
    too_big = len(content) > limit if inclusive else len(content) >= limit
    if too_big:
        rule = f"at most {limit:,}" if inclusive else f"smaller than {limit:,}"
        raise ValueError(f"{path}: {len(content):,} bytes; {what} must be {rule} bytes")
    return content


def _read_log(path: str | Path) -> bytes:
    return _read_limited(path, LOG_LIMIT, inclusive=True, what="an avoidance log")


class OdsClient:
    """Read ODS data and upload TLE files and satellite-avoidance logs.

    ``sleep`` and ``monotonic`` replace the real clocks (tests pass a sleep
    that advances a virtual clock); ``token_lifetime`` is the token lifetime
    in seconds agreed with the operator, since the service does not say it.
    """

    def __init__(self, base_url: str = DEFAULT_BASE_URL, client_id: str | None = None,
                 client_secret: str | None = None, *, token_lifetime: float | None = None,
                 upload_pause: float = UPLOAD_PAUSE,
                 sleep: Callable[[float], None] | None = None,
                 monotonic: Callable[[], float] | None = None,
                 timeout: float = 30, progress: bool = True) -> None:
        if not client_id:
            raise ConfigError("missing client id: pass --client-id or set ODS_CLIENT_ID "
                              "(environment or env file)")
        if not client_secret:
            raise ConfigError("missing client secret: set ODS_CLIENT_SECRET "
                              "(environment or env file) or pass --client-secret")
        if token_lifetime is not None and token_lifetime <= 0:
            raise ConfigError("token lifetime (ODS_TOKEN_LIFETIME) must be positive seconds")
        self.upload_pause = upload_pause
        self.progress = progress
        self.session = ApiSession(
            base_url or DEFAULT_BASE_URL,
            auth=OdsTokenAuth(client_id, client_secret, token_lifetime),
            sleep=sleep or time.sleep, monotonic=monotonic or time.monotonic,
            timeout=timeout)

    @classmethod
    def from_settings(cls, args: Mapping[str, Any] | None = None,
                      env_file: str | None = DEFAULT_ENV_FILE, **kwargs: Any) -> OdsClient:
        """Build from args, then ODS_* variables, then the dotenv file.

        Recognised names: base_url, client_id, client_secret, token_lifetime.
        Other keyword arguments (sleep, progress, ...) go to the constructor.
        """
        names = ("base_url", "client_id", "client_secret", "token_lifetime")
        found = settings_from(ENV_PREFIX, args=args, env_file=env_file, names=names)
        lifetime = found["token_lifetime"]
        if lifetime is not None:
            try:
                lifetime = float(lifetime)
            except ValueError:
                raise ConfigError("ODS_TOKEN_LIFETIME must be a number of seconds") from None
        return cls(found["base_url"] or DEFAULT_BASE_URL, found["client_id"],
                   found["client_secret"], token_lifetime=lifetime, **kwargs)

    def get_ods_data(self) -> list[dict[str, Any]]:
        """All current ODS records (the endpoint is not paginated)."""
        resp = self.session.request("GET", "/ods_data/")
        records = json_object(resp).get("ods_data")
        if not isinstance(records, list):
            raise ApiError(resp.status_code, None, "GET", resp.url, "no ods_data list")
        return records

    def upload_tle(self, path: str | Path) -> dict[str, Any]:
        """Upload a three-line-element file; returns the service's JSON answer."""
        content = _read_limited(path, TLE_LIMIT, inclusive=False, what="a TLE file")
        files = {"tle_file": (Path(path).name, content, "text/plain")}
        resp = self.session.request("POST", "/tle_data", files=files, expected=(201,), idempotent=True)
        return json_object(resp)

    def upload_avoidance_log(self, path: str | Path) -> dict[str, Any]:
        """Upload one avoidance-log CSV. Its file name is sent as is, because
        the service reads the facility from the name's prefix."""
        return self._send_log(Path(path).name, _read_log(path))

    def _send_log(self, name: str, content: bytes) -> dict[str, Any]:
        files = {"file": (name, content, "text/csv")}
        resp = self.session.request("POST", "/sat_avoidance_logs", files=files,
                                    idempotent=True)  # the service ingests a row once
        return json_object(resp)

    def upload_logs(self, directory: str | Path) -> list[tuple[str, dict[str, Any]]]:
        """Upload every ``*.csv`` of a directory in name order, pacing uploads.

        A file the service rejects as invalid (400) or that is too big to send
        is reported as ``{"error": message}`` and the others still go; any
        other failure stops the batch by raising.
        """
        paths = sorted((p for p in Path(directory).glob("*.csv") if p.is_file()),
                       key=lambda p: p.name)
        results: list[tuple[str, dict[str, Any]]] = []
        last_end: float | None = None
        bar = tqdm(paths, desc="avoidance logs", unit="file", file=sys.stderr,
                   disable=None if self.progress else True)
        for path in bar:
            try:
                content = _read_log(path)
            except ValueError as exc:  # nothing sent, so no pause is owed
                results.append((path.name, {"error": str(exc)}))
                continue
            self._pause_since(last_end)
            try:
                results.append((path.name, self._send_log(path.name, content)))
            except ApiError as exc:
                if exc.status != 400:
                    raise
                results.append((path.name, {"error": str(exc)}))
            finally:
                last_end = self.session.monotonic()
        return results

    def _pause_since(self, last_end: float | None) -> None:
        """Sleep whatever is left of the pause the service asks for."""
        if last_end is None:
            return
        remaining = self.upload_pause - (self.session.monotonic() - last_end)
        if remaining > 0:
            self.session.sleep(remaining)


# -- command line ---------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m clients.nrao_ods",
                                description="NRAO ODS API client.")
    p.add_argument("--base-url", help=f"service root (ODS_BASE_URL; default {DEFAULT_BASE_URL})")
    p.add_argument("--client-id", help="client id (ODS_CLIENT_ID)")
    p.add_argument("--client-secret",
                   help="client secret (ODS_CLIENT_SECRET; prefer the variable)")
    p.add_argument("--env-file", default=DEFAULT_ENV_FILE,
                   help=f"dotenv file with ODS_* settings (default {DEFAULT_ENV_FILE})")
    p.add_argument("--token-lifetime", type=float,
                   help="token lifetime in seconds (ODS_TOKEN_LIFETIME)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("get-ods-data", help="print the current ODS records")
    sub.add_parser("upload-tle", help="upload a 3LE file").add_argument("file")
    sub.add_parser("upload-logs", help="upload every *.csv of a directory").add_argument("dir")
    return p


def _run(ns: argparse.Namespace) -> tuple[Any, bool]:
    """Execute the chosen command; returns (result to print, all succeeded)."""
    args = {"base_url": ns.base_url, "client_id": ns.client_id,
            "client_secret": ns.client_secret, "token_lifetime": ns.token_lifetime}
    client = OdsClient.from_settings(args, env_file=ns.env_file)
    if ns.command == "get-ods-data":
        return client.get_ods_data(), True
    if ns.command == "upload-tle":
        return client.upload_tle(ns.file), True
    if not Path(ns.dir).is_dir():
        raise ConfigError(f"{ns.dir}: not a directory")
    results = client.upload_logs(ns.dir)
    ok = all("error" not in result for _, result in results)
    return [{"file": name, "result": result} for name, result in results], ok


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 success, 1 service error, 2 usage or configuration error."""
    ns = _parser().parse_args(argv)

    def work() -> int:
        result, ok = _run(ns)
        print(json.dumps(result, indent=2))
        return 0 if ok else 1
    return run_command(work)


if __name__ == "__main__":
    sys.exit(main())
