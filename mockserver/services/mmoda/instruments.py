"""The instruments the sandbox dispatcher offers, their products, parameters and role rules.

Two families, as on a real dispatcher: the debug instruments a dispatcher in
debug mode loads (``empty``, ``empty-async``, ``empty-semi-async``,
``empty-development``), whose products test a client's handling of the protocol;
and INTEGRAL's ``isgri``, ``jemx`` and ``spi_acs`` with science products made by
science.py. A product is its query (parameters) and a function making its
``products`` entries from the typed request, or raising :class:`Failure`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from astropy.time import Time

from . import science
from .encoding import DataUnit, NumpyProduct
from .parameters import Parameter, Query, not_understood, source_query

SUPPORT_TAIL = ("\n\nThe support team has been notified, and we are investigating to resolve the issue as soon as "
                "possible\n\nIf you are willing to help us, please use the \"Write a feedback\" button below. We will "
                "make sure to respond to any feedback provided")


class Failure(Exception):
    """The analysis failed: the query answers ``failed`` with these messages (HTTP 200)."""

    def __init__(self, message: str, error_message: str, debug_message: str) -> None:
        super().__init__(message)
        self.message, self.error_message, self.debug_message = message, error_message, debug_message


@dataclass(frozen=True)
class Request:
    """What a product maker sees: the instrument and product, typed values, and a seeded generator."""

    instrument: str
    product: str
    values: dict[str, Any]
    rng: np.random.Generator

    def ijd(self, name: str) -> float:
        text, fmt = self.values[name], self.values.get("T_format") or "isot"
        moment = Time(float(text), format="mjd", scale="utc") if fmt == "mjd" else Time(text, format=fmt, scale="utc")
        return float(moment.mjd) - science.IJD_MJD


Maker = Callable[[Request], dict[str, Any]]
#: the roles a request needs, each with the reason shown when it is lacking
Roles = Callable[[dict[str, Any]], dict[str, str]]


def no_roles(_values: dict[str, Any]) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Product:
    query: Query
    make: Maker
    roles: Roles = no_roles
    dummy_ok: bool = True          # answers query_type=Dummy too

    @property
    def name(self) -> str:
        return self.query.product or ""


@dataclass(frozen=True)
class Instrument:
    """``mode``: sync (done at once), async (a job on the clock) or semi-async (per product value)."""

    name: str
    query: Query
    products: dict[str, Product]
    mode: str = "async"
    restricted: bool = False        # listed and usable only with the 'oda workflow developer' role
    source: Query = field(default_factory=source_query)

    def queries(self, product: str | None = None) -> list[Query]:
        chosen = [self.products[product].query] if product else [p.query for p in self.products.values()]
        return [self.source, self.query, *chosen]

    def parameters(self, product: str | None = None) -> list[Parameter]:
        """Every parameter of the source, instrument and product queries (all products' when None)."""
        return [p for q in self.queries(product) for p in q.parameters]

    def parameter_names(self, product: str) -> list[str]:
        """What ``/api/par-names`` lists: every parameter but the user catalog."""
        names = []
        for parameter in self.parameters(product):
            if parameter.name != "user_catalog":
                names.append(parameter.name)
            if parameter.name == "T1":
                names.append("T_format")
        return names

    @property
    def query_dictionary(self) -> dict[str, str]:
        return {name: product.query.name for name, product in self.products.items()}


# --- the debug instruments -------------------------------------------------------------------------

def _nothing(_request: Request) -> dict[str, Any]:
    return {}


def _zero_image(request: Request) -> dict[str, Any]:
    unit = DataUnit("user_image", "image", np.zeros((100, 100)))
    meta = {"product": "mosaic", "instrument": request.instrument, "src_name": "",
            "query_parameters": None}
    return {"numpy_data_product_list": [NumpyProduct([unit], "user_image", meta).encode()]}


def _failing(request: Request) -> dict[str, Any]:
    raise Failure("Error when getting query products",
                  f"Instrument: {request.instrument}, product: {request.product}{SUPPORT_TAIL}", "InternalError()")


def _echo(request: Request) -> dict[str, Any]:
    return {"echo": {k: v for k, v in request.values.items() if k not in ("token",)}}


def _numerical_roles(values: dict[str, Any]) -> dict[str, str]:
    if (values.get("p") or 0) > 50:
        return {"general": "general role is needed for p>50",
                "unige-hpc-full": "unige-hpc-full role is needed for p>50 as well"}
    return {"general": "please refer to support for details"}


def _p_limit(request: Request) -> dict[str, Any]:
    if request.values["p"] > 800:
        raise not_understood("p value is restricted to 800 W")
    return _zero_image(request)


def _debug_products(*names: str) -> dict[str, Product]:
    every = {
        "dummy": Product(Query("empty_parameters_dummy_query", (), "dummy"), _nothing),
        "numerical": Product(Query("numerical_parameters_dummy_query",
                                   (Parameter("p", "float", 10.0, "W"),), "numerical"), _p_limit, _numerical_roles),
        "failing": Product(Query("failing_parameters_dummy_query", (), "failing"), _failing),
        "parametrical": Product(Query("parametrical_parameters_dummy_query",
                                      (Parameter("sb", "float", 10.0, "keV"),), "parametrical"), _nothing),
        "echo": Product(Query("echo_parameters_dummy_query", (
            Parameter("ang", "angle", 1.0, "arcsec"), Parameter("ang_deg", "angle", 1.0, "deg"),
            Parameter("energ", "float", 1.0, "MeV"), Parameter("energy_units", "name", "keV", "str")), "echo"),
            _echo, dummy_ok=False),
        "restricted": Product(Query("restricted_parameters_dummy_query", (
            Parameter("bounded_int_par", "integer", 5, None, low=2, high=8),
            Parameter("bounded_float_par", "float", 5.0, None, low=2.2, high=7.7),
            Parameter("string_select_par", "string", "spam", "str", allowed=("spam", "eggs", "ham"))), "restricted"),
            _echo, dummy_ok=False),
        "structured": Product(Query("structured_param_dummy_query",
                                    (Parameter("struct", "struct", {"a": [1, 2]}, None),), "structured"), _echo,
                              dummy_ok=False),
    }
    return {name: every[name] for name in names}


def _debug_query(list_name: str) -> Query:
    return Query("empty_instrument_query", (
        Parameter("user_catalog", "catalog", None, None, optional=True),
        Parameter(list_name, "list", [], None, optional=True, owl_uri=("http://odahub.io/ontology#InputProdList",)),
        Parameter("selected_catalog", "catalog", None, None, optional=True)))


def _semi_async_numerical() -> dict[str, Product]:
    return {"numerical": Product(Query("numerical_parameters_dummy_query", (Parameter("p", "float", 10.0, "W"),),
                                       "numerical"), _zero_image)}


# --- INTEGRAL ----------------------------------------------------------------------------------------

ISGRI_BAND = (15.0, 1000.0)
JEMX_BAND = (3.0, 35.0)
MAX_PUBLIC_POINTINGS = 50


def _integral_roles(values: dict[str, Any]) -> dict[str, str]:
    needed = {}
    if values.get("integral_data_rights") == "all-private":
        needed["integral-private-qla"] = "it is needed to access private INTEGRAL data"
    count = max(values.get("max_pointings") or 0, len(values.get("scw_list") or []))
    if count > MAX_PUBLIC_POINTINGS:
        needed["unige-hpc-full"] = f"it is needed to request > {MAX_PUBLIC_POINTINGS} ScW, you requested {count}"
    if count > 500:
        needed["unige-hpc-extreme"] = "it is needed to request > 500 ScW"
    return needed


def _acs_roles(values: dict[str, Any]) -> dict[str, str]:
    if values.get("data_level") == "realtime":
        return {"integral-realtime": "it is needed to access realtime SPI-ACS data"}
    return {}


def _band(request: Request, low: float, high: float) -> tuple[float, float]:
    e1, e2 = request.values["E1_keV"], request.values["E2_keV"]
    if not low <= e1 < e2 <= high:
        raise not_understood(f"Parameter E2_keV wrong value {e2}: the band E1_keV-E2_keV must be within "
                             f"{low:g}-{high:g} keV, with E1_keV < E2_keV")
    return e1, e2


def _pointings(request: Request) -> science.Pointings:
    t1, t2 = request.ijd("T1"), request.ijd("T2")
    if t2 <= t1:
        raise not_understood(f"Parameter T2 wrong value {request.values['T2']}: it must be after T1")
    scw = request.values.get("scw_list") or []
    if scw:
        # each science window id (RRRRPPPPSSSF) stands for one hour-long pointing in its revolution
        starts = np.array(sorted({(int(s[:4]) * 2.67 + int(s[4:8]) * 0.04) % 1e4 for s in scw if s[:8].isdigit()}))
        if starts.size:
            return science.Pointings(starts + 1000, starts + 1000 + science.SCW_S / 86_400)
    return science.pointings(t1, t2, request.values.get("max_pointings") or MAX_PUBLIC_POINTINGS, request.rng)


UNKNOWN_MCRAB = 5.0            # a selected source the sky does not hold: faint


def _selected_sources(request: Request) -> list[tuple[str, float, science.Source | None]]:
    """(name, flux in mCrab, the sky's source if known) for the selected catalog, or the field's sources."""
    chosen = request.values.get("selected_catalog")
    if chosen:
        columns = dict(zip(chosen["cat_column_names"], chosen["cat_column_list"]))
        lon, lat = chosen.get("cat_lon_name", "ra"), chosen.get("cat_lat_name", "dec")
        out = []
        for name, ra, dec in zip(columns["src_names"], columns[lon], columns[lat]):
            known = next((s for s in science.SKY if science.separation(s.ra, s.dec, float(ra), float(dec)) < 0.2),
                         None)
            out.append((str(name), known.mcrab if known else UNKNOWN_MCRAB, known))
        return out
    near = science.sources_near(request.values["RA"], request.values["DEC"], request.values.get("radius") or 15.0)
    return [(s.name, s.mcrab, s) for s, _ in near]


def _isgri_image(request: Request) -> dict[str, Any]:
    e1, e2 = _band(request, *ISGRI_BAND)
    product, found = science.mosaic(request.values["RA"], request.values["DEC"], request.values["radius"], e1, e2,
                                    _pointings(request), request.values["detection_threshold"], request.rng)
    return {"numpy_data_product_list": [product.encode()], "catalog": found}


def _spectra(request: Request, band: tuple[float, float], area, detector: str, prefix: str, high: float,
             channels: int, resolution: float) -> dict[str, Any]:
    """Spectrum, ARF and RMF of each selected source, channels from the band's low end to ``high`` keV."""
    _band(request, *band)
    scws = _pointings(request)
    products = []
    for name, mcrab, _ in _selected_sources(request):
        products += science.spectrum_set(name, mcrab, scws.exposure_s, detector, prefix, area, band[0], high,
                                         channels, resolution, request.rng)
    return {"numpy_data_product_list": [p.encode() for p in products]}


def _isgri_spectrum(request: Request) -> dict[str, Any]:
    return _spectra(request, ISGRI_BAND, science.isgri_area, "ISGR", "isgri", 600.0, 62, 0.08)


def _light_curves(request: Request, band: tuple[float, float], area, detector: str, extension: str,
                  product: str) -> dict[str, Any]:
    e1, e2 = _band(request, *band)
    scws = _pointings(request)
    bin_s = _time_bin(request)
    if bin_s < 10.0:
        raise not_understood(f"Parameter time_bin wrong value {request.values['time_bin']}: {detector} light curves "
                             "have bins of at least 10 s")
    if len(scws) * science.SCW_S / bin_s > MAX_BINS:
        raise not_understood(f"Parameter time_bin wrong value {request.values['time_bin']}: {len(scws)} pointings "
                             f"would need more than {MAX_BINS} bins; use a larger time_bin or fewer pointings")
    unit = science.crab_rate(e1, e2, area) / 1000.0       # counts / s of a mCrab source
    curves = [science.light_curve(name, mcrab * unit, known, scws, bin_s, e1, e2, detector, extension, product,
                                  request.rng)
              for name, mcrab, known in _selected_sources(request)]
    return {"numpy_data_product_list": [c.encode() for c in curves]}


def _time_bin(request: Request) -> float:
    value = request.values["time_bin"]
    seconds = value * 86_400 if request.values.get("time_bin_format") == "jd" else value
    if seconds <= 0:
        raise not_understood(f"Parameter time_bin wrong value {value}: should be greater than 0")
    return float(seconds)


def _isgri_lc(request: Request) -> dict[str, Any]:
    return _light_curves(request, ISGRI_BAND, science.isgri_area, "ISGRI", "ISGR-SRC.-LCR", "isgri_lc")


def _jemx_lc(request: Request) -> dict[str, Any]:
    unit = request.values["jemx_num"]
    return _light_curves(request, JEMX_BAND, science.jemx_area, f"JMX{unit}", f"JMX{unit}-SRC.-LCR", "jemx_lc")


def _jemx_image(request: Request) -> dict[str, Any]:
    e1, e2 = _band(request, *JEMX_BAND)
    product, found = science.mosaic(request.values["RA"], request.values["DEC"], min(request.values["radius"], 6.6),
                                    e1, e2, _pointings(request), request.values["detection_threshold"], request.rng,
                                    f"JMX{request.values['jemx_num']}", science.jemx_area)
    return {"numpy_data_product_list": [product.encode()], "catalog": found}


def _jemx_spectrum(request: Request) -> dict[str, Any]:
    return _spectra(request, JEMX_BAND, science.jemx_area, f"JMX{request.values['jemx_num']}", "jemx", JEMX_BAND[1],
                    32, 0.15)


MAX_BINS = 200_000


def _spi_acs_lc(request: Request) -> dict[str, Any]:
    t1, t2 = request.ijd("T1"), request.ijd("T2")
    if t2 <= t1:
        raise not_understood(f"Parameter T2 wrong value {request.values['T2']}: it must be after T1")
    bin_s = _time_bin(request)
    if (t2 - t1) * 86_400 / bin_s > MAX_BINS:
        raise not_understood(f"Parameter time_bin wrong value {request.values['time_bin']}: the span would need "
                             f"more than {MAX_BINS} bins; use a larger time_bin or a shorter span")
    return {"numpy_data_product_list": [science.acs_light_curve(t1, t2, bin_s, request.rng).encode()]}


def _integral_query(name: str, e1: float, e2: float, radius: float) -> Query:
    return Query(name, (
        Parameter("user_catalog", "catalog", None, None, optional=True),
        Parameter("scw_list", "list", [], None, optional=True),
        Parameter("selected_catalog", "catalog", None, None, optional=True),
        Parameter("radius", "angle", radius, "deg", low=0.1, high=20.0),
        Parameter("max_pointings", "integer", MAX_PUBLIC_POINTINGS, None, low=1, high=10_000),
        Parameter("osa_version", "string", "OSA11.2", "str", allowed=("OSA10.2", "OSA11.2"),
                  replaced=(("OSA11.0", "OSA11.2"), ("OSA11.1", "OSA11.2"))),
        Parameter("integral_data_rights", "string", "public", "str", allowed=("public", "all-private")),
        Parameter("E1_keV", "float", e1, "keV"), Parameter("E2_keV", "float", e2, "keV")))


def _image_query(name: str, product: str) -> Query:
    return Query(name, (Parameter("detection_threshold", "float", 7.0, "sigma", low=0.0, high=1e4),
                        Parameter("image_scale_min", "float", None, None, optional=True),
                        Parameter("image_scale_max", "float", None, None, optional=True)), product)


def _lc_query(name: str, product: str, time_bin: float) -> Query:
    return Query(name, (Parameter("time_bin", "float", time_bin, "sec", low=0.0, high=86_400.0),
                        Parameter("time_bin_format", "string", "sec", "str", allowed=("sec", "jd"))), product)


INSTRUMENTS: dict[str, Instrument] = {
    "empty": Instrument("empty", _debug_query("p_list"), _debug_products(
        "dummy", "numerical", "failing", "parametrical", "echo", "restricted", "structured"), mode="sync"),
    "empty-async": Instrument("empty-async", _debug_query("scw_list"), {
        **_debug_products("dummy"),
        "numerical": Product(Query("numerical_parameters_dummy_query", (
            Parameter("p", "float", 10.0, "W"), Parameter("string_like_name", "name", "default-name", "str")),
            "numerical"), _zero_image)}, mode="async"),
    "empty-semi-async": Instrument("empty-semi-async", _debug_query("scw_list"), _semi_async_numerical(),
                                   mode="semi-async"),
    "empty-development": Instrument("empty-development", _debug_query("p_list"), _debug_products(
        "dummy", "numerical", "failing", "parametrical", "echo"), mode="sync", restricted=True),
    "isgri": Instrument("isgri", _integral_query("isgri_parameters", 20.0, 40.0, 15.0), {
        "isgri_image": Product(_image_query("isgri_image_query", "isgri_image"), _isgri_image, _integral_roles),
        "isgri_spectrum": Product(Query("isgri_spectrum_query", (), "isgri_spectrum"), _isgri_spectrum,
                                  _integral_roles),
        "isgri_lc": Product(_lc_query("isgri_lc_query", "isgri_lc", 1000.0), _isgri_lc, _integral_roles)}),
    "jemx": Instrument("jemx", Query("jemx_parameters", (
        *_integral_query("jemx_parameters", 3.0, 20.0, 4.0).parameters,
        Parameter("jemx_num", "integer", 2, None, low=1, high=2))), {
        "jemx_image": Product(_image_query("jemx_image_query", "jemx_image"), _jemx_image, _integral_roles),
        "jemx_spectrum": Product(Query("jemx_spectrum_query", (), "jemx_spectrum"), _jemx_spectrum, _integral_roles),
        "jemx_lc": Product(_lc_query("jemx_lc_query", "jemx_lc", 1000.0), _jemx_lc, _integral_roles)}),
    "spi_acs": Instrument("spi_acs", Query("spiacs_parameters", (
        Parameter("user_catalog", "catalog", None, None, optional=True),
        Parameter("selected_catalog", "catalog", None, None, optional=True))), {
        "spi_acs_lc": Product(Query("spi_acs_lc_query", (
            Parameter("data_level", "string", "ordinary", "str", allowed=("ordinary", "realtime")),
            Parameter("time_bin", "float", 1.0, "sec", low=0.05),
            Parameter("time_bin_format", "string", "sec", "str", allowed=("sec", "jd"))), "spi_acs_lc"),
            _spi_acs_lc, _acs_roles)}, mode="sync"),
}
