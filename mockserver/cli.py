"""``skymock``: serve the mocks, list them, fuzz a target, certify a client. Parses, then calls."""
from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Sequence

from .core.clock import parse_instant
from .core.jobs import JobPace
from .core.service import Settings
from .services import get_service, service_ids


def _settings(args: argparse.Namespace) -> Settings:
    pace = None
    if args.job_seconds is not None or args.job_polls is not None:
        # an option given alone sets that condition only: "--job-polls 3" means three polls, any time
        pace = JobPace(seconds=args.job_seconds, polls=args.job_polls)
    state = getattr(args, "state", None)
    return Settings(seed=args.seed, token_ttl=args.token_ttl, strict=args.strict, job_pace=pace,
                    jwt_secret=args.jwt_secret, completion_fraction=args.completion_fraction,
                    clock_start=args.start, frozen=args.frozen,
                    state=str(Path(state).resolve()) if state else None)


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 instant, e.g. 2027-01-01T00:00:00Z") from None


def _describe(service_id: str, settings: Settings, host: str, port: int) -> str:
    service = get_service(service_id)
    base = service.base_path.rstrip("/")
    lines = [f"{service_id:<15} {service.title}",
             f"{'':<15} url      http://{host}:{port}{base}/",
             f"{'':<15} docs     http://{host}:{port}{base}/ui/   control http://{host}:{port}/__skymock/ui/"]
    for credential in service.demo_credentials(settings):
        fields = "  ".join(f"{k}={v}" for k, v in credential.fields.items())
        extra = f"  owner={credential.owner}" + (f"  roles={','.join(credential.roles)}" if credential.roles else "")
        lines.append(f"{'':<15} login    {fields}  scopes={','.join(credential.scopes)}{extra}")
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    for service_id in service_ids():
        print(_describe(service_id, settings, "127.0.0.1", get_service(service_id).port))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .app import create_app
    from .server import Endpoint, serve, serve_workers

    chosen = args.services or service_ids()
    unknown = [s for s in chosen if s not in service_ids()]
    if unknown:
        print(f"skymock: unknown service(s) {', '.join(unknown)}; choose from {', '.join(service_ids())}",
              file=sys.stderr)
        return 2
    if args.port and len(chosen) > 1:
        print("skymock: --port takes one service; with several, use --port-offset", file=sys.stderr)
        return 2
    workers = args.workers
    if workers > 1 and not args.state:
        print("skymock: several workers share one state: give --state FILE as well", file=sys.stderr)
        return 2
    settings = _settings(args)
    services = [(service_id, args.port or get_service(service_id).port + args.port_offset) for service_id in chosen]
    for service_id, port in services:
        print(_describe(service_id, settings, args.host, port), flush=True)
    kept = f"; state in {settings.state}" if settings.state else ""
    print(f"seed {settings.seed}; token lifetime "
          f"{'service default' if settings.token_ttl is None else f'{settings.token_ttl:g} s'}"
          f"{'; strict' if settings.strict else ''}{kept}"
          f"{f'; {workers} workers' if workers > 1 else ''}. Ctrl+C stops.", flush=True)
    if workers > 1:
        serve_workers(services, args.host, settings, workers, log_level=args.log_level)
    else:
        serve([Endpoint(service_id, args.host, port, create_app(service_id, settings))
               for service_id, port in services], log_level=args.log_level)
    return 0


def cmd_fuzz(args: argparse.Namespace) -> int:
    from conformance.fuzz import FuzzOptions, run

    service = get_service(args.service)
    prefix = args.service.upper().replace("-", "_")
    credentials = {}
    for name in service.credential_fields:
        value = getattr(args, name, None) or os.environ.get(f"SKYMOCK_{prefix}_{name.upper()}")
        if value:
            credentials[name] = value
    options = FuzzOptions(service_id=args.service, base_url=args.base_url, credentials=credentials,
                          max_examples=args.max_examples, seed=args.seed, junit=args.junit,
                          allow_writes=True if args.allow_writes else None, rate_limit=args.rate_limit,
                          workers=args.workers, phases=args.phases, control_api=args.control_api,
                          extra_args=args.schemathesis_args)
    return run(options)


def cmd_certify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from conformance.certify import CertifyOptions, certify
    from conformance.scenario import ScenarioError, available

    if args.list:
        try:
            for name, description in available(args.service).items():
                print(f"{name:<18} {description}")
        except ScenarioError as exc:
            print(f"skymock certify: {exc}", file=sys.stderr)
            return 2
        return 0
    path = (lambda value: Path(value) if value else None)
    options = CertifyOptions(service_id=args.service, command=args.client_command, scenario=args.scenario,
                             scenario_file=path(args.scenario_file), time_limit=args.time_limit,
                             env_file=path(args.env_file), junit=path(args.junit), json_report=path(args.json),
                             show_output=not args.quiet)
    return certify(options)


def cmd_coverage(args: argparse.Namespace) -> int:
    from .coverage import CoverageError, build, stale

    try:
        if args.check:
            problem = stale(Path(args.check))
            if problem:
                print(f"skymock coverage: {problem}; regenerate it with `skymock coverage --output {args.check}`",
                      file=sys.stderr)
                return 1
            print(f"skymock coverage: {args.check} is up to date")
            return 0
        text = build()
    except CoverageError as exc:
        print(f"skymock coverage: {exc}", file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8", newline="\n")
        print(f"skymock coverage: wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="skymock", description="Offline mocks of observatory and "
                                  "space-operations APIs, with contract testing.")
    sub = top.add_subparsers(dest="command", required=True)

    def sandbox_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=int, default=42, help="seed of the generated data (default 42)")
        p.add_argument("--token-ttl", type=float, default=None, metavar="SECONDS",
                       help="token lifetime (default: each service's own)")
        p.add_argument("--strict", action="store_true",
                       help="refuse courtesy violations (e.g. uploads closer than the service asks) with 429")
        p.add_argument("--job-seconds", type=float, default=None, metavar="SECONDS",
                       help="clock seconds an asynchronous job runs (default: each service's own)")
        p.add_argument("--job-polls", type=int, default=None, metavar="N",
                       help="polls answered 'still running' before a job is done (default: none)")
        p.add_argument("--jwt-secret", default=None, metavar="TEXT",
                       help="key signing the tokens MMODA checks by signature (default: derived from the seed)")
        p.add_argument("--completion-fraction", type=float, default=0.9, metavar="SHARE",
                       help="share of observable LCO requests the simulated network observes (default 0.9)")
        p.add_argument("--start", type=_instant, default=None, metavar="INSTANT",
                       help="the virtual clock's start, e.g. 2027-01-01T00:00:00Z (default: now); a reset goes back "
                            "to it, and LCO's demo proposals are made for its semester")
        p.add_argument("--frozen", action="store_true", help="the virtual clock stands still until moved")

    serve = sub.add_parser("serve", help="serve the mocks, each service on its own port")
    serve.add_argument("services", nargs="*", metavar="SERVICE", help=f"any of: {', '.join(service_ids())}")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="port for a single service")
    serve.add_argument("--port-offset", type=int, default=0, help="added to every default port")
    serve.add_argument("--state", metavar="FILE", help="keep the state in this SQLite file: a restart carries "
                       "on from it (default: in memory, seeded afresh at each start)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes sharing the --state file (default 1)")
    serve.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    sandbox_options(serve)
    serve.set_defaults(func=cmd_serve)

    listing = sub.add_parser("list", help="list the services, their ports and demo credentials")
    sandbox_options(listing)
    listing.set_defaults(func=cmd_list)

    fuzz = sub.add_parser("fuzz", help="run Schemathesis against a mock or the real service",
                          usage="skymock fuzz SERVICE [options] [-- SCHEMATHESIS_RUN_OPTIONS]",
                          epilog="Options after -- go to `schemathesis run` as they are, "
                                 "e.g. -- --report har --report-har-path run.har")
    fuzz.add_argument("service", choices=service_ids())
    fuzz.add_argument("--base-url", help="target (default: start a mock in-process)")
    fuzz.add_argument("--client-id", dest="client_id", help="credential for a real target")
    fuzz.add_argument("--client-secret", dest="client_secret", help="credential for a real target")
    fuzz.add_argument("--token", dest="token", help="API token for a real target (services without a login)")
    fuzz.add_argument("--max-examples", type=int, default=25)
    fuzz.add_argument("--seed", type=int, default=42)
    fuzz.add_argument("--workers", type=int, default=1)
    fuzz.add_argument("--phases", help="comma-separated Schemathesis phases (default: all)")
    fuzz.add_argument("--junit", metavar="PATH", help="write a JUnit XML report")
    fuzz.add_argument("--control-api", action="store_true", help="fuzz the /__skymock control API of the mock")
    fuzz.add_argument("--allow-writes", action="store_true",
                      help="also send POST/PUT/DELETE to a target that is not a mock")
    fuzz.add_argument("--rate-limit", help="e.g. 100/m (default: none on a mock, 30/m elsewhere)")
    fuzz.set_defaults(func=cmd_fuzz)

    certify = sub.add_parser("certify", help="run your client against scripted bad days and judge what it did",
                             usage="skymock certify SERVICE [--scenario NAME] [options] -- COMMAND [ARG ...]",
                             epilog="The command gets the mock's URL and demo credentials in its environment "
                                    "(the variables are in conformance/scenarios/SERVICE.yaml) and in the "
                                    "dotenv file named by SKYMOCK_ENV_FILE. A single quoted argument runs "
                                    "in a shell. Exit status: 0 certified, 1 a required rule failed, 2 misuse.")
    certify.add_argument("service", choices=service_ids())
    certify.add_argument("--scenario", help="one scenario (default: every scenario of the service)")
    certify.add_argument("--list", action="store_true", help="list the service's scenarios and stop")
    certify.add_argument("--scenario-file", metavar="PATH", help="your own scenario file instead of the kit's")
    certify.add_argument("--time-limit", type=float, metavar="SECONDS", help="stop the command after this long "
                         "(default: each scenario's own)")
    certify.add_argument("--env-file", metavar="PATH", help="also write the dotenv file here (e.g. .ods.env)")
    certify.add_argument("--junit", metavar="PATH", help="write a JUnit XML report")
    certify.add_argument("--json", metavar="PATH", help="write a JSON report, with the journal of each run")
    certify.add_argument("--quiet", action="store_true", help="do not repeat the client's output in the report")
    certify.set_defaults(func=cmd_certify)

    report = sub.add_parser("coverage", help="per service: the document's operations in the spec and the mock, "
                            "the behaviours simulated and the tests showing them, the known differences",
                            epilog="Without options the Markdown goes to stdout. Exit status: 0 done (or current), "
                                   "1 the file given to --check is stale, 2 a coverage.yaml is malformed.")
    chosen = report.add_mutually_exclusive_group()
    chosen.add_argument("--output", metavar="PATH", help="write the report there (e.g. docs/coverage.md)")
    chosen.add_argument("--check", metavar="PATH", help="exit 1 unless the file there is the current report")
    report.set_defaults(func=cmd_coverage)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" goes to Schemathesis untouched; Skymock's own options
    # may come before or after the service id.
    passed: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, passed = argv[:at], argv[at + 1:]
    args = parser().parse_args(argv)
    if passed and args.command not in ("fuzz", "certify"):
        parser().error("only `skymock fuzz` and `skymock certify` take arguments after --")
    if args.command == "fuzz":
        args.schemathesis_args = passed
    if args.command == "certify":
        args.client_command = passed
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
