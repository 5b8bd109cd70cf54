"""Certification scenarios: what the mock does to a client, and which rules judge it.

One YAML file per service in ``conformance/scenarios/``; a file names the variables
a client command is given and holds several named scenarios. A scenario has the
sandbox settings (seed, token lifetime, job pace, strict), a timeline of events
(see :mod:`mockserver.core.timeline`) and the rules to judge the run by, each with
its parameters; a rule is required unless it says ``required: false``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mockserver.core.errors import ApiError
from mockserver.core.jobs import JobPace
from mockserver.core.service import Settings
from mockserver.core.timeline import Event, parse_event

SCENARIOS = Path(__file__).parent / "scenarios"
SETTINGS = {"seed", "token_ttl", "strict", "job_seconds", "job_polls", "job_retry_after", "completion_fraction"}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file, the place and the fix."""


@dataclass(frozen=True)
class RuleSpec:
    name: str
    required: bool = True
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scenario:
    service: str
    name: str
    description: str
    run: str                                   # what the command should do for the rules to be exercised
    example: str | None
    settings: dict[str, Any]
    events: list[Event]
    rules: list[RuleSpec]
    environment: dict[str, str]
    time_limit: float
    credential: str | None = None              # which demo credential the command gets (default: the first)
    credentials_of: str | None = None          # a companion service whose users the command logs in as

    def sandbox_settings(self) -> Settings:
        s = self.settings
        pace = None
        if any(k in s for k in ("job_seconds", "job_polls", "job_retry_after")):
            pace = JobPace(seconds=s.get("job_seconds"), polls=s.get("job_polls"), retry_after=s.get("job_retry_after"))
        return Settings(seed=s.get("seed", 42), token_ttl=s.get("token_ttl"), strict=bool(s.get("strict", False)),
                        job_pace=pace, completion_fraction=s.get("completion_fraction", 0.9))


def scenario_file(service_id: str) -> Path:
    return SCENARIOS / f"{service_id}.yaml"


def available(service_id: str) -> dict[str, str]:
    """Scenario names of a service, with their one-line descriptions."""
    data = _read(scenario_file(service_id), service_id)
    return {name: " ".join(str(body.get("description", "")).split()) for name, body in data["scenarios"].items()}


def load(service_id: str, name: str | None = None, path: Path | None = None) -> list[Scenario]:
    """The named scenario of a service (every one when ``name`` is None), checked."""
    source = path or scenario_file(service_id)
    data = _read(source, service_id)
    chosen = data["scenarios"]
    if name is not None:
        if name not in chosen:
            raise ScenarioError(f"{source.name}: no scenario {name!r}; choose from {', '.join(chosen)}")
        chosen = {name: chosen[name]}
    users = {key: data.get(key) for key in ("credential", "credentials_of")}
    for key, value in users.items():
        if value is not None and not isinstance(value, str):
            raise ScenarioError(f"{source.name}: {key} must name a demo credential or a service (as `skymock list` "
                                "shows them)")
    return [_scenario(source, service_id, key, body, data.get("environment") or {}, **users)
            for key, body in chosen.items()]


def _read(source: Path, service_id: str) -> dict[str, Any]:
    if not source.is_file():
        raise ScenarioError(f"no scenario file for {service_id}: expected {source}")
    try:
        data = yaml.safe_load(source.read_text())
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source.name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), dict) or not data["scenarios"]:
        raise ScenarioError(f"{source.name}: needs a 'scenarios' mapping of name to scenario")
    if data.get("service") not in (None, service_id):
        raise ScenarioError(f"{source.name}: is for service {data['service']!r}, not {service_id!r}")
    return data


def _scenario(source: Path, service_id: str, name: str, body: Any, environment: Any,
              credential: str | None, credentials_of: str | None) -> Scenario:
    where = f"{source.name}: scenarios.{name}"
    if not isinstance(body, dict):
        raise ScenarioError(f"{where}: must be a mapping")
    settings = body.get("settings") or {}
    if not isinstance(settings, dict) or set(settings) - SETTINGS:
        raise ScenarioError(f"{where}.settings: unknown setting(s) {sorted(set(settings) - SETTINGS)}; "
                            f"use {', '.join(sorted(SETTINGS))}")
    events = []
    for i, raw in enumerate(body.get("timeline") or []):
        try:
            events.append(parse_event(raw, f"timeline[{i}]"))
        except ApiError as exc:
            raise ScenarioError(f"{where}.{exc.field}: {exc.message}") from None
    rules = _rules(where, body.get("rules"))
    if not isinstance(environment, dict) or not all(isinstance(v, str) for v in environment.values()):
        raise ScenarioError(f"{source.name}: environment must map variable names to text")
    limit = body.get("time_limit", 120)
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0:
        raise ScenarioError(f"{where}.time_limit: must be a positive number of seconds")
    return Scenario(service=service_id, name=name, description=" ".join(str(body.get("description", "")).split()),
                    run=" ".join(str(body.get("run", "")).split()), example=body.get("example"),
                    settings=settings, events=events, rules=rules, environment=dict(environment),
                    time_limit=float(limit), credential=credential, credentials_of=credentials_of)


def _rules(where: str, raw: Any) -> list[RuleSpec]:
    from .rules import RULES

    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(f"{where}.rules: must map rule names to parameters ({', '.join(RULES)})")
    rules = []
    for name, params in raw.items():
        if name not in RULES:
            raise ScenarioError(f"{where}.rules.{name}: no such rule; the rules are {', '.join(RULES)}")
        params = dict(params or {})
        required = params.pop("required", True)
        unknown = set(params) - set(RULES[name].params)
        if unknown:
            raise ScenarioError(f"{where}.rules.{name}: unknown parameter(s) {sorted(unknown)}; "
                                f"this rule takes {', '.join(RULES[name].params) or 'none'}")
        rules.append(RuleSpec(name, bool(required), params))
    return rules
