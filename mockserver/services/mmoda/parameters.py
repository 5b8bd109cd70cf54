"""The dispatcher's parameters: names, kinds, units, defaults, bounds, and its messages for bad values.

Every request value arrives as text (oda_api sends ``str(value)``, and ``\\x00``
for None); a parameter turns it into the typed value the analysis uses, or
refuses it with the dispatcher's own wording, e.g. "Parameter p wrong value
abc. could not convert string to float: 'abc'".
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from astropy.time import Time

from ...core import inputs
from ...core.errors import ApiError

NONE_TEXT = "\x00"          # how oda_api sends None


def not_understood(message: str) -> ApiError:
    return ApiError(400, message, code="RequestNotUnderstood")


@dataclass(frozen=True)
class Parameter:
    """One parameter; ``kind`` is name, angle, time, float, integer, string, boolean, catalog, list or struct."""

    name: str
    kind: str
    default: Any = None
    units: str | None = None
    optional: bool = False
    low: float | None = None
    high: float | None = None
    allowed: tuple[str, ...] = ()
    replaced: tuple[tuple[str, str], ...] = ()     # values being phased out, and what to use instead
    owl_uri: tuple[str, ...] = ()

    def parse(self, given: Any, time_format: str = "isot") -> Any:
        """The typed value of ``given`` (text, a list of texts, or None for the default)."""
        if given is None:
            return self.default
        if given == NONE_TEXT or (self.kind in ("catalog", "name") and given in ("None", "")):
            if not self.optional and self.default is not None and self.kind not in ("catalog", "name"):
                raise not_understood(f"Non-optional parameter {self.name} is set to None")
            return None
        reader = getattr(self, f"_{self.kind}")
        return reader(given, time_format)

    def describe(self) -> dict[str, Any]:
        """The entry ``/api/meta-data`` gives for it."""
        restrictions: dict[str, Any] = {"is_optional": self.optional}
        if self.allowed:
            restrictions["allowed_values"] = list(self.allowed)
        if self.low is not None:
            restrictions["min_value"] = self.low
        if self.high is not None:
            restrictions["max_value"] = self.high
        entry: dict[str, Any] = {"name": self.name, "units": self.units, "value": self.default,
                                 "restrictions": restrictions}
        if self.owl_uri:
            entry["owl_uri"] = list(self.owl_uri)
        return entry

    # --- readers, one per kind -------------------------------------------------------------
    def _text(self, given: Any) -> str:
        return given[0] if isinstance(given, list) else str(given)

    def _name(self, given: Any, _fmt: str) -> str:
        return self._text(given)

    def _number(self, given: Any) -> float:
        text = self._text(given)
        try:
            value = float(text)
        except ValueError as exc:
            raise not_understood(f"Parameter {self.name} wrong value {text}. {exc}") from None
        if not math.isfinite(value):
            raise not_understood(f"Parameter {self.name} wrong value {text}. it must be a finite number")
        unit = self.units if self.units not in (None, "deg", "str") else ""
        if self.high is not None and value > self.high:
            raise not_understood(f"Parameter {self.name} wrong value {value}{unit}: should be lower or equal than "
                                 f"{float(self.high)}")
        if self.low is not None and value < self.low:
            raise not_understood(f"Parameter {self.name} wrong value {value}{unit}: should be greater or equal than "
                                 f"{float(self.low)}")
        return value

    def _angle(self, given: Any, _fmt: str) -> float:
        return self._number(given)

    def _float(self, given: Any, _fmt: str) -> float:
        return self._number(given)

    def _integer(self, given: Any, _fmt: str) -> int:
        value = self._number(given)
        if value != int(value):
            raise not_understood(f"{value} is an invalid value for {self.name} since it cannot be used as an Integer")
        return int(value)

    def _string(self, given: Any, _fmt: str) -> str:
        text = self._text(given)
        for old, new in self.replaced:
            if text == old:
                raise not_understood(f"Please note {old} is being phased out. We consider that for all or almost all "
                                     f"likely user requests {new} shoud be used instead of {old}.")
        if self.allowed and text not in self.allowed:
            raise not_understood(f"Parameter {self.name} wrong value {text}: not in allowed {list(self.allowed)}")
        return text

    def _boolean(self, given: Any, _fmt: str) -> bool:
        text = self._text(given).strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        raise not_understood(f"Wrong value for boolean parameter {self.name}")

    def _time(self, given: Any, time_format: str) -> str:
        text = self._text(given)
        try:
            moment = Time(float(text), format="mjd", scale="utc") if time_format == "mjd" else \
                Time(text, format=time_format, scale="utc")
            if not 40_000 < moment.mjd < 80_000:
                raise ValueError("out of range")
        except (ValueError, TypeError):
            raise not_understood(f"Parameter {self.name} wrong value {text}: can't be parsed as Time of "
                                 f"{time_format} format") from None
        return text

    def _list(self, given: Any, _fmt: str) -> list[str]:
        """A list: repeated values, or one JSON list, or one comma-separated text."""
        if isinstance(given, list) and len(given) != 1:
            return [str(v) for v in given]
        text = self._text(given).strip()
        if text.startswith("["):
            try:      # inputs.loads: a list nested past its depth limit is a 400, not a RecursionError
                values = inputs.loads(text, f"Parameter {self.name}", field=None)
            except ValueError:
                raise not_understood(f"Parameter {self.name} wrong value {text}. it is not a JSON list") from None
            if isinstance(values, list):
                return [str(v) for v in values]
        return [v.strip() for v in text.split(",") if v.strip()]

    def _catalog(self, given: Any, _fmt: str) -> dict[str, Any]:
        text = self._text(given)
        try:
            catalog = inputs.loads(text, f"Parameter {self.name}", field=None)     # depth-limited, as above
            names = catalog["cat_column_names"]
            columns = dict(zip(names, catalog["cat_column_list"]))
            columns[catalog.get("cat_lon_name", "ra")], columns[catalog.get("cat_lat_name", "dec")]
            if not isinstance(columns.get("src_names"), list):
                raise KeyError("src_names")
        except (ValueError, KeyError, TypeError) as exc:
            raise not_understood(f"Parameter {self.name} wrong value {text[:80]}. it is not a catalog with "
                                 f"cat_column_names, cat_column_list and the columns src_names, ra and dec "
                                 f"({exc!r})") from None
        return catalog

    def _struct(self, given: Any, _fmt: str) -> Any:
        text = self._text(given)
        try:
            return inputs.loads(text, f"Parameter {self.name}", field=None)        # depth-limited, as above
        except ValueError:
            raise not_understood(f"Wrong value of structured parameter {self.name}") from None


@dataclass(frozen=True)
class Query:
    """A named group of parameters (the dispatcher's queries: src_query, isgri_parameters ...)."""

    name: str
    parameters: tuple[Parameter, ...] = ()
    product: str | None = None        # set for a product's own query

    def describe(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = [{"query_name": self.name}]
        if self.product:
            entries.append({"product_name": self.product})
        for parameter in self.parameters:
            entries.append(parameter.describe())
            if parameter.kind == "time" and parameter.name == "T1":
                entries.append({"name": "T_format", "units": "str", "value": "isot"})
        return entries


ANGLE = ("http://odahub.io/ontology#Angle",)
TIME = ("http://odahub.io/ontology#TimeInstant",)
NAME = ("http://www.w3.org/2001/XMLSchema#str", "http://odahub.io/ontology#String",
        "http://odahub.io/ontology#AstrophysicalObject")


def source_query(name: str = "1E 1740.7-2942", ra: float = 265.97845833, dec: float = -29.74516667,
                 t1: str = "2017-03-06T13:26:48.000", t2: str = "2017-03-06T15:32:27.000") -> Query:
    """The query every instrument shares: the source, its position and the time span."""
    return Query("src_query", (
        Parameter("src_name", "name", name, "str", owl_uri=NAME), Parameter("RA", "angle", ra, "deg", owl_uri=ANGLE),
        Parameter("DEC", "angle", dec, "deg", low=-90, high=90, owl_uri=ANGLE),
        Parameter("T1", "time", t1, "isot", owl_uri=TIME), Parameter("T2", "time", t2, "isot", owl_uri=TIME),
        Parameter("token", "name", None, "str", optional=True, owl_uri=NAME)))


@dataclass(frozen=True)
class Parsed:
    """A request's typed parameters, and what it sent that no query knows."""

    values: dict[str, Any] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
