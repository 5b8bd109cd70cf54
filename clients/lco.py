"""Client for the LCO observing portal, science archive and thumbnail service, as library and command.

Usage as a command::

    python -m clients.lco proposals
    python -m clients.lco submit request.json --wait --download frames/
    python -m clients.lco frames --reqnum 1234 --download frames/
    python -m clients.lco thumbnail 42120 --out m42.jpg --width 400

The username and password come from ``--username``/``--password``, the variables
``LCO_USERNAME``/``LCO_PASSWORD`` or a dotenv file (``.lco.env`` by default); an API
token may stand in for them (``LCO_TOKEN``). The client logs in once, checks a
userrequest with the portal's validate endpoint before submitting it (and
reports every error with the place it concerns), waits for a submitted request
to finish with growing pauses, follows the archive's pages, downloads frames and
draws thumbnails. The service URLs default to LCO's and can be set with
``LCO_PORTAL_URL``, ``LCO_ARCHIVE_URL`` and ``LCO_THUMBNAILS_URL``.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._http import ApiError, ApiSession, Token, TokenAuth, json_object, run_subcommand, settings_from

PORTAL_URL = "https://observe.lco.global/api"
ARCHIVE_URL = "https://archive-api.lco.global"
THUMBNAILS_URL = "https://thumbnails.lco.global"
DEFAULT_ENV_FILE = ".lco.env"
ENV_PREFIX = "LCO"
TERMINAL = ("COMPLETED", "WINDOW_EXPIRED", "CANCELED")


class ConfigError(ValueError):
    """A required setting is missing or malformed."""


class RequestInvalid(Exception):
    """The portal found problems in a userrequest; ``errors`` is its answer, ``problems`` one line each."""

    def __init__(self, errors: Any) -> None:
        self.errors = errors
        self.problems = list(flatten(errors))
        super().__init__("the userrequest is not valid:\n  " + "\n  ".join(self.problems))


def flatten(errors: Any, where: str = "") -> Iterator[str]:
    """DRF's nested errors as 'requests[0].molecules[1].filter: message' lines."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            place = where if key == "non_field_errors" else (f"{where}.{key}" if where else key)
            yield from flatten(value, place)
    elif isinstance(errors, list):
        if all(isinstance(item, str) for item in errors):
            for message in errors:
                yield f"{where}: {message}" if where else message
        else:
            for index, item in enumerate(errors):
                yield from flatten(item, f"{where}[{index}]")
    elif errors:
        yield f"{where}: {errors}" if where else str(errors)


class DrfTokenLogin(TokenAuth):
    """Django REST framework's token login: a form of username and password; ``Token`` in the header.
    A given token is used as it is. The portal answers a dead token with 403, the archive with 401."""

    scheme = "Token"

    def __init__(self, login_url: str, username: str | None, password: str | None, token: str | None,
                 dead: frozenset[int]) -> None:
        self.login_url, self.username, self.password, self.given = login_url, username, password, token
        self.dead_statuses = dead

    def fetch(self, session: ApiSession) -> Token:
        if self.username and self.password:
            answer = session.request("POST", self.login_url, authenticate=False, idempotent=True,
                                     data={"username": self.username, "password": self.password})
            return Token(json_object(answer)["token"])
        if self.given:
            return Token(self.given)
        raise ConfigError("no credentials: give a username and password, or a token")

    def __repr__(self) -> str:
        return "DrfTokenLogin(username=<redacted>, password=<redacted>)"


class BearerToken(TokenAuth):
    """The archive token the portal's profile hands out, sent as Bearer (when only a portal token is known)."""

    dead_statuses = frozenset({401})

    def __init__(self, portal: ApiSession) -> None:
        self.portal = portal

    def fetch(self, session: ApiSession) -> Token:
        return Token(json_object(self.portal.request("GET", "profile/"))["tokens"]["archive"])


class LcoClient:
    """The three LCO services with one set of credentials."""

    def __init__(self, username: str | None = None, password: str | None = None, token: str | None = None, *,
                 portal_url: str = PORTAL_URL, archive_url: str = ARCHIVE_URL,
                 thumbnails_url: str = THUMBNAILS_URL, sleep: Callable[[float], None] | None = None,
                 monotonic: Callable[[], float] | None = None) -> None:
        clocks = {k: v for k, v in (("sleep", sleep), ("monotonic", monotonic)) if v is not None}
        self.portal = ApiSession(portal_url, auth=DrfTokenLogin(
            f"{portal_url.rstrip('/')}/api-token-auth/", username, password, token, frozenset({403})), **clocks)
        archive_auth: TokenAuth = DrfTokenLogin(f"{archive_url.rstrip('/')}/api-token-auth/", username, password,
                                                None, frozenset({401})) if username and password \
            else BearerToken(self.portal)
        self.archive = ApiSession(archive_url, auth=archive_auth, **clocks)
        self.thumbnails = ApiSession(thumbnails_url, **clocks)

    # --- the portal ------------------------------------------------------------------------------------
    def proposals(self) -> list[dict[str, Any]]:
        return list(self.pages(self.portal, "proposals/"))

    def validate(self, userrequest: Mapping[str, Any]) -> dict[str, Any]:
        """The portal's check: the durations; RequestInvalid listing every problem otherwise."""
        answer = json_object(self.portal.request("POST", "userrequests/validate/", json=dict(userrequest),
                                                       idempotent=True))
        if answer.get("errors"):
            raise RequestInvalid(answer["errors"])
        return answer["request_durations"]

    def submit(self, userrequest: Mapping[str, Any], validate_first: bool = True) -> dict[str, Any]:
        """Submit (after validating, so nothing is stored when something is wrong); the stored userrequest."""
        if validate_first:
            self.validate(userrequest)
        try:
            answer = self.portal.request("POST", "userrequests/", json=dict(userrequest), expected=(201,))
        except ApiError as error:
            if error.status == 400:
                raise RequestInvalid(error.body) from None
            raise
        return json_object(answer)

    def userrequest(self, number: int) -> dict[str, Any]:
        return json_object(self.portal.request("GET", f"userrequests/{number}/"))

    def cancel(self, number: int) -> dict[str, Any]:
        return json_object(self.portal.request("POST", f"userrequests/{number}/cancel/", idempotent=True))

    def wait(self, number: int, *, timeout: float = 86_400.0, interval: float = 60.0, max_interval: float = 900.0,
             progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Poll a userrequest until it is COMPLETED, WINDOW_EXPIRED or CANCELED (waits growing to max_interval)."""
        return self.portal.poll(lambda: self.userrequest(number), lambda ur: ur["state"] in TERMINAL,
                                interval=interval, timeout=timeout, max_interval=max_interval, progress=progress)

    # --- the archive ---------------------------------------------------------------------------------------
    @staticmethod
    def pages(session: ApiSession, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every result of a paged list, following the absolute ``next`` links."""
        answer = json_object(session.request("GET", path, params=params))
        while True:
            yield from answer["results"]
            if not answer.get("next"):
                return
            answer = json_object(session.request("GET", answer["next"]))

    def frames(self, **filters: Any) -> Iterator[dict[str, Any]]:
        return self.pages(self.archive, "frames/", {"limit": 1000, **filters})

    def download(self, frame: Mapping[str, Any], directory: str | Path) -> Path:
        """Save a frame's file (from its ``url``) in ``directory``."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        answer = self.archive.request("GET", frame["url"], authenticate=False)
        target = folder / frame["filename"]
        target.write_bytes(answer.content)
        return target

    # --- thumbnails -----------------------------------------------------------------------------------------
    def thumbnail(self, frame_id: int | str, **options: Any) -> dict[str, str]:
        """The thumbnail's link and proposal; the archive's credentials pass through for proprietary frames."""
        headers: dict[str, str] = {}
        if self.archive.auth is not None:
            self.archive.auth.apply(headers, self.archive.token())
        answer = self.thumbnails.request("GET", f"{frame_id}/", headers=headers,
                                         params={k: str(v).lower() if isinstance(v, bool) else v
                                                 for k, v in options.items()})
        return json_object(answer)

    def save_thumbnail(self, frame_id: int | str, path: str | Path, **options: Any) -> Path:
        link = self.thumbnail(frame_id, **options)["url"]
        target = Path(path)
        target.write_bytes(self.thumbnails.request("GET", link).content)
        return target


# --- the command ---------------------------------------------------------------------------------------
def _client(args: argparse.Namespace) -> LcoClient:
    settings = settings_from(ENV_PREFIX, args={"username": args.username, "password": args.password,
                                               "token": args.token}, env_file=args.env_file,
                             names=("portal_url", "archive_url", "thumbnails_url"))
    if not (settings["username"] and settings["password"]) and not settings["token"]:
        raise ConfigError("missing credentials: set LCO_USERNAME and LCO_PASSWORD (or LCO_TOKEN), in the "
                          f"environment or {DEFAULT_ENV_FILE}")
    return LcoClient(settings["username"], settings["password"], settings["token"],
                     portal_url=settings["portal_url"] or PORTAL_URL, archive_url=settings["archive_url"] or ARCHIVE_URL,
                     thumbnails_url=settings["thumbnails_url"] or THUMBNAILS_URL)


def _progress(enabled: bool) -> Callable[[dict[str, Any]], None] | None:
    if not enabled:
        return None
    from tqdm import tqdm
    bar = tqdm(desc="waiting for the network", unit=" looks", file=sys.stderr, leave=False)

    def show(userrequest: dict[str, Any]) -> None:
        bar.update(1)
        bar.set_postfix_str(userrequest["state"])
    return show


def _proposals(args: argparse.Namespace) -> int:
    for proposal in _client(args).proposals():
        print(f"{proposal['id']:<18} {proposal['title']}")
        for allocation in proposal["timeallocation_set"]:
            print(f"    {allocation['semester']} {allocation['telescope_class']} {allocation['instrument_name']:<20} "
                  f"{allocation['std_time_used']:.2f}/{allocation['std_allocation']:.2f} h")
    return 0


def _download_all(client: LcoClient, frames: list[dict[str, Any]], directory: str | None) -> None:
    for frame in frames:
        print(f"{frame['id']:>12}  {frame['basename']}  RLEVEL {frame['RLEVEL']}  {frame['FILTER']}  {frame['DATE_OBS']}")
        if directory:
            print(f"    wrote {client.download(frame, directory)}")


def _submit(args: argparse.Namespace) -> int:
    client = _client(args)
    try:
        made = client.submit(json.loads(Path(args.file).read_text()))
    except RequestInvalid as invalid:
        print(f"error: {invalid}", file=sys.stderr)
        return 1
    print(f"userrequest {made['id']}: {made['state']}, requests {', '.join(str(r['id']) for r in made['requests'])}")
    if not args.wait:
        return 0
    final = client.wait(made["id"], timeout=args.timeout, interval=args.interval, progress=_progress(not args.quiet))
    print(f"userrequest {final['id']}: {final['state']}")
    for request in final["requests"]:
        if request["state"] == "COMPLETED":
            _download_all(client, list(client.frames(REQNUM=request["id"])), args.download)
    return 0 if final["state"] == "COMPLETED" else 1


def _frames(args: argparse.Namespace) -> int:
    client = _client(args)
    filters = {k: v for k, v in (("REQNUM", args.reqnum), ("PROPID", args.propid), ("RLEVEL", args.rlevel),
                                 ("covers", args.covers)) if v is not None}
    frames = list(client.frames(**filters))
    _download_all(client, frames, args.download)
    print(f"{len(frames)} frame(s)")
    return 0


def _thumbnail(args: argparse.Namespace) -> int:
    options = {k: v for k, v in (("width", args.width), ("height", args.height), ("label", args.label)) if v}
    if args.color:
        options["color"] = True
    print(f"wrote {_client(args).save_thumbnail(args.frame, args.out, **options)}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m clients.lco", description=__doc__.split("\n\n")[0])
    top.add_argument("--username", help="LCO user (prefer LCO_USERNAME)")
    top.add_argument("--password", help="LCO password (prefer LCO_PASSWORD)")
    top.add_argument("--token", help="a portal API token, instead of a username and password (prefer LCO_TOKEN)")
    top.add_argument("--env-file", default=DEFAULT_ENV_FILE, help=f"dotenv file (default {DEFAULT_ENV_FILE})")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("proposals", help="your proposals and their time").set_defaults(func=_proposals)
    submit = sub.add_parser("submit", help="validate and submit a userrequest (JSON file)")
    submit.add_argument("file")
    submit.add_argument("--wait", action="store_true", help="wait until it completes or expires")
    submit.add_argument("--timeout", type=float, default=7 * 86_400.0, help="seconds to wait (default a week)")
    submit.add_argument("--interval", type=float, default=60.0, help="first pause between looks (default 60 s)")
    submit.add_argument("--download", metavar="DIR", help="save the frames of completed requests in DIR")
    submit.add_argument("--quiet", action="store_true", help="no progress bar while waiting")
    submit.set_defaults(func=_submit)
    frames = sub.add_parser("frames", help="list (and download) archive frames")
    frames.add_argument("--reqnum", help="the portal's request id")
    frames.add_argument("--propid", help="a proposal")
    frames.add_argument("--rlevel", help="0, 11, 91 (or 90 for spectra)")
    frames.add_argument("--covers", help="POINT(ra dec) in degrees")
    frames.add_argument("--download", metavar="DIR", help="save the frames in DIR")
    frames.set_defaults(func=_frames)
    thumbnail = sub.add_parser("thumbnail", help="save a JPEG of an archive frame")
    thumbnail.add_argument("frame", help="archive frame id or basename")
    thumbnail.add_argument("--out", required=True)
    thumbnail.add_argument("--width", type=int)
    thumbnail.add_argument("--height", type=int)
    thumbnail.add_argument("--label")
    thumbnail.add_argument("--color", action="store_true", help="colour from the request's red, visual, blue frames")
    thumbnail.set_defaults(func=_thumbnail)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    return run_subcommand(parser(), argv)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["ApiError", "ConfigError", "LcoClient", "RequestInvalid", "flatten", "main"]
