"""The ``python -m clients.dsn`` command: tables for people, ``--json`` for programs.

Exit status: 0 success, 1 the service refused (its message on stderr), 2 a usage
or configuration error (bad arguments, no token, unreadable file).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._http import run_command
from .dsn import DEFAULT_BASE_URL, DEFAULT_ENV_FILE, ConfigError, DsnClient

Rows = list[Sequence[Any]]


# -- formatting -------------------------------------------------------------------------------
def table(headers: Sequence[str], rows: Rows) -> str:
    """Left-aligned columns, a rule under the headers; "(none)" for no rows."""
    if not rows:
        return "(none)"
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(parts: Sequence[str]) -> str:
        return "  ".join(p.ljust(w) for p, w in zip(parts, widths)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def when(stamp: str | None) -> str:
    """``2026-05-06T10:03:05.000Z`` -> ``2026-05-06 10:03:05`` (UTC)."""
    return stamp[:19].replace("T", " ") if stamp else ""


def duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def degrees(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


# -- subcommands ------------------------------------------------------------------------------
def read_tle(path: str) -> dict[str, str]:
    """A 3-line (name, line 1, line 2) or 2-line element-set file."""
    lines = [line.rstrip() for line in Path(path).read_text().splitlines() if line.strip()]
    if len(lines) == 2:
        return {"line1": lines[0], "line2": lines[1]}
    if len(lines) == 3:
        name = lines[0].removeprefix("0 ")
        return {"name": name.strip(), "line1": lines[1], "line2": lines[2]}
    raise ConfigError(f"{path}: expected a 3-line element set (name, line 1, line 2), found {len(lines)} lines")


def passes(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    if ns.norad_id is None and ns.tle_file is None:
        raise ConfigError("passes: give a NORAD id or --tle-file")
    tle = read_tle(ns.tle_file) if ns.tle_file else None
    result = client.search_passes(ns.norad_id, tle=tle, start=ns.start, days=ns.days,
                                  ground_station_ids=ns.stations, min_elevation=ns.min_elevation,
                                  step_seconds=ns.step)
    found = result["passes"]
    if ns.plot is not None:
        if not 1 <= ns.plot <= len(found):
            raise ConfigError(f"--plot {ns.plot}: there are {len(found)} passes, numbered from 1")
        out = ns.out or f"pass-{ns.plot}.png"
        plot_pass(result, found[ns.plot - 1], out)
        print(f"wrote the track of pass {ns.plot} to {out}", file=sys.stderr)
    sat = result["satellite"]
    title = (f"{sat.get('name') or 'unnamed'} (NORAD {sat['noradId']}): {len(found)} passes "
             f"from {when(result.get('start'))} to {when(result.get('end'))} UTC, "
             f"above {result.get('minElevationDeg', ns.min_elevation or 10):g} deg")
    rows = [(n, p["groundStationId"], when(p["aos"]), when(p["los"]),
             duration(p.get("duration_seconds", 0)), degrees(p["max_elevation"]),
             degrees(p["aos_azimuth"]), degrees(p["los_azimuth"])) for n, p in enumerate(found, 1)]
    headers = ["#", "station", "AOS (UTC)", "LOS (UTC)", "duration", "max el", "AOS az", "LOS az"]
    return result, title + "\n" + table(headers, rows)


def plot_pass(result: dict[str, Any], pass_: dict[str, Any], out: str) -> None:
    """Sky track of one pass: azimuth clockwise from north, elevation 90 at the centre."""
    # Imported here, not at the top: only --plot needs matplotlib. The Agg canvas is
    # attached explicitly, so no GUI backend and no pyplot global state are involved.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    track = pass_["polar_track"]
    theta = [math.radians(p["azimuth"]) for p in track]
    radius = [90 - p["elevation"] for p in track]
    fig = Figure(figsize=(6, 6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(-1)
    ax.set_rlim(0, 90)
    ax.set_rticks([0, 30, 60, 90], ["90°", "60°", "30°", "0°"])  # radius is 90 - elevation
    ax.set_rlabel_position(202.5)
    ax.set_thetagrids(range(0, 360, 45), ["N", "45°", "E", "135°", "S", "225°", "W", "315°"])
    ax.plot(theta, radius, "-", color="tab:blue", label="track")
    ax.plot(theta[:1], radius[:1], "o", color="tab:green", label=f"AOS {when(pass_['aos'])[11:]}")
    ax.plot(theta[-1:], radius[-1:], "s", color="tab:red", label=f"LOS {when(pass_['los'])[11:]}")
    ax.annotate("AOS", (theta[0], radius[0]), textcoords="offset points", xytext=(6, 6))
    ax.annotate("LOS", (theta[-1], radius[-1]), textcoords="offset points", xytext=(6, 6))
    name = result["satellite"].get("name") or result["satellite"]["noradId"]
    ax.set_title(f"{name} over station {pass_['groundStationId']}\n{when(pass_['aos'])} UTC, "
                 f"max {pass_['max_elevation']:.1f}°", pad=16)
    ax.legend(loc="lower left", bbox_to_anchor=(-0.1, -0.12), fontsize="small")
    fig.savefig(out, format="png", dpi=100, bbox_inches="tight")


def book(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    result = client.create_booking(ns.norad_id, ns.type, ns.slot, uplink_key=ns.uplink_key,
                                   uplink_sha256=ns.uplink_sha256)
    text = f"booking {result['bookingId']} made (mission {result['missionId']}), status Pending"
    if result.get("uplinkFile"):
        text += "\n" + files_table([result["uplinkFile"]])
    return result, text


def bookings(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    result = client.list_bookings()
    rows = [(b["bookingId"], b["status"], b["noradId"], b["type"], s["gsId"], when(s["start"]),
             when(s["end"]), s["status"]) for b in result["bookings"] for s in b["slots"]]
    headers = ["booking", "status", "NORAD", "type", "station", "slot start", "slot end", "slot status"]
    return result, table(headers, rows)


def files_table(records: list[dict[str, Any]]) -> str:
    rows = [(f["id"], f["direction"], f["status"], f["s3Key"], (f.get("sha256") or "")[:12],
             when(f["updatedAt"]), f.get("statusReason", "")) for f in records]
    return table(["file", "direction", "status", "key", "sha256", "updated", "reason"], rows)


def files(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    fetch = client.list_downlink_files if ns.direction == "downlink" else client.list_uplink_files
    result = fetch(ns.booking_id)
    return result, files_table(result["files"])


def profiles_table(records: list[dict[str, Any]]) -> str:
    rows = [(p["id"], p["satelliteNoradId"], p.get("name") or "", p.get("createdBy", ""),
             when(p.get("createdAt"))) for p in records]
    return table(["profile", "NORAD", "name", "created by", "created"], rows)


def profiles(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    result = client.list_profiles(ns.norad_id)
    return result, profiles_table(result["profiles"])


def profile_create(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    try:
        content = json.loads(Path(ns.file).read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{ns.file}: not JSON ({exc})") from None
    result = client.create_profile(ns.norad_id, content, name=ns.name)
    return result, profiles_table([result["profile"]])


def transmitters(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    if ns.satellite is not None and ns.station is not None:
        raise ConfigError("transmitters: give --satellite or --station, not both")
    fetch: Callable[..., dict[str, Any]]
    args: list[Any] = [a for a in (ns.satellite, ns.station) if a is not None]
    if ns.satellite is not None:
        fetch = client.satellite_transmitters_by_mode if ns.mode else client.satellite_transmitters
    elif ns.station is not None:
        fetch = client.station_transmitters_by_mode if ns.mode else client.station_transmitters
    else:
        fetch = client.transmitters_by_mode if ns.mode else client.list_transmitters
    items = list(client.iter_pages(fetch, *args, *([ns.mode] if ns.mode else [])))
    rows = [(t["uuid"], t.get("description", ""), t["mode"], t.get("norad_cat_id") or "", t.get("gs_id") or "",
             t.get("downlink_low") or "", t.get("uplink_low") or "", t.get("status", "")) for t in items]
    headers = ["uuid", "description", "mode", "NORAD", "station", "downlink Hz", "uplink Hz", "status"]
    return {"data": items, "total": len(items)}, table(headers, rows)


def satellites(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    items = list(client.iter_pages(client.find_satellites, ns.name) if ns.name
                 else client.iter_pages(client.list_satellites))
    rows = [(s["norad_cat_id"], s["name"], s["status"], s.get("operator") or "", s.get("names") or "")
            for s in items]
    return {"data": items, "total": len(items)}, table(["NORAD", "name", "status", "operator", "other names"], rows)


def stations(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    items = list(client.iter_pages(client.find_stations, ns.description) if ns.description
                 else client.iter_pages(client.list_stations))
    rows = [(s["id"], s["description"], s["latitude"], s["longitude"], s["altitude"], s.get("min_horizon"))
            for s in items]
    return {"data": items, "total": len(items)}, table(["id", "description", "lat", "lon", "alt m", "mask"], rows)


def status(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    result = client.get_station_status(ns.gs_id)
    age = result["lastSeenAgeMs"]
    seen = "never" if result["lastSeenAt"] is None else f"{when(result['lastSeenAt'])} UTC ({age / 1000:.0f} s ago)"
    text = (f"station {result['groundStation']['id']} ({result['groundStation']['description']}): "
            f"{result['status']}\nlast seen: {seen}\nqueued commands: {result['queueDepth']}")
    return result, text


def simple(call: Callable[[DsnClient, argparse.Namespace], dict[str, Any]]) -> Callable[..., tuple[Any, str]]:
    """A command whose human output is the service's own message."""
    def run(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
        result = call(client, ns)
        return result, str(result.get("message") or result.get("status"))
    return run


def attach(client: DsnClient, ns: argparse.Namespace) -> tuple[Any, str]:
    result = client.attach_uplink_file(ns.booking_id, ns.key, ns.sha256)
    return result, f"recorded for booking {result['bookingId']}:\n" + files_table([result["uplinkFile"]])


COMMANDS: dict[str, Callable[[DsnClient, argparse.Namespace], tuple[Any, str]]] = {
    "passes": passes, "book": book, "bookings": bookings, "files": files, "attach": attach,
    "cancel": simple(lambda c, ns: c.cancel_booking(ns.booking_id)),
    "profiles": profiles,
    "profile-create": profile_create,
    "profile-delete": simple(lambda c, ns: c.delete_profile(ns.profile_id)),
    "satellites": satellites, "stations": stations, "status": status, "transmitters": transmitters,
}


# -- parser -----------------------------------------------------------------------------------
def slot_arg(text: str) -> tuple[str, str, str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError(f"{text!r}: expected START,END,GS_ID")
    return parts[0], parts[1], parts[2]


def id_list(text: str) -> list[str]:
    ids = [p.strip() for p in text.split(",") if p.strip()]
    if not ids:
        raise argparse.ArgumentTypeError("expected station ids separated by commas, e.g. 1,3886")
    return ids


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--base-url", help=f"service root (DSN_BASE_URL; default {DEFAULT_BASE_URL})")
    common.add_argument("--token", help="API token (DSN_API_TOKEN; prefer the variable or the env file)")
    common.add_argument("--env-file", help=f"dotenv file with DSN_* settings (default {DEFAULT_ENV_FILE})")
    common.add_argument("--json", action="store_true", help="print the raw JSON answer")
    p = argparse.ArgumentParser(prog="python -m clients.dsn", parents=[common],
                                description="Decentralized Space Network orbapi client.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_, parents=[common])

    s = add("passes", "predict passes of a satellite over the stations")
    s.add_argument("norad_id", type=int, nargs="?", help="NORAD id (or give --tle-file)")
    s.add_argument("--tle-file", help="3-line element set file (name, line 1, line 2)")
    s.add_argument("--start", help="window start, ISO 8601 (default: now)")
    s.add_argument("--days", type=float, help="window length in days (default 7, at most 14)")
    s.add_argument("--stations", type=id_list, help="station ids, e.g. 1,3886 (default: all)")
    s.add_argument("--min-elevation", type=float, help="elevation mask in degrees (default 10)")
    s.add_argument("--step", type=int, help="prediction step in seconds, 15-300 (default 60)")
    s.add_argument("--plot", type=int, metavar="PASS_INDEX", help="draw pass number PASS_INDEX (the # column)")
    s.add_argument("--out", help="PNG file for --plot (default pass-PASS_INDEX.png)")
    s = add("book", "book pass slots")
    s.add_argument("norad_id", type=int)
    s.add_argument("--type", choices=["data", "lora"], default="data", help="mission type (default data)")
    s.add_argument("--slot", type=slot_arg, action="append", required=True, metavar="START,END,GS_ID",
                   help="a slot; repeat for several")
    s.add_argument("--uplink-key", help="S3 key of an uplink file to attach")
    s.add_argument("--uplink-sha256", help="SHA-256 of that file (64 hex digits)")
    add("bookings", "list your bookings")
    add("cancel", "cancel a booking").add_argument("booking_id", type=int)
    s = add("files", "list a booking's files")
    s.add_argument("booking_id", type=int)
    s.add_argument("--direction", choices=["uplink", "downlink"], default="uplink")
    s = add("attach", "record an uplink file for a booking")
    s.add_argument("booking_id", type=int)
    s.add_argument("key", help="S3 object key, under clients/<owner>/")
    s.add_argument("--sha256", help="SHA-256 of the object (64 hex digits)")
    add("profiles", "list mission profiles of a satellite").add_argument("norad_id", type=int)
    s = add("profile-create", "store a JSON file as a mission profile")
    s.add_argument("norad_id", type=int)
    s.add_argument("file", help="JSON file: the profile's configuration")
    s.add_argument("--name", help="name of the profile")
    add("profile-delete", "delete a mission profile").add_argument("profile_id", type=int)
    add("satellites", "list satellites, or those whose name contains NAME").add_argument("name", nargs="?")
    add("stations", "list ground stations, or those whose description contains a text").add_argument(
        "description", nargs="?")
    add("status", "heartbeat status of a ground station").add_argument("gs_id")
    s = add("transmitters", "list transmitters")
    s.add_argument("--satellite", type=int, metavar="NORAD_ID")
    s.add_argument("--station", metavar="GS_ID")
    s.add_argument("--mode", help="mode name (lora) or number (89)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 success, 1 service error, 2 usage or configuration error."""
    ns = parser().parse_args(argv)
    # The shared options may stand before or after the subcommand; unset ones are absent.
    settings = {"base_url": getattr(ns, "base_url", None), "api_token": getattr(ns, "token", None)}

    def work() -> int:
        client = DsnClient.from_settings(settings, env_file=getattr(ns, "env_file", DEFAULT_ENV_FILE))
        result, text = COMMANDS[ns.command](client, ns)
        print(json.dumps(result, indent=2) if getattr(ns, "json", False) else text)
        return 0
    return run_command(work)


if __name__ == "__main__":
    sys.exit(main())
