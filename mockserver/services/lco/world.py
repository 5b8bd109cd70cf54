"""One simulated observatory behind the LCO portal, archive and thumbnail services of a process.

The three services are separate APIs on separate ports, as the real ones are,
but they describe one network: a request the portal's scheduler observes yields
frames in the archive, and a thumbnail is drawn from an archive frame. So the
services of one process that share a seed share this world: its clock, its
proposals, its users, its userrequests and drafts. Resetting any of them resets
it, and moving any one's clock moves them all.

The world keeps its state in a store of its own (the ``lco`` part of the state
file with ``--state``), so every worker of a mock reads one observatory and a
restart carries on from it.
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from ...core.auth import VALID, TokenRegistry
from ...core.clock import Clock
from ...core.service import SEEDED, Settings
from ...core.store import MemoryStore, SqliteStore, Store, plain, revive
from .auth import archive_token
from .network import network
from .proposals import Membership, Proposal, TimeAllocation, demo_memberships, demo_proposals

if TYPE_CHECKING:
    from ..lco_archive.frames import FrameMaker
    from ..lco_observe.drafts import DraftBook
    from ..lco_observe.userrequests import UserRequestBook

_LOCK = threading.Lock()
_WORLDS: dict[tuple, "Observatory"] = {}
NAMESPACE = "lco"     # the world's part of a state file


def proposal_record(proposal: Proposal) -> dict:
    return plain(proposal)


def proposal_from(record: dict) -> Proposal:
    values = revive(record)
    values["allocations"] = [TimeAllocation(**a) for a in values["allocations"]]
    values["members"] = {name: Membership(**m) for name, m in values["members"].items()}
    return Proposal(**values)


class Observatory:
    def __init__(self, settings: Settings) -> None:
        # the portal's books, imported here: the portal's package imports this module
        from ..lco_observe.drafts import DraftBook
        from ..lco_observe.userrequests import UserRequestBook
        self.settings = settings
        self.store: Store = SqliteStore(settings.state, NAMESPACE) if settings.state else MemoryStore()
        self.clock = Clock(settings.clock_start, settings.frozen, self.store)
        self.network = network()
        self._state = self.store.collection("world")
        self._proposals = self.store.collection("proposals")
        self._users = self.store.collection("users")                 # username -> their proposals
        self._archive_tokens = self.store.collection("archive-tokens")   # archive token -> username
        self.book: UserRequestBook = UserRequestBook(self)
        self.drafts: DraftBook = DraftBook(self.store)
        self._frames: FrameMaker | None = None
        #: the archive's tokens with their lifetimes, when the archive is served in this process
        self.archive_registry: TokenRegistry | None = None
        with self.store.transaction():   # one worker seeds an empty file; the others find it seeded
            if not self._state.get(SEEDED):
                self.reset()

    def reset(self) -> None:
        """Back to the seeded observatory, on a clock set back to its start."""
        with self.store.transaction():
            self.store.clear()
            self.clock.reset()
            started = self.settings.clock_start or self.clock.now()
            created = started.replace(microsecond=0)
            for proposal in demo_proposals(started):
                proposal.created = created
                self.save_proposal(proposal)
            for username, proposals in demo_memberships(started).items():
                self._users.put(username, proposals)
                self._archive_tokens.put(archive_token(self.settings.seed, username), username)
            # frames made before a reset belong to the old world: their makers start afresh
            self._state.put("generation", uuid.uuid4().hex)
            self._state.put(SEEDED, True)

    @property
    def generation(self) -> str:
        return self._state.get("generation")

    # --- proposals -------------------------------------------------------------------------------
    @property
    def proposals(self) -> dict[str, Proposal]:
        """The proposals as they are now (copies: a change is kept by :meth:`save_proposal`)."""
        return {record["id"]: proposal_from(record) for record in self._proposals.values()}

    def save_proposal(self, proposal: Proposal) -> None:
        self._proposals.put(proposal.id, proposal_record(proposal))

    # --- users, as the portal and the archive know them -----------------------------------------------
    def users(self) -> dict[str, list[str]]:
        """username -> the proposals the user belongs to."""
        return dict(zip(self._users.keys(), self._users.values()))

    def proposals_of(self, username: str) -> list[str] | None:
        return self._users.get(username)

    def set_user(self, username: str, proposals: list[str]) -> None:
        self._users.put(username, list(proposals))

    def add_user(self, username: str, proposals: list[str]) -> None:
        """A user the archive minted, unless the portal knows them already."""
        with self.store.transaction():
            if username not in self._users:
                self._users.put(username, list(proposals))

    def archive_user(self, token: str) -> str | None:
        """The user an archive token names, while the archive takes it (not expired or revoked there)."""
        if self.archive_registry is not None:
            state, found = self.archive_registry.check(token)
            if found is not None and state != VALID:
                return None
        return self._archive_tokens.get(token)

    def add_archive_token(self, token: str, username: str) -> None:
        self._archive_tokens.put(token, username)

    # --- frames and time ---------------------------------------------------------------------------
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
    key = (settings.seed, settings.clock_start, settings.frozen, settings.completion_fraction, settings.state)
    with _LOCK:
        if key not in _WORLDS:
            _WORLDS[key] = Observatory(settings)
        return _WORLDS[key]
