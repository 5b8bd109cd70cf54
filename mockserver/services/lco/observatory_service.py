"""What the LCO services declare alike: the observatory's shared clock, and (portal and archive) its users.

Both the portal and the archive know the same people with the same passwords
(the archive logs users in against the portal); each hands out tokens of its own.
"""
from __future__ import annotations

from abc import abstractmethod
from datetime import UTC, datetime
from typing import Any, ClassVar

from ...core.auth import Credential, TokenRegistry, demo_secret
from ...core.clock import Clock
from ...core.service import Sandbox, Service, Settings
from .auth import check_new_user, new_user
from .proposals import DEMO_USERS, demo_memberships
from .world import observatory


class ObservatoryService(Service):
    """A service of the simulated LCO network: its clock is the observatory's."""

    companions = ("lco-observe", "lco-archive", "lco-thumbnails")

    def clock_for(self, settings: Settings) -> Clock:
        return observatory(settings).clock

    def reset_shared(self, settings: Settings) -> None:
        observatory(settings).reset()        # one observatory: resetting any of its services resets it


class ObservatoryUsers(ObservatoryService):
    """A service that knows the observatory's users and gives each a token of its own."""

    #: how the usernames of minted users begin
    user_prefix: ClassVar[str] = "user"

    @abstractmethod
    def demo_token(self, seed: int, username: str) -> str:
        """The service's own token for a demo user, the same in every run with the same seed."""

    def demo_credentials(self, settings: Settings) -> list[Credential]:
        memberships = demo_memberships(settings.clock_start or datetime.now(UTC))
        return [Credential({"username": u.username, "password": demo_secret(settings.seed, "lco-observe", u.username)[:16],
                            "token": self.demo_token(settings.seed, u.username)},
                           owner=u.username, roles=memberships[u.username], label=u.username)
                for u in DEMO_USERS]

    def check_mint(self, sandbox: Sandbox, request: dict[str, Any]) -> None:
        check_new_user(request, observatory(sandbox.settings).proposals, sandbox.tokens)

    def mint_credential(self, tokens: TokenRegistry, request: dict[str, Any], serial: int) -> Credential:
        return new_user(request, serial, self.user_prefix)
