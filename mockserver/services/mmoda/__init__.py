"""MMODA, the Multi-Messenger Online Data Analysis dispatcher that ``oda_api`` talks to.

Tokens are JWTs passed as a ``token`` parameter and trusted by signature; an
analysis is a ``run_analysis`` query polled until done; products are oda_api's
NumPy data products.
"""
from __future__ import annotations

from typing import Any

from ...core.auth import Credential, Refusals, TokenRegistry, demo_secret
from ...core.errors import ApiError, ErrorStyle, invalid
from ...core.jobs import JobPace
from ...core.service import Sandbox, Service, Settings
from .model import DISPATCHER_VERSION, MmodaModel, ODA_API_VERSION, installed_instruments
from .tokens import MAX_REFRESH_INTERVAL_S, TokenBook

#: the kinds of dispatcher exception an ApiError's code may name
DISPATCHER_ERRORS = ("RequestNotUnderstood", "RequestNotAuthorized", "InstrumentNotRecognized",
                     "InvalidJobIDProvided", "NoInstrumentSpecified", "MissingRequestParameter", "BadRequest")


class DispatcherStyle(ErrorStyle):
    """The dispatcher's error JSON: the message, the exception as ``Class():message`` and its versions."""

    def body(self, error: ApiError) -> Any:
        kind = error.code if error.code in DISPATCHER_ERRORS else "RequestNotUnderstood"
        message = self.sentence(error)
        body: dict[str, Any] = {"error_message": message}
        if kind == "RequestNotAuthorized":
            body["debug_message"] = error.details.get("debug_message", "")
        if self.status_of(error) >= 500:
            body = {"message": "request not valid", "error_message": message}
        body.update({"error": f"{kind}():{message}", "cdci_data_analysis_version": DISPATCHER_VERSION,
                     "cdci_data_analysis_version_details": "unknown", "oda_api_version": ODA_API_VERSION,
                     "installed_instruments": installed_instruments(), "debug_mode": "yes",
                     "config": {"dispatcher-config": {"cfg_dict": {"dispatcher": {
                         "products_url": "PRODUCTS_URL", "token_max_refresh_interval": MAX_REFRESH_INTERVAL_S}}}}})
        return body

    def render(self, error: ApiError) -> tuple[int, bytes, dict[str, str]]:
        if error.code == "plain":       # some endpoints refuse in bare text
            return self.status_of(error), error.message.encode(), {"content-type": "text/html; charset=utf-8"}
        return super().render(error)


class Mmoda(Service):
    id = "mmoda"
    title = "MMODA dispatcher (oda_api)"
    base_path = "/mmoda/dispatch-data"
    real_url = "https://www.astro.unige.ch/mmoda/dispatch-data"
    port = 8706
    spec = "mmoda-dispatcher.yaml"
    handlers = "mockserver.services.mmoda.handlers"
    errors = DispatcherStyle()
    # tokens travel as a parameter and are checked by the model; these only serve the kit's own tools
    refusals = Refusals.by_kind(token=403, scope=403, messages={
        kind: "The token provided is not valid" for kind in ("missing", "malformed", "unknown", "expired",
                                                             "revoked", "scope")})
    default_token_ttl = 86_400.0        # "the token lives only 24 hours"
    default_job_pace = JobPace(seconds=None, polls=2)
    slash_redirect = None

    def secret(self, settings: Settings) -> str:
        return settings.jwt_secret or demo_secret(settings.seed, self.id, "secret_key")

    def demo_credentials(self, settings: Settings) -> list[Credential]:
        """Users whose tokens the model signs when the sandbox starts (their expiry needs its clock)."""
        def user(email: str, name: str, roles: list[str]) -> Credential:
            return Credential({"email": email}, owner=name, roles=roles, label=email)
        return [user("guest@mmoda.example", "guest", []),
                user("observer@mmoda.example", "observer", ["general"]),
                user("collaborator@mmoda.example", "collaborator",
                     ["general", "integral-private-qla", "unige-hpc-full", "refresh-tokens", "job manager"])]

    def mint_credential(self, tokens: TokenRegistry, request: dict[str, Any], serial: int) -> Credential:
        for name in ("email", "name"):
            if name in request and not (isinstance(request[name], str) and request[name]):
                raise invalid(name, "must be a non-empty string", request[name])
        roles = request.get("roles", [])
        if isinstance(roles, str):
            roles = [r.strip() for r in roles.split(",") if r.strip()]
        if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
            raise invalid("roles", "must be a list of role names (or one comma-separated text)", roles)
        lifetime = request.get("lifetime")
        if lifetime is not None and (isinstance(lifetime, bool) or not isinstance(lifetime, (int, float))
                                     or not 0 < lifetime <= 10 * 365 * 86_400):
            raise invalid("lifetime", "must be a number of seconds, more than 0", lifetime)
        email = request.get("email") or f"user{serial}@mmoda.example"
        return Credential({"email": email}, owner=request.get("name") or f"user{serial}", roles=roles,
                          lifetime=lifetime, label=email)

    def credential_added(self, sandbox: Sandbox, credential: Credential) -> None:
        """Sign the user's token on the sandbox's clock, as the MMODA front end would at login."""
        life = credential.lifetime if credential.lifetime is not None else sandbox.tokens.default_lifetime
        book = TokenBook(self.secret(sandbox.settings), sandbox.tokens)
        token = book.mint(credential.fields["email"], credential.owner, credential.roles, life)
        credential.fields["token"] = token           # the sandbox issues it as the credential's token

    def make_model(self, sandbox: Sandbox) -> MmodaModel:
        return MmodaModel(sandbox, self.secret(sandbox.settings))


SERVICE = Mmoda()
