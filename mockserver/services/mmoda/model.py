"""The dispatcher's rules: analysis queries as jobs, tokens, and what it tells about its instruments.

``run_analysis`` checks a query as the real dispatcher does, in the same order
and with the same words: the instrument, the token, the product, the
parameters (typed; unknown ones are dropped and named in the answer's
comment), the job id, then the roles the product and values need. A query is
a job whose id is a hash of its typed parameters and its user, so the same
question gets the same job in any session. Its products are made when it is
first asked; the job then answers ``submitted`` and ``progress`` at the sandbox's
pace (core/jobs.py) before ``done``, except on synchronous instruments.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import string
from typing import Any

from ...core.errors import ApiError
from ...core.jobs import RUNNING
from ...core.service import Sandbox, current_or_none
from .instruments import INSTRUMENTS, Failure, Instrument, Request
from .parameters import NONE_TEXT, not_understood
from .science import rng_for
from .tokens import (EMAIL_FLAGS, EMAIL_NUMBERS, MAX_REFRESH_INTERVAL_S, OdaToken, TokenBook, not_authorized)

DISPATCHER_VERSION = "1.3.6"
ODA_API_VERSION = "1.3.5"
STATUSES = ("new", "submitted", "progress", "ready", "done", "failed")
#: request arguments that are not analysis parameters (never "unused")
CONTROL_ARGS = ("instrument", "query_status", "query_type", "product_type", "session_id", "token", "api",
                "oda_api_version", "off_line", "job_id", "async_dispatcher", "allow_unknown_args",
                "catalog_selected_objects", "run_asynch")
#: left out of the job id, which depends only on the question (and its user)
NOT_HASHED = ("session_id", "job_id", "token", "dry_run", "oda_api_version", "api", "off_line", "query_status",
              "async_dispatcher", "file_paths")
ROLE_MESSAGE = ("Unfortunately, your priviledges are not sufficient to make the request for this particular product "
                "and parameter combination.\n- Your priviledge roles include {roles}\n- You are lacking all of the "
                "following roles:\n{lacking}You can request support if you think you should be able to make this "
                "request.")
DEVELOPER_ROLE = "oda workflow developer"


def installed_instruments() -> list[str]:
    return list(INSTRUMENTS)


def plain_refusal(message: str, status: int = 403) -> ApiError:
    """The refusals some endpoints send as bare text rather than the error JSON."""
    return ApiError(status, message, code="plain")


def _format_hash(parts: Any) -> str:
    return hashlib.md5(json.dumps(sorted(parts)).encode()).hexdigest()[:16]


def make_hash(value: Any) -> str:
    """The dispatcher's job id: an order-independent hash of the typed parameters."""
    if isinstance(value, (set, tuple, list)):
        return _format_hash(tuple(map(make_hash, value)))
    if isinstance(value, dict):
        return make_hash(tuple(value.items()))
    return _format_hash(json.dumps(value))


class MmodaModel:
    def __init__(self, sandbox: Sandbox, secret: str) -> None:
        self.box = sandbox
        self.tokens = TokenBook(secret, sandbox.tokens)

    # --- tokens -------------------------------------------------------------------------------------
    def token_of(self, value: str | None) -> OdaToken | None:
        """The request's token, checked; None for a public request."""
        if value in (None, "", "None", NONE_TEXT):
            return None
        token = self.tokens.check(value)
        context = current_or_none()
        if context is not None:
            context.client, context.auth = token.user, "valid"
        return token

    def _token_or_text_refusal(self, value: str | None) -> OdaToken | None:
        """token_of(), refused in the short text form ("The token provided is expired.")."""
        try:
            return self.token_of(value)
        except ApiError as exc:
            raise plain_refusal(exc.message.split(",")[0] + ".") from None

    def _token_for_update(self, value: str | None, role: str | None, what: str) -> OdaToken:
        """The token of /refresh_token or /inspect-state: refusals as bare text, as the dispatcher sends them."""
        if value in (None, "", "None"):
            raise plain_refusal("A token must be provided.")
        token = self._token_or_text_refusal(value)
        assert token is not None
        if role is not None and role not in token.roles:
            raise plain_refusal(f"Unfortunately, your privileges are not sufficient to {what}.\nYour privilege roles "
                                f"include {token.roles}, but the following roles are missing: {role}.")
        return token

    def refresh_token(self, value: str | None, interval: str | None) -> str:
        token = self._token_for_update(value, "refresh-tokens", "refresh your token")
        seconds = MAX_REFRESH_INTERVAL_S
        if interval not in (None, ""):
            try:
                seconds = int(interval)
            except ValueError:
                raise not_understood(f"Parameter refresh_interval wrong value {interval}: it must be a whole "
                                     "number of seconds") from None
            if seconds > MAX_REFRESH_INTERVAL_S:
                raise not_authorized("Request not authorized", "The refresh interval requested exceeds the maximum "
                                     f"allowed, please provide a value which is lower than {MAX_REFRESH_INTERVAL_S} "
                                     "seconds")
            if seconds < 0:
                raise not_understood(f"Parameter refresh_interval wrong value {interval}: it must not be negative")
        return self.tokens.refreshed(token, seconds)

    def update_email_options(self, args: dict[str, str]) -> str:
        token = self.token_of(args.get("token"))
        if token is None:
            raise plain_refusal("A token must be provided.")
        problems: dict[str, list[str]] = {}
        options: dict[str, Any] = {}
        for name, text in args.items():
            if name in ("token", "query_status", "session_id", "api", "oda_api_version"):
                continue
            if name in EMAIL_FLAGS and text.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
                options[name] = text.strip().lower() in ("true", "1", "yes")
            elif name in EMAIL_FLAGS:
                problems[name] = ["Not a valid boolean."]
            elif name in EMAIL_NUMBERS:
                try:
                    options[name] = float(text)
                except ValueError:
                    problems[name] = ["Not a valid number."]
            else:
                problems[name] = ["Unknown field."]
        if problems:
            raise ApiError(400, f"An error occurred while validating the following fields: {problems}. Please check "
                                "it and re-try to issue the request", code="BadRequest")
        return self.tokens.with_email_options(token, options)

    # --- what the dispatcher knows --------------------------------------------------------------------
    def _instrument(self, name: str | None, roles: list[str]) -> Instrument:
        instrument = INSTRUMENTS.get(name or "")
        if instrument is None:
            raise ApiError(400, f'instrument: "{name}", known: {installed_instruments()}',
                           code="InstrumentNotRecognized")
        if instrument.restricted and DEVELOPER_ROLE not in roles:
            raise not_authorized("Unfortunately, your priviledges are not sufficient to make the request for this "
                                 "instrument.\n")
        return instrument

    def instrument_list(self, token_value: str | None) -> list[str]:
        token = self._token_or_text_refusal(token_value)
        roles = token.roles if token else []
        return [name for name, i in INSTRUMENTS.items() if not i.restricted or DEVELOPER_ROLE in roles]

    def parameter_names(self, instrument_name: str | None, product: str | None) -> list[str]:
        instrument = self._instrument(instrument_name, [DEVELOPER_ROLE])
        return instrument.parameter_names(self._product_name(instrument, product))

    def meta_data(self, instrument_name: str | None, product: str | None, token_value: str | None) -> list[Any]:
        token = self.token_of(token_value)
        instrument = self._instrument(instrument_name, token.roles if token else [])
        chosen = self._product_name(instrument, product) if product else None
        return [[{"instrumet": instrument.name}, {"prod_dict": instrument.query_dictionary},
                 *[query.describe() for query in instrument.queries(chosen)]]]

    @staticmethod
    def _product_name(instrument: Instrument, product: str | None) -> str:
        if product not in instrument.products:
            raise not_understood(f"[ InstrumentQueryBackEnd : {instrument.name} ] constructor failed: product type "
                                 f"{product} not in query_dictionary {instrument.query_dictionary}")
        return product or ""

    def inspect_state(self, token_value: str | None, job_id: str | None) -> dict[str, Any]:
        self._token_for_update(token_value, "job manager", "inspect the state for a given job_id")
        records = []
        for record in self.box.jobs.all():
            if job_id and not record["id"].startswith(job_id[:8]):
                continue
            outcome = self.box.jobs.outcome(record["id"])
            records.append({"mtime": record["submitted_at"], "ctime": record["submitted_at"],
                            "session_id": outcome["session_id"], "job_id": record["id"], "aliased_marker": "",
                            "analysis_parameters": outcome["analysis_parameters"]})
        return {"records": records}

    # --- run_analysis ---------------------------------------------------------------------------------
    def run_analysis(self, args: dict[str, list[str]], base_url: str) -> tuple[dict[str, Any], int]:
        first = {name: values[0] for name, values in args.items() if values}
        session_id = first.get("session_id") or "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))
        if not first.get("instrument"):
            names = list(first) + ([] if "session_id" in first else ["session_id"])
            raise ApiError(400, f"have parameters: {names} ", code="NoInstrumentSpecified")
        token = self.token_of(first.get("token"))
        roles = token.roles if token else []
        instrument = self._instrument(first["instrument"], roles)
        status = first.get("query_status")
        if status is None:
            raise not_understood(f"[ InstrumentQueryBackEnd : {instrument.name} ] constructor failed: 'query_status'")
        product_name = self._product_name(instrument, first.get("product_type"))
        product = instrument.products[product_name]
        query_type = first.get("query_type") or "Real"
        values, unknown = self._parameters(instrument, product_name, args, first)

        hashed = {k: v for k, v in {"instrument": instrument.name, "product_type": product_name,
                                    "query_type": query_type, **values}.items()
                  if v is not None and k not in NOT_HASHED}
        if token is not None:
            hashed["sub"] = token.user
        job_id = make_hash(hashed)
        given = first.get("job_id") or ""
        if status != "new":
            if not given:
                raise not_understood(f'job_id must be present if query_status != "new" (it is "{status}")')
            if self.box.jobs.get(given) is None:
                raise ApiError(400, f"unable to find any record for {given}", code="InvalidJobIDProvided")
            if given != job_id:
                return self._refused(given, session_id, "Request not authorized",
                                     f"The provided job_id={given} does not match with the job_id={job_id} derived "
                                     "from the request parameters" + (" for your user account email" if token else "")
                                     + "; parameters are derived from recorded job state"), 403
        elif given and given != job_id:
            raise not_understood(f'during query_status == "new", provided (unnecessarily) job_id {given} did not '
                                 f"match self.job_id {job_id} computed from request")

        lacking = {role: why for role, why in product.roles(values).items() if role not in roles}
        if lacking:
            listed = "".join(f" - {role}: {why}\n" for role, why in sorted(lacking.items()))
            return self._refused(job_id, session_id, ROLE_MESSAGE.format(roles=roles, lacking=listed)), 403

        comment = self._comment(unknown)
        record = self.box.jobs.get(job_id)
        if record is None:
            outcome = self._analyse(instrument, product_name, query_type, values, first, session_id, base_url)
            self.box.jobs.submit(token.user if token else "", f"{instrument.name}/{product_name}", outcome, job_id)
            if not outcome["sync"]:
                return self._answer(job_id, session_id, outcome, "submitted", comment), 200
        outcome = self.box.jobs.outcome(job_id)
        if outcome["sync"]:
            return self._answer(job_id, session_id, outcome, outcome["status"], comment), 200
        state, record = self.box.jobs.poll(job_id)
        if state == RUNNING:
            return self._answer(job_id, session_id, outcome, "progress", comment, record), 200
        return self._answer(job_id, session_id, outcome, outcome["status"], comment), 200

    def _parameters(self, instrument: Instrument, product: str, args: dict[str, list[str]], first: dict[str, str]
                    ) -> tuple[dict[str, Any], list[str]]:
        time_format = first.get("T_format") or "isot"
        if time_format not in ("isot", "mjd"):
            raise not_understood(f"Parameter T_format wrong value {time_format}: not in allowed ['isot', 'mjd']")
        values: dict[str, Any] = {}
        for parameter in instrument.parameters(product):
            given = args.get(parameter.name)
            if given is not None and parameter.kind != "list":
                given = given[0]
            values[parameter.name] = parameter.parse(given, time_format)
            if parameter.name == "T1":
                values["T_format"] = time_format
        known = {p.name for p in instrument.parameters()} | set(CONTROL_ARGS) | {"T_format", "time_bin_format"}
        unknown = [name for name in args if name not in known]
        return values, unknown

    @staticmethod
    def _comment(unknown: list[str]) -> str:
        """What the answer says about arguments no query knows (they are dropped)."""
        if len(unknown) == 1:
            return f"Please note that argument {unknown[0]} is not used"
        if unknown:
            return f"Please note that arguments {', '.join(unknown)} are not used"
        return ""

    def _analyse(self, instrument: Instrument, product_name: str, query_type: str, values: dict[str, Any],
                 first: dict[str, str], session_id: str, base_url: str) -> dict[str, Any]:
        """Make the query's products now (bad values are refused at once); the job only paces the answer."""
        product = instrument.products[product_name]
        request = Request(instrument.name, product_name, values, rng_for(instrument.name, product_name, values))
        products: dict[str, Any] = {"prod_process_message": ""} if query_type == "Dummy" else {}
        failure = None
        try:
            if query_type != "Dummy" or product.dummy_ok:
                products.update(product.make(request))
            else:
                raise Failure("Error when getting query products", f"Instrument: {instrument.name}, product: "
                              f"{product_name}: no dummy products", "RuntimeError()")
        except Failure as failed:
            failure = {"message": failed.message, "error_message": failed.error_message,
                       "debug_message": failed.debug_message}
        sync = instrument.mode == "sync" or query_type == "Dummy" or (
            instrument.mode == "semi-async" and not 0 <= (values.get("p") or 0) < 4)
        if instrument.mode == "semi-async" and values.get("p") == -1:
            failure = {"message": "Error when getting query products", "error_message": "p = -1 fails by design",
                       "debug_message": "InternalError()"}
        parameters = {"instrument": instrument.name, "product_type": product_name, "query_type": query_type,
                      "query_status": first.get("query_status"), "session_id": session_id,
                      **{k: first[k] for k in ("api", "oda_api_version", "off_line") if k in first},
                      **{k: v for k, v in values.items() if k != "user_catalog"}, "token": None}
        return {"sync": sync, "status": "failed" if failure else "done", "products": products, "failure": failure,
                "instrument": instrument.name, "session_id": session_id,
                "analysis_parameters": parameters, "api_code": self._api_code(parameters, base_url)}

    @staticmethod
    def _api_code(parameters: dict[str, Any], base_url: str) -> str:
        """The Python a user would run to ask the same question, as the dispatcher offers it."""
        shown = {k: v for k, v in parameters.items()
                 if v is not None and k not in ("session_id", "query_status", "token", "product_type", "query_type")}
        shown["product"], shown["product_type"] = parameters["product_type"], parameters["query_type"]
        return (f"from oda_api.api import DispatcherAPI\ndisp=DispatcherAPI(url='{base_url}', instrument='mock')\n\n"
                f"par_dict={json.dumps(shown, indent=4, sort_keys=True)}\n\n"
                "data_collection = disp.get_product(**par_dict)\n")

    # --- answers ------------------------------------------------------------------------------------
    def _envelope(self, job_id: str, session_id: str, status: str, products: dict[str, Any],
                  exit_status: dict[str, Any], monitor: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"query_status": status, "products": products,
                "exit_status": {"job_status": status, "status": 0, "message": "", "error_message": "",
                                "debug_message": "", "comment": "", "warning": "", **exit_status},
                "job_monitor": {"job_id": job_id, "session_id": session_id, "status": status, **(monitor or {})},
                "job_status": status, "session_id": session_id, "time_request": self.box.clock.timestamp()}

    def _refused(self, job_id: str, session_id: str, message: str, debug: str = "") -> dict[str, Any]:
        body = self._envelope(job_id, session_id, "failed", {},
                              {"status": 1, "message": message, "debug_message": debug})
        body["status_code"] = 403
        return body

    def _answer(self, job_id: str, session_id: str, outcome: dict[str, Any], status: str, comment: str,
                record: dict[str, Any] | None = None) -> dict[str, Any]:
        common = {"analysis_parameters": outcome["analysis_parameters"], "api_code": outcome["api_code"]}
        if status == "failed":
            failure = outcome["failure"]
            return self._envelope(job_id, session_id, "failed", common,
                                  {"job_status": "unknown", "status": 1, **failure, "comment": comment})
        if status == "done":
            products = {**outcome["products"], "session_id": session_id, "job_id": job_id, "input_prod_list": [],
                        **common}
            return self._envelope(job_id, session_id, "done", products, {"comment": comment})
        reports = []
        if record is not None:
            done = self.box.jobs.progress(record)
            reports = [{"job_id": job_id, "session_id": session_id, "instrument_name": outcome["instrument"],
                        "action": "progress", "node_id": f"step_{n + 1}",
                        "message": f"{min(100, round(100 * (n + 1) / max(record['polls'], 1) * done))}% done"}
                       for n in range(record["polls"])]
        monitor = {"full_report_dict_list": reports}
        if reports:
            monitor["full_report_dict"] = reports[-1]
        return self._envelope(job_id, session_id, status, {"input_prod_list": [], **common},
                              {"comment": comment}, monitor)
