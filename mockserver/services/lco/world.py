"""One simulated observatory behind the LCO portal, archive and thumbnail services of a process.

The three services are separate APIs on separate ports, as the real ones are,
but they describe one network: a request the portal's scheduler observes yields
frames in the archive, and a thumbnail is drawn from an archive frame. So the
services of one process that share a seed share this world: its clock, its
proposals, its userrequests and drafts. Resetting any of them resets it, and
moving any one's clock moves them all.
"""
from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

from ...core.clock import Clock
from ...core.service import Settings
from .auth import archive_token
from .network import network
from .proposals import Proposal, demo_memberships, demo_proposals

if TYPE_CHECKING:
    from ..lco_archive.frames import FrameMaker
    from ..lco_observe.drafts import DraftBook
    from ..lco_observe.userrequests import UserRequestBook

_LOCK = threading.Lock()
_WORLDS: dict[tuple, "Observatory"] = {}


class Observatory:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = Clock(settings.clock_start, settings.frozen)
        self.network = network()
        self.generation = 0
        self._frames: FrameMaker | None = None
        self.reset()

    def reset(self) -> None:
        """Back to the seeded observatory (the clock is reset by the sandbox that asks)."""
        # the portal's books, imported here: the portal's package imports this module
        from ..lco_observe.drafts import DraftBook
        from ..lco_observe.userrequests import UserRequestBook
        self.started: datetime = self.settings.clock_start or self.clock.now()
        self.proposals: dict[str, Proposal] = {p.id: p for p in demo_proposals(self.started)}
        created = self.started.replace(microsecond=0)
        for proposal in self.proposals.values():
            proposal.created = created
        self.book: UserRequestBook = UserRequestBook(self.network, self.proposals, self.settings.seed,
                                    self.settings.completion_fraction)
        self.drafts: DraftBook = DraftBook()
        #: username -> the proposals the user belongs to (the portal adds the users it mints)
        self.users: dict[str, list[str]] = demo_memberships(self.started)
        #: archive token -> username (the archive adds the users it mints)
        self.archive_tokens: dict[str, str] = {archive_token(self.settings.seed, name): name for name in self.users}
        self.generation += 1

    def frame_maker(self) -> FrameMaker:
        """The archive's frames of this observatory, made once for the archive and the thumbnail service."""
        if self._frames is None:
            from ..lco_archive.frames import FrameMaker
            self._frames = FrameMaker(self)          # it starts afresh itself when the observatory is reset
        return self._frames

    def now(self) -> datetime:
        """The clock's time, with every userrequest brought up to it first."""
        moment = self.clock.now()
        self.book.advance(moment)
        return moment


def observatory(settings: Settings) -> Observatory:
    """The world of the LCO services of this process that run with these settings."""
    key = (settings.seed, settings.clock_start, settings.frozen, settings.completion_fraction)
    with _LOCK:
        if key not in _WORLDS:
            _WORLDS[key] = Observatory(settings)
        return _WORLDS[key]
