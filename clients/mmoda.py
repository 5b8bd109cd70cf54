"""Client for the MMODA dispatcher (INTEGRAL and other data analysis), as library and command.

Usage as a command::

    python -m clients.mmoda run --instrument spi_acs --product spi_acs_lc \\
        -p RA=257.815 -p DEC=-41.593 -p T1=58195.455 -p T2=58195.555 -p T_format=mjd -p time_bin=1 \\
        --save products/
    python -m clients.mmoda instruments
    python -m clients.mmoda describe --instrument isgri --product isgri_image
    python -m clients.mmoda refresh

The dispatcher is asked the way ``oda_api`` asks it: every value a query
parameter (a form POST when they are long), the token among them. The client
submits a query, polls while the job is ``submitted`` or in ``progress`` (waits
growing from one second to five), and decodes the products of a ``done`` job
into NumPy arrays and FITS headers, which it can write as FITS files. Before
each request it looks at the token's expiry: when the token is about to expire
and carries the ``refresh-tokens`` role it asks for a renewed one first; a token
that has expired is reported before anything is sent.

The token comes from ``--token``, the variable ``MMODA_TOKEN`` (or oda_api's
``ODA_TOKEN``), a dotenv file (``.mmoda.env`` by default), or the files oda_api
reads (``./.oda-token``, ``~/.oda-token``); the base URL from ``--base-url`` or
``MMODA_BASE_URL``. Products are sent as Python pickles, so the client unpickles
NumPy arrays only, and refuses anything else a server might put in a pickle.
"""
from __future__ import annotations

import argparse
import ast
import base64
import io
import json
import os
import pickle
import re
import secrets
import string
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import numpy as np

from ._http import ApiError, ApiSession, RetryPolicy, json_object, run_subcommand, settings_from

DEFAULT_BASE_URL = "https://www.astro.unige.ch/mmoda/dispatch-data"
DEFAULT_ENV_FILE = ".mmoda.env"
ENV_PREFIX = "MMODA"
REFRESH_ROLE = "refresh-tokens"
#: oda_api switches from GET to a form POST when the JSON of the parameters is longer than this
MAX_GET_SIZE = 1000
#: parameters sent as they are (a list becomes repeated parameters); other lists and dicts travel as JSON
RAW_PARAMETERS = ("catalog_selected_objects", "selected_catalog", "scw_list")
FINISHED = ("done", "failed")


class ConfigError(ValueError):
    """A required setting is missing or malformed."""


class TokenExpired(ConfigError):
    """The token has expired and cannot be renewed: the user needs a new one from the MMODA web site."""


class ProductError(ValueError):
    """A product the client cannot decode, or will not (a pickle holding more than NumPy arrays)."""


class JobFailed(Exception):
    """The dispatcher ran the query and it failed; ``answer`` is its last answer."""

    def __init__(self, answer: Mapping[str, Any]) -> None:
        self.answer = dict(answer)
        exit_status = self.answer.get("exit_status") or {}
        self.job_id = str((self.answer.get("job_monitor") or {}).get("job_id", ""))
        self.message = str(exit_status.get("message") or "the job failed")
        self.error_message = str(exit_status.get("error_message") or "")
        super().__init__(f"job {self.job_id} failed: {self.message}"
                         + (f" ({self.error_message})" if self.error_message else ""))


# --- tokens -----------------------------------------------------------------------------------------
def token_claims(token: str) -> dict[str, Any]:
    """The claims of an MMODA token, read without checking its signature (only the dispatcher can)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError as exc:
        raise ConfigError(f"the token is not a JWT ({exc}); copy it again from the MMODA web site") from None
    if not isinstance(claims.get("exp"), (int, float)):
        raise ConfigError("the token has no expiry (exp claim); copy it again from the MMODA web site")
    return claims


def token_roles(claims: Mapping[str, Any]) -> list[str]:
    roles = claims.get("roles")
    if isinstance(roles, str):
        return [r.strip() for r in roles.split(",") if r.strip()]
    return [str(r).strip() for r in roles or [] if str(r).strip()]


# --- products ---------------------------------------------------------------------------------------
#: what a pickled NumPy array (plain or record) may refer to, in NumPy 1 and 2 module names
_PICKLE_GLOBALS = {("numpy", "dtype"), ("numpy", "ndarray"), ("numpy", "record"), ("numpy.rec", "recarray"),
                   ("numpy.core.records", "recarray"), ("numpy._core.records", "recarray"),
                   ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                   ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                   ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
                   ("_codecs", "encode"), ("builtins", "bytes"), ("__builtin__", "bytes")}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _PICKLE_GLOBALS and not (module == "numpy.dtypes" and name.endswith("DType")):
            raise ProductError(f"refusing to unpickle {module}.{name}: a product's data should be a NumPy array")
        return super().find_class(module, name)


def _unpickled(text: str) -> np.ndarray:
    try:
        array = _ArrayUnpickler(io.BytesIO(base64.b64decode(text))).load()
    except ProductError:
        raise
    except Exception as exc:
        raise ProductError(f"unreadable data unit ({type(exc).__name__}: {exc})") from None
    if not isinstance(array, np.ndarray):
        raise ProductError(f"a data unit holds a {type(array).__name__}, not an array")
    return array


def _dtype(text: str) -> np.dtype:
    """A dtype from oda_api's text: 'float64', "[('TIME', '<f8'), ...]" or "(numpy.record, [...])"."""
    text = re.sub(r"^\(numpy\.record,\s*(.*)\)$", r"\1", text.strip())
    try:
        return np.dtype(ast.literal_eval(text) if text.startswith("[") else text)
    except (ValueError, SyntaxError, TypeError) as exc:
        raise ProductError(f"unknown data type {text!r}: {exc}") from None


@dataclass
class DataUnit:
    """One FITS-like unit of a product: ``hdu_type`` primary, image or (bin)table."""

    name: str
    hdu_type: str
    header: dict[str, Any]
    data: np.ndarray | None
    units: dict[str, str] = field(default_factory=dict)

    @classmethod
    def decode(cls, encoded: Mapping[str, Any]) -> DataUnit:
        data = None
        if encoded.get("binarys"):
            data = _unpickled(encoded["binarys"])
        elif encoded.get("data") is not None:
            dtype = _dtype(encoded.get("dt") or "float64")
            rows = json.loads(encoded["data"])
            data = np.array([tuple(r) for r in rows] if dtype.names else rows, dtype=dtype)
        return cls(str(encoded.get("name") or ""), str(encoded.get("hdu_type") or ""),
                   dict(encoded.get("header") or {}), data, dict(encoded.get("units_dict") or {}))

    def to_hdu(self) -> Any:
        from astropy.io import fits

        header = fits.Header([(k, v) for k, v in self.header.items()
                              if not re.match(r"(XTENSION|SIMPLE|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|TFIELDS|"
                                              r"T(TYPE|FORM|UNIT|DIM)\d+|EXTEND)$", k)])
        if self.hdu_type == "primary":
            data = self.data if self.data is not None and self.data.size else None
            return fits.PrimaryHDU(data, header)
        if self.hdu_type == "image":
            return fits.ImageHDU(self.data, header, name=self.name)
        table = fits.BinTableHDU(np.asarray(self.data), header, name=self.name)
        for number, column in enumerate(table.columns.names, start=1):
            if self.units.get(column):
                table.header[f"TUNIT{number}"] = self.units[column]
        return table


@dataclass
class Product:
    """A decoded ``NumpyDataProduct``: its units and meta data (source name, product kind...)."""

    name: str | None
    meta_data: dict[str, Any]
    units: list[DataUnit]

    @classmethod
    def decode(cls, encoded: Mapping[str, Any]) -> Product:
        if not isinstance(encoded, Mapping) or not isinstance(encoded.get("data_unit_list"), list):
            raise ProductError("a product should be an object with a data_unit_list")
        meta = encoded.get("meta_data") or {}
        if isinstance(meta, str):
            meta = json.loads(meta)
        return cls(encoded.get("name"), dict(meta), [DataUnit.decode(u) for u in encoded["data_unit_list"]])

    def unit(self, name: str) -> DataUnit:
        """The first unit whose name is ``name`` (a light curve's table, a mosaic's significance...)."""
        for unit in self.units:
            if unit.name == name or unit.header.get("IMATYPE") == name:
                return unit
        raise KeyError(f"no data unit {name!r}; units: {[u.name for u in self.units]}")

    @property
    def label(self) -> str:
        """A file-name-friendly label: the source and the product kind when known."""
        parts = [str(self.meta_data.get(k)) for k in ("src_name", "product") if self.meta_data.get(k)]
        text = "_".join(parts) or self.name or "product"
        return re.sub(r"[^A-Za-z0-9_.+-]+", "", text.replace(" ", "_"))

    def write_fits(self, path: str | os.PathLike[str]) -> Path:
        from astropy.io import fits

        hdus = [u.to_hdu() for u in self.units]
        if not hdus or not isinstance(hdus[0], fits.PrimaryHDU):
            hdus.insert(0, fits.PrimaryHDU())
        fits.HDUList(hdus).writeto(path, overwrite=True)
        return Path(path)


@dataclass
class Result:
    """A finished query: its products, the source catalog an image query found, and the dispatcher's comment."""

    job_id: str
    products: list[Product]
    catalog: dict[str, Any] | None
    comment: str
    answer: dict[str, Any]

    def catalog_rows(self) -> list[dict[str, Any]]:
        """The catalog as one dict per source (src_names, significance, ra, dec...)."""
        if not self.catalog:
            return []
        names, columns = self.catalog["cat_column_names"], self.catalog["cat_column_list"]
        return [dict(zip(names, values)) for values in zip(*columns)]

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        return [p.write_fits(folder / f"{self.job_id}_{i}_{p.label}.fits") for i, p in enumerate(self.products)]


def decode_result(answer: Mapping[str, Any]) -> Result:
    products = answer.get("products") or {}
    return Result(job_id=str(answer["job_monitor"]["job_id"]),
                  products=[Product.decode(p) for p in products.get("numpy_data_product_list") or []],
                  catalog=products.get("catalog"), comment=str((answer.get("exit_status") or {}).get("comment") or ""),
                  answer=dict(answer))


# --- the protocol -----------------------------------------------------------------------------------
def encode_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """Values as the dispatcher reads them: text, JSON for lists and dicts, NUL for None."""
    encoded: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            if name != "token":
                encoded[name] = "\x00"
        elif name in RAW_PARAMETERS and isinstance(value, (list, tuple)):
            encoded[name] = [str(v) for v in value]
        elif isinstance(value, (list, tuple, dict, set)):
            encoded[name] = json.dumps(list(value) if isinstance(value, (tuple, set)) else value)
        else:
            encoded[name] = str(value)
    return encoded


class MmodaClient:
    """Ask the dispatcher for products, wait for them, keep the token alive."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, token: str | None = None, *,
                 refresh_margin: float = 3600.0, on_token: Callable[[str], None] | None = None,
                 retry: RetryPolicy | None = None, session: ApiSession | None = None) -> None:
        self.session = session or ApiSession(base_url, retry=retry, timeout=120.0)
        self.token = token
        self.refresh_margin = refresh_margin
        self.on_token = on_token
        self.token_file: Path | None = None          # where the command found the token, if in a file
        self.session_id = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))

    # --- the token ----------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.session.retry.wall_clock()

    def fresh_token(self) -> str | None:
        """The token to send: renewed first if it expires within ``refresh_margin`` and may be renewed."""
        if self.token is None:
            return None
        claims = token_claims(self.token)
        left = claims["exp"] - self._now()
        if left > self.refresh_margin:
            return self.token
        renewable = REFRESH_ROLE in token_roles(claims)
        if left <= 0:
            until = datetime.fromtimestamp(claims["exp"], UTC).isoformat(timespec="seconds")
            raise TokenExpired(f"the token expired at {until}; log in to MMODA and copy a new one"
                               + ("" if renewable else f" (without the {REFRESH_ROLE} role it cannot be renewed)"))
        if renewable:
            self.refresh()
        return self.token

    def refresh(self, interval: float | None = None) -> str:
        """Ask for the token with a later expiry (the role ``refresh-tokens`` is needed); keep and return it."""
        params = {"token": self.token, "query_status": "new"}
        if interval is not None:
            params["refresh_interval"] = str(int(interval))
        answer = self.session.request("GET", "refresh_token", params=params)
        token = answer.text.strip()
        token_claims(token)
        self.token = token
        if self.on_token is not None:
            self.on_token(token)
        return token

    def _with_token(self, params: Mapping[str, Any]) -> dict[str, Any]:
        token = self.fresh_token()
        return {**params, **({"token": token} if token else {})}

    # --- catalogue of the service -------------------------------------------------------------------
    def instruments(self) -> list[str]:
        answer = self.session.request("GET", "api/instr-list", params=self._with_token({"instrument": "mock"}))
        return list(answer.json())

    def parameter_names(self, instrument: str, product: str) -> list[str]:
        answer = self.session.request("GET", "api/par-names",
                                      params={"instrument": instrument, "product_type": product})
        return list(answer.json())

    def describe(self, instrument: str, product: str | None = None) -> Any:
        params = {"instrument": instrument, **({"product_type": product} if product else {})}
        return self.session.request("GET", "api/meta-data", params=self._with_token(params)).json()

    # --- analysis -----------------------------------------------------------------------------------
    def ask(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """One run_analysis request; a form POST when the parameters are long, as oda_api does."""
        payload = encode_parameters(self._with_token(params))
        long = len(json.dumps(payload)) > MAX_GET_SIZE
        answer = self.session.request("POST" if long else "GET", "run_analysis", idempotent=True,  # same query, same job
                                      **({"data": payload} if long else {"params": payload}))
        body = json_object(answer)
        if body.get("query_status") not in (*FINISHED, "submitted", "progress", "ready"):
            raise ApiError(answer.status_code, body, answer.request.method or "?", answer.url,
                           f"unexpected query_status {body.get('query_status')!r}")
        return body

    def submit(self, instrument: str, product: str, query_type: str = "Real", **params: Any) -> Submitted:
        """Send a new query; what was asked and the dispatcher's first answer (done at once, or submitted)."""
        asked = {"instrument": instrument, "product_type": product, "query_type": query_type, "off_line": False,
                 "query_status": "new", "session_id": self.session_id, "api": True, **params}
        return Submitted(asked, self.ask(asked))

    def wait(self, submitted: Submitted, *, timeout: float = 600.0, interval: float = 1.0,
             max_interval: float = 5.0, progress: Callable[[dict[str, Any]], None] | None = None) -> Result:
        """Poll a submitted query (the same parameters, its job_id and the last status) until it is done; the
        decoded result. Waits grow from ``interval`` to ``max_interval``. JobFailed when the job fails,
        TimeoutError after ``timeout`` seconds."""
        last = submitted.answer
        job_id = last["job_monitor"]["job_id"]
        if last["query_status"] not in FINISHED:
            if progress is not None:
                progress(last)
            self.session.sleep(interval)

            def look() -> dict[str, Any]:
                nonlocal last
                answer = self.ask({**submitted.params, "query_status": last["query_status"], "job_id": job_id})
                if answer["job_monitor"]["job_id"] != job_id:
                    raise ApiError(200, answer, "GET", self.session.url("run_analysis"),
                                   f"the answer is about job {answer['job_monitor']['job_id']}, not {job_id}")
                last = answer
                return answer
            self.session.poll(look, lambda a: a["query_status"] in FINISHED, interval=interval,
                              timeout=timeout, max_interval=max_interval, progress=progress)
        if last["query_status"] == "failed":
            raise JobFailed(last)
        return decode_result(last)

    def run(self, instrument: str, product: str, query_type: str = "Real", *, timeout: float = 600.0,
            progress: Callable[[dict[str, Any]], None] | None = None, **params: Any) -> Result:
        """Submit a query and wait for its products."""
        return self.wait(self.submit(instrument, product, query_type, **params), timeout=timeout, progress=progress)


@dataclass(frozen=True)
class Submitted:
    """A query sent to the dispatcher: its parameters (sent again with each poll) and the first answer."""

    params: dict[str, Any]
    answer: dict[str, Any]


# --- the command ------------------------------------------------------------------------------------
def _token_from_files() -> tuple[str | None, Path | None]:
    """The first usable token in oda_api's files (here, then home), with its file."""
    for path in (Path(".oda-token"), Path.home() / ".oda-token"):
        try:
            return path.read_text().strip() or None, path
        except OSError:
            continue
    return None, None


def _client(args: argparse.Namespace) -> MmodaClient:
    settings = settings_from(ENV_PREFIX, args={"token": args.token, "base_url": args.base_url},
                             env_file=args.env_file)
    token, source = settings["token"] or os.environ.get("ODA_TOKEN") or None, None
    if token is None:
        token, source = _token_from_files()

    def keep(new: str) -> None:
        until = datetime.fromtimestamp(token_claims(new)["exp"], UTC).isoformat(timespec="seconds")
        if source is not None:
            source.chmod(0o600)
            source.write_text(new + "\n")
            print(f"token renewed until {until}, written to {source}", file=sys.stderr)
        else:
            print(f"token renewed until {until}; it was not saved (give it in MMODA_TOKEN next time)",
                  file=sys.stderr)
    client = MmodaClient(settings["base_url"] or DEFAULT_BASE_URL, token, on_token=keep)
    client.token_file = source
    return client


def _progress(enabled: bool) -> Callable[[dict[str, Any]], None] | None:
    if not enabled:
        return None
    from tqdm import tqdm

    bar = tqdm(desc="waiting for MMODA", unit=" looks", file=sys.stderr, leave=False)

    def show(answer: dict[str, Any]) -> None:
        bar.update(1)
        report = (answer.get("job_monitor") or {}).get("full_report_dict") or {}
        bar.set_postfix_str(f"{answer.get('query_status')} {report.get('message', '')}".strip()[:60])
    return show


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _run(args: argparse.Namespace) -> int:
    client = _client(args)
    try:
        result = client.run(args.instrument, args.product, args.query_type, timeout=args.timeout,
                            progress=_progress(not args.quiet), **dict(args.parameters))
    except JobFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    if result.comment:
        print(result.comment)
    for i, product in enumerate(result.products):
        shapes = ", ".join(f"{u.name}{list(u.data.shape) if u.data is not None else []}" for u in product.units)
        print(f"{i}  {product.label}  {shapes}")
    if result.catalog:
        for row in result.catalog_rows():
            print(f"   source {row.get('src_names')}: significance {row.get('significance')}, "
                  f"ra {row.get('ra')}, dec {row.get('dec')}")
    print(f"job {result.job_id}: {len(result.products)} product(s)")
    if args.save:
        for path in result.save(args.save):
            print(f"wrote {path}")
    return 0


def _instruments(args: argparse.Namespace) -> int:
    print("\n".join(_client(args).instruments()))
    return 0


def _describe(args: argparse.Namespace) -> int:
    print(json.dumps(_client(args).describe(args.instrument, args.product), indent=2))
    return 0


def _refresh(args: argparse.Namespace) -> int:
    client = _client(args)
    if client.token is None:
        raise ConfigError("no token: set MMODA_TOKEN or write it to .oda-token")
    token = client.refresh(args.interval)
    if client.token_file is None:
        print(token)                     # nowhere to keep it: the caller stores it
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m clients.mmoda", description=__doc__.split("\n\n")[0])
    top.add_argument("--base-url", help=f"dispatcher URL (default {DEFAULT_BASE_URL}, or MMODA_BASE_URL)")
    top.add_argument("--token", help="MMODA token (prefer MMODA_TOKEN or .oda-token)")
    top.add_argument("--env-file", default=DEFAULT_ENV_FILE, help=f"dotenv file (default {DEFAULT_ENV_FILE})")
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="ask for a product, wait for it, list it and optionally save it as FITS")
    run.add_argument("--instrument", required=True, help="for example isgri, jemx, spi_acs")
    run.add_argument("--product", required=True, help="for example isgri_image, spi_acs_lc")
    run.add_argument("--query-type", default="Real", choices=["Real", "Dummy"])
    run.add_argument("-p", "--param", dest="parameters", action="append", type=_parameter, default=[],
                     metavar="NAME=VALUE", help="a query parameter (repeat for each)")
    run.add_argument("--save", metavar="DIR", help="write each product as a FITS file in DIR")
    run.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the job (default 600)")
    run.add_argument("--quiet", action="store_true", help="no progress bar while waiting")
    run.set_defaults(func=_run)

    sub.add_parser("instruments", help="the instruments the token may use").set_defaults(func=_instruments)
    describe = sub.add_parser("describe", help="an instrument's or product's parameters, with units")
    describe.add_argument("--instrument", required=True)
    describe.add_argument("--product")
    describe.set_defaults(func=_describe)
    refresh = sub.add_parser("refresh", help="renew the token (needs the refresh-tokens role)")
    refresh.add_argument("--interval", type=float, help="seconds to add to the expiry (default: the maximum)")
    refresh.set_defaults(func=_refresh)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    return run_subcommand(parser(), argv)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["ApiError", "ConfigError", "DataUnit", "JobFailed", "MmodaClient", "Product", "ProductError",
           "Result", "Submitted", "TokenExpired", "decode_result", "encode_parameters", "main", "token_claims"]
