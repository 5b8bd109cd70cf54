"""The thumbnail service's rules: frames are read through the archive's rules with the caller's own
Authorization header, and drawn as JPEGs kept for their links.

What the archive refuses is passed on: its 401 (a bad token) and 404 (a frame one
may not see) come back with the thumbnail service's message and the archive's
answer. Only image-like observation types can be drawn, only FITS frames, and a
colour picture needs red, visual and blue frames of the same request.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from ...core.auth import VALID, Credential
from ...core.errors import ApiError
from ...core.service import Sandbox
from ..lco.auth import token_header_problem
from ..lco_archive.frames import Frame
from ..lco_archive.model import Archive
from . import render

DRAWABLE = ("ARC", "BIAS", "BPM", "DARK", "DOUBLE", "EXPERIMENTAL", "EXPOSE", "GUIDE", "LAMPFLAT", "SKYFLAT",
            "SPECTRUM", "STANDARD", "TARGET", "TRAILED")
IN_COLOUR = ("EXPOSE", "STANDARD")
RED, VISUAL, BLUE = ("r", "rp"), ("v",), ("b",)


def refused(status: int, archive_answer: dict[str, Any]) -> ApiError:
    """The archive's refusal, as the thumbnail service relays it."""
    return ApiError(status, "Got error response", details={"response": archive_answer})


class Thumbnails:
    def __init__(self, sandbox: Sandbox) -> None:
        self.box = sandbox
        self.archive = Archive(sandbox)              # the same observatory, read by the archive's rules
        self.world = self.archive.world
        #: image key -> how it was drawn (its frames and options), kept so its link works in every worker
        self._recipes = sandbox.store.collection("images")
        self._drawn: dict[str, bytes] = {}

    # --- the caller, as the archive sees them ------------------------------------------------------
    def caller(self, authorization: str | None) -> Credential | None:
        words = (authorization or "").split()
        problem = token_header_problem(words)
        if problem is not None:     # the archive refuses a Token header it cannot read: its 401 is relayed
            raise refused(401, {"detail": problem})
        if len(words) != 2 or words[0].lower() not in ("token", "bearer"):
            return None                               # the archive reads anything else as anonymous
        if words[0].lower() == "bearer":
            found = self.archive.bearer_user(words[1])
            if found is None:
                raise refused(401, {"detail": "No Such User"})
            return found
        state, listed = self.box.tokens.check(words[1])     # the archive's tokens, listed here for convenience
        username = self.world.archive_user(words[1]) if listed is None or state == VALID else None
        if username is None:
            raise refused(401, {"detail": "Invalid token."})
        return Credential({"username": username}, owner=username, roles=self.world.proposals_of(username) or [])

    def _frame(self, user: Credential | None, key: str) -> Frame:
        if key.isdigit():
            try:
                return self.archive.frame(user, int(key))
            except ApiError:
                raise ApiError(404, "Not found") from None
        matches = [f for f in self.archive.search(user, {}) if f.basename == key]
        if len(matches) != 1:
            raise ApiError(404, "Not found")
        return matches[0]

    # --- drawing -------------------------------------------------------------------------------------
    def thumbnail(self, user: Credential | None, key: str, options: dict[str, Any]) -> tuple[str, str]:
        """(the image's key, the frame's proposal) for a frame drawn with these options."""
        frame = self._frame(user, key)
        if frame.OBSTYPE not in DRAWABLE:
            raise ApiError(400, f"Cannot generate thumbnail for OBSTYPE={frame.OBSTYPE}")
        if not frame.filename.endswith((".fits", ".fits.fz")):
            raise ApiError(400, "Cannot generate thumbnail for non FITS-type frame")
        frames = [frame]
        if options["color"]:
            frames = self._colour_set(user, frame)
        name = hashlib.sha1(repr((frame.id, sorted(options.items()))).encode()).hexdigest()[:20]
        key_name = f"{frame.id}.{name}"
        if key_name not in self._drawn:
            self._drawn[key_name] = self._draw(frames, options)
            self._recipes.put(key_name, {"frames": [f.id for f in frames], "options": options})
        return key_name, frame.PROPID

    def image(self, key_name: str) -> bytes | None:
        """A drawn image by its key: drawn again from its recipe if another worker drew it."""
        if key_name not in self._drawn:
            recipe = self._recipes.get(key_name)
            frames = [self.archive.any_frame(number) for number in recipe["frames"]] if recipe else []
            if not frames or None in frames:
                return None
            self._drawn[key_name] = self._draw(frames, recipe["options"])
        return self._drawn[key_name]

    @staticmethod
    def _draw(frames: list[Frame], options: dict[str, Any]) -> bytes:
        return render.jpeg(frames, options["width"], options["height"], options["label"], options["median"],
                           options["percentile"], options["quality"])

    def _colour_set(self, user: Credential | None, frame: Frame) -> list[Frame]:
        if frame.OBSTYPE not in IN_COLOUR:
            raise ApiError(400, f"Cannot generate thumbnail for OBSTYPE={frame.OBSTYPE}")
        if frame.REQNUM is None:
            raise ApiError(400, "Cannot generate color thumbnail for a frame that does not have a request")
        siblings = self.archive.search(user, {"REQNUM": str(frame.REQNUM), "RLEVEL": str(frame.RLEVEL)})
        chosen = []
        for names in (RED, VISUAL, BLUE):
            match = next((f for f in siblings if f.FILTER.lower() in names), None)
            if match is None:
                raise ApiError(404, "RVB frames not found")
            chosen.append(match)
        return chosen


def option_errors(values: dict[str, Any]) -> None:
    """Width, height, percentile and quality must make sense; the message names the option."""
    for name, low, high in (("width", 1, 5000), ("height", 1, 5000), ("quality", 1, 100)):
        if not isinstance(values[name], int) or not low <= values[name] <= high:
            raise ApiError(400, f"{name} must be a whole number from {low} to {high}")
    if not 0 < values["percentile"] <= 100:
        raise ApiError(400, "percentile must be a number above 0 and at most 100")


def truthy(text: str | None) -> bool:
    return bool(text) and text.lower() in ("true", "1", "yes")


def whole(text: str | None, default: int) -> int | str:
    if text is None:
        return default
    return int(text) if re.fullmatch(r"\d{1,6}", text.strip()) else text
