"""The science archive's state and rules: who sees which frames, how frames are searched, the profile.

Anyone sees public frames (L1PUBDAT passed); a user also sees the frames of
their proposals. A frame one may not see is not found. Search filters follow
the archive's: exact fields, parts of basename and OBJECT, a minimum EXPTIME,
a time range, proprietary only (``public=false``) and sky position
(``covers=POINT(ra dec)``, ``intersects=POLYGON(...)``, RA wrapping at 0).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ...core.auth import Credential
from ...core.errors import ApiError
from ...core.service import Sandbox
from ..lco.auth import archive_bearer, login
from ..lco.drf import drf_time, field_errors, form_boolean, form_datetime
from ..lco.world import observatory
from . import sky_area
from .frames import Frame

NOT_FOUND = "Not found."
EXACT = ("PROPID", "OBSTYPE", "INSTRUME", "SITEID", "TELID", "FILTER")
WHOLE = ("RLEVEL", "BLKUID", "REQNUM")
ORDERING = ("id", "basename", "DATE_OBS", "FILTER", "OBSTYPE", "PROPID", "INSTRUME", "OBJECT", "RLEVEL", "EXPTIME")


def frame_json(frame: Frame, file_url: str) -> dict[str, Any]:
    version = {"id": frame.id, "created": drf_time(frame.DATE_OBS), "key": frame.version_key, "md5": frame.md5,
               "extension": frame.extension, "url": file_url}
    return {"id": frame.id, "basename": frame.basename,
            "area": {"type": "Polygon", "coordinates": [frame.area]} if frame.area else None,
            "related_frames": list(frame.related), "version_set": [version], "filename": frame.filename,
            "url": file_url, "RLEVEL": frame.RLEVEL, "DATE_OBS": drf_time(frame.DATE_OBS), "PROPID": frame.PROPID,
            "INSTRUME": frame.INSTRUME, "OBJECT": frame.OBJECT, "SITEID": frame.SITEID, "TELID": frame.TELID,
            "EXPTIME": f"{frame.EXPTIME:.6f}", "FILTER": frame.FILTER, "L1PUBDAT": drf_time(frame.L1PUBDAT),
            "OBSTYPE": frame.OBSTYPE, "BLKUID": frame.BLKUID, "REQNUM": frame.REQNUM}


class Archive:
    def __init__(self, sandbox: Sandbox) -> None:
        self.box = sandbox
        self.world = observatory(sandbox.settings)
        self.maker = self.world.frame_maker()

    # --- who is asking ----------------------------------------------------------------------------
    def login(self, username: Any, password: Any) -> dict[str, str]:
        return login(self.box.tokens, username, password)

    def bearer_user(self, token: str) -> Credential | None:
        """The user whose portal profile hands out this archive token (the archive asks the portal)."""
        seed = self.box.settings.seed
        for username, proposals in self.world.users().items():
            if archive_bearer(seed, username) == token:
                return Credential({"username": username}, owner=username, roles=list(proposals), label=username)
        return None

    def proposals_of(self, user: Credential | None) -> list[str]:
        if user is None:
            return []
        known = self.world.proposals_of(user.owner)
        return list(known if known is not None else user.roles)

    def profile(self, user: Credential | None) -> dict[str, Any]:
        if user is None:
            return {"username": "", "profile": {}}
        return {"username": user.owner, "profile": {"proposals": self.proposals_of(user)}}

    # --- frames ------------------------------------------------------------------------------------
    def _visible(self, user: Credential | None) -> list[Frame]:
        frames = self.maker.all()
        now = self.world.clock.now()
        mine = set(self.proposals_of(user))
        return [f for f in frames.values() if f.PROPID in mine or f.L1PUBDAT < now]

    def frame(self, user: Credential | None, number: int) -> Frame:
        found = next((f for f in self._visible(user) if f.id == number), None)
        if found is None:
            raise ApiError(404, NOT_FOUND)
        return found

    def any_frame(self, number: int) -> Frame | None:
        return self.maker.all().get(number)

    def related(self, user: Credential | None, number: int) -> list[Frame]:
        frame = self.frame(user, number)
        visible = {f.id: f for f in self._visible(user)}
        return [visible[i] for i in frame.related if i in visible]

    def search(self, user: Credential | None, filters: dict[str, str]) -> list[Frame]:
        chosen = self._visible(user)
        now = self.world.clock.now()
        for name in EXACT:
            if filters.get(name):
                chosen = [f for f in chosen if getattr(f, name) == filters[name]]
        for name in WHOLE:
            if filters.get(name):
                if not re.fullmatch(r"-?\d+", filters[name].strip()):
                    raise field_errors({name: ["Enter a number."]})
                chosen = [f for f in chosen if getattr(f, name) == int(filters[name])]
        for name in ("basename", "OBJECT"):
            if filters.get(name):
                chosen = [f for f in chosen if filters[name].lower() in getattr(f, name).lower()]
        if filters.get("EXPTIME"):
            try:
                least = float(filters["EXPTIME"])
            except ValueError:
                raise field_errors({"EXPTIME": ["Enter a number."]}) from None
            chosen = [f for f in chosen if f.EXPTIME >= least]
        bounds = {"start": lambda f, t: f.DATE_OBS >= t, "end": lambda f, t: f.DATE_OBS <= t,
                  "DATE_OBS": lambda f, t: f.DATE_OBS == t, "L1PUBDAT": lambda f, t: f.L1PUBDAT == t}
        for name, keep in bounds.items():
            if filters.get(name):
                moment = form_datetime(name, filters[name])
                chosen = [f for f in chosen if keep(f, moment)]
        if form_boolean(filters.get("public")) is False:
            chosen = [f for f in chosen if f.L1PUBDAT > now]
        if filters.get("covers"):
            point = sky_area.point(filters["covers"], "covers")
            chosen = [f for f in chosen if f.area and sky_area.covers(f.area, point)]
        if filters.get("intersects"):
            polygon = sky_area.polygon(filters["intersects"], "intersects")
            chosen = [f for f in chosen if f.area and sky_area.intersects(f.area, polygon)]
        order = filters.get("ordering") or "-DATE_OBS"
        name = order.lstrip("-")
        if name not in ORDERING:
            name = "DATE_OBS"
        return sorted(chosen, key=lambda f: (getattr(f, name), f.id), reverse=order.startswith("-"))

    def aggregate(self, filters: dict[str, str]) -> dict[str, list[str]]:
        """The distinct sites, telescopes, filters, instruments, types and (public) proposals."""
        frames = list(self.maker.all().values())
        for name in ("SITEID", "TELID", "FILTER", "INSTRUME", "OBSTYPE", "PROPID"):
            if filters.get(name):
                frames = [f for f in frames if getattr(f, name) == filters[name]]
        for name, keep in (("start", lambda f, t: f.DATE_OBS >= t), ("end", lambda f, t: f.DATE_OBS <= t)):
            if filters.get(name):
                moment = form_datetime(name, filters[name])
                frames = [f for f in frames if keep(f, moment)]
        now = self.world.clock.now()

        def distinct(values: list[str]) -> list[str]:
            return sorted({v for v in values if v})
        return {"sites": distinct([f.SITEID for f in frames]), "telescopes": distinct([f.TELID for f in frames]),
                "filters": distinct([f.FILTER for f in frames]), "instruments": distinct([f.INSTRUME for f in frames]),
                "obstypes": distinct([f.OBSTYPE for f in frames]),
                "proposals": distinct([f.PROPID for f in frames if f.L1PUBDAT <= now])}

    def now(self) -> datetime:
        return self.world.now()
