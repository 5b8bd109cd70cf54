"""NRAO ODS: every rule of the service, without HTTP.

- tokens: client-credentials grant, opaque bearer tokens with a lifetime;
- the ODS feed: mitigation requests in progress or starting within the next
  thirty minutes of the virtual clock (see schedule.py for where they come from);
- satellite avoidance logs: a CSV per facility, all-or-nothing, records seen
  before are ignored;
- TLE uploads: 3LE text, every element set checked;
- courtesy: uploads from one client at least ten seconds apart.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...astro.tle import TLEError, parse_3le
from ...core.clock import iso
from ...core.errors import ApiError, invalid, missing
from ...core.service import Sandbox, current_or_none, fingerprint, note
from .schedule import Schedule

FEED_HORIZON = timedelta(minutes=30)
UPLOAD_PAUSE_SEC = 10.0
AVOIDANCE_CAP = 750_000          # "capped at 750 kB"; SI kilobytes, the stricter reading
TLE_LIMIT = 50_000               # "must be less than 50 kB"
STATIONS = ("SC", "HN", "NL", "FD", "LA", "PT", "KP", "OV", "BR", "MK")
FACILITY = re.compile(r"^(?P<facility>VLA|GBT|vlba_(?:" + "|".join(STATIONS) + r"))(?=[_.\-]|$)")
HEADER = ["utc_time", "freq_lower_mhz", "freq_upper_mhz", "avoidance_type", "angular_threshold", "sat_id"]
HEADER_SHORT = [name for name in HEADER if name != "angular_threshold"]
AVOIDANCE_TYPES = ("outer", "inner")
MAX_REPORTED = 10                # row problems listed in one answer

SCOPE_ODS, SCOPE_TBA, SCOPE_TLE = "ods:read", "tba:write", "tle:write"


@dataclass
class RowProblem:
    row: int
    column: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row} (line {self.row + 1}), column '{self.column}': {self.problem}"


class OdsModel:
    def __init__(self, sandbox: Sandbox) -> None:
        self.box = sandbox
        self.schedule = Schedule(sandbox.settings.seed)
        self.logs = sandbox.store.collection("avoidance_records")
        self.uploads = sandbox.store.collection("uploads")
        self.tles = sandbox.store.collection("tle_sets")
        self.upload_times = sandbox.store.collection("upload-times")   # each client's last upload

    # --- tokens ---------------------------------------------------------------------------
    def issue_token(self, grant_type: str | None, client_id: str | None, client_secret: str | None) -> str:
        for name, value in (("grant_type", grant_type), ("client_id", client_id), ("client_secret", client_secret)):
            if value is None or value == "":
                raise missing(name)
        context = current_or_none()
        if context is not None:
            context.client = client_id
        if grant_type != "client_credentials":
            raise ApiError(400, f"Unsupported grant_type '{grant_type}': only 'client_credentials' is accepted",
                           field="grant_type")
        credential = self.box.tokens.find(client_id=client_id, client_secret=client_secret)
        if credential is None:
            raise ApiError(401, "Invalid client credentials", field="client_id")
        return self.box.tokens.issue(credential).value

    # --- the feed -------------------------------------------------------------------------
    def ods_data(self) -> list[dict[str, Any]]:
        now = self.box.clock.now()
        return self.schedule.records(now, now + FEED_HORIZON)

    # --- uploads ----------------------------------------------------------------------------
    def check_pace(self, client: str, data: bytes) -> None:
        """Record (and in strict mode refuse) an upload less than ten seconds after the last."""
        note(f"upload:{fingerprint(data)}")      # which file: the examiner looks for needless re-uploads
        now = self.box.clock.timestamp()
        last = self.upload_times.get(client)
        if last is not None and now - last < UPLOAD_PAUSE_SEC:
            wait = UPLOAD_PAUSE_SEC - (now - last)
            note("pacing_violation")
            if self.box.settings.strict:
                raise ApiError(429, f"Uploads must be at least {UPLOAD_PAUSE_SEC:g} seconds apart; "
                                    f"the previous one was {now - last:.1f} s ago",
                               headers={"Retry-After": str(max(1, math.ceil(wait)))})
        self.upload_times.put(client, now)

    def ingest_avoidance_log(self, client: str, owner: str, filename: str | None, data: bytes) -> int:
        self.check_pace(client, data)
        if len(data) > AVOIDANCE_CAP:
            raise ApiError(413, f"File is {len(data)} bytes; satellite avoidance logs are capped at "
                                f"{AVOIDANCE_CAP} bytes (750 kB)", field="file")
        facility = self._facility(filename)
        rows = self._parse_avoidance_csv(filename or "", data)
        with self.box.store.transaction():
            fresh = 0
            for row in rows:
                key = "|".join([owner, facility, *map(str, row.values())])
                if key not in self.logs:
                    self.logs.put(key, {**row, "facility": facility, "owner": owner, "file": filename})
                    fresh += 1
            self.uploads.put(f"{len(self.uploads) + 1}", {
                "kind": "sat_avoidance_logs", "file": filename, "owner": owner, "client": client,
                "received": iso(self.box.clock.now()), "rows": len(rows), "ingested": fresh})
        return fresh

    @staticmethod
    def _facility(filename: str | None) -> str:
        name = (filename or "").rsplit("/", 1)[-1]
        if not name:
            raise invalid("file", "the upload has no file name; it must start with the facility, "
                                  "e.g. VLA_Logs_2025-08-30_to_2025-08-31.csv")
        match = FACILITY.match(name)
        if match is None:
            allowed = ", ".join(["VLA", "GBT"] + [f"vlba_{s}" for s in STATIONS])
            raise ApiError(400, f"File name '{name}' must start with a facility ({allowed}) followed by "
                                "'_', e.g. VLA_Logs_2025-08-30_to_2025-08-31.csv", field="file")
        return match["facility"]

    def _parse_avoidance_csv(self, filename: str, data: bytes) -> list[dict[str, Any]]:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ApiError(400, f"{filename}: not UTF-8 text (byte {exc.start} cannot be decoded); "
                                "nothing was ingested", field="file") from None
        reader = csv.reader(io.StringIO(text))
        try:
            header = [name.strip() for name in next(reader, [])]
        except csv.Error as exc:
            raise ApiError(400, f"{filename}: the header line is not valid CSV ({exc})", field="file") from None
        if header not in (HEADER, HEADER_SHORT):
            raise ApiError(400, f"{filename}: header is '{','.join(header)}'; expected '{','.join(HEADER)}' "
                                "(angular_threshold may be left out); nothing was ingested", field="file")
        rows, problems = [], []
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):
                if not cells or all(not c.strip() for c in cells):
                    continue
                row, row_problems = self._check_row(number, header, cells)
                problems.extend(row_problems)
                rows.append(row)
        except csv.Error as exc:  # an unbalanced quote, a NUL byte, a field of 100 kB...
            problems.append(RowProblem(number + 1, "*", f"is not valid CSV ({exc})"))
        if problems:
            listed = "; ".join(map(str, problems[:MAX_REPORTED]))
            more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
            raise ApiError(400, f"{filename}: {len(problems)} problem(s), nothing was ingested: {listed}{more}",
                           field="file")
        return rows

    @staticmethod
    def _check_row(number: int, header: list[str], cells: list[str]) -> tuple[dict[str, Any], list[RowProblem]]:
        if len(cells) != len(header):
            return {}, [RowProblem(number, "*", f"has {len(cells)} values; the header has {len(header)}")]
        raw = {name: cell.strip() for name, cell in zip(header, cells)}
        row: dict[str, Any] = {}
        problems: list[RowProblem] = []

        def number_of(column: str) -> float | None:
            try:
                value = float(raw[column])
            except ValueError:
                problems.append(RowProblem(number, column, f"'{raw[column]}' is not a number"))
                return None
            if not math.isfinite(value) or value < 0:
                problems.append(RowProblem(number, column, f"'{raw[column]}' must be a finite, non-negative number"))
                return None
            return value

        try:
            row["utc_time"] = datetime.strptime(raw["utc_time"], "%Y-%m-%d %H:%M:%S").isoformat(sep=" ")
        except ValueError:
            problems.append(RowProblem(number, "utc_time",
                                       f"'{raw['utc_time']}' is not a UTC time as YYYY-MM-DD HH:MM:SS"))
        lower, upper = number_of("freq_lower_mhz"), number_of("freq_upper_mhz")
        if lower is not None and upper is not None and lower > upper:
            problems.append(RowProblem(number, "freq_upper_mhz",
                                       f"{raw['freq_upper_mhz']} is below freq_lower_mhz {raw['freq_lower_mhz']}"))
        row["freq_lower_mhz"], row["freq_upper_mhz"] = lower, upper
        if raw["avoidance_type"] not in AVOIDANCE_TYPES:
            problems.append(RowProblem(number, "avoidance_type",
                                       f"'{raw['avoidance_type']}' is not one of outer, inner"))
        row["avoidance_type"] = raw["avoidance_type"]
        if "angular_threshold" in raw:
            threshold = number_of("angular_threshold")
            if threshold is not None and threshold > 180:
                problems.append(RowProblem(number, "angular_threshold", f"{threshold:g} degrees is more than 180"))
            row["angular_threshold"] = threshold
        if re.fullmatch(r"\d+", raw["sat_id"]):
            row["sat_id"] = int(raw["sat_id"])
        else:
            problems.append(RowProblem(number, "sat_id", f"'{raw['sat_id']}' is not a whole number"))
        return row, problems

    def ingest_tle(self, client: str, owner: str, filename: str | None, data: bytes) -> int:
        self.check_pace(client, data)
        if len(data) >= TLE_LIMIT:
            raise ApiError(413, f"File is {len(data)} bytes; a TLE file must be smaller than {TLE_LIMIT} bytes (50 kB)",
                           field="tle_file")
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ApiError(400, f"{filename or 'tle_file'}: TLE text must be ASCII; byte {exc.start} is not",
                           field="tle_file") from None
        try:
            sets = parse_3le(text)
        except TLEError as exc:
            raise ApiError(400, f"{filename or 'tle_file'}: {exc}; nothing was ingested", field="tle_file") from None
        with self.box.store.transaction():
            for element_set in sets:
                key = f"{owner}|{element_set.catalog_number.strip()}|{element_set.epoch.isoformat()}"
                self.tles.put(key, {"name": element_set.name, "line1": element_set.line1,
                                    "line2": element_set.line2, "owner": owner,
                                    "epoch": iso(element_set.epoch), "received": iso(self.box.clock.now())})
            self.uploads.put(f"{len(self.uploads) + 1}", {
                "kind": "tle_data", "file": filename, "owner": owner, "client": client,
                "received": iso(self.box.clock.now()), "rows": len(sets), "ingested": len(sets)})
        return len(sets)
