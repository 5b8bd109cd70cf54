"""INTEGRAL data as the sandbox makes it: plausible, deterministic, computed from the query.

The sky holds a short list of bright hard X-ray sources (positions J2000,
typical 20-40 keV fluxes in mCrab). Pointings ("science windows") of about
an hour tile the requested time span. From them come:

- mosaic images: each source in the field as ISGRI's point-spread function on
  a tangent-plane grid, plus noise from the exposure, with the catalog of
  sources detected above the threshold;
- light curves: each source's rate (a Crab-like spectrum in the energy band,
  a slow modulation) in the requested bins, with Poisson-like errors;
- spectra: counts per channel through an effective area (ARF) and a Gaussian
  energy redistribution (RMF);
- the SPI anti-coincidence shield's count rate, a background of ~80 000
  counts/s with an orbital trend.

The same query always gives the same data (the noise is seeded by the query).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .encoding import NumpyProduct, image, primary, table

IJD_MJD = 51_544.0                # INTEGRAL Julian dates are MJD - 51544
SCW_S, SLEW_S = 3_000.0, 600.0    # a science window, and the slew to the next one
ISGRI_PIXEL_DEG = 4.94 / 60       # a mosaic pixel
ISGRI_PSF_FWHM_DEG = 12.0 / 60
ISGRI_CRAB_NORM = 9.7             # photons / cm2 / s / keV at 1 keV
CRAB_INDEX = 2.1
MCRAB_SENSITIVITY_1MS = 0.2       # 1-sigma, in mCrab, after 1 Ms


@dataclass(frozen=True)
class Source:
    name: str
    ra: float
    dec: float
    mcrab: float          # 20-40 keV flux
    variability: float    # fractional amplitude of the slow modulation


SKY = (
    Source("Crab", 83.6331, 22.0145, 1000, 0.01), Source("Cyg X-1", 299.5903, 35.2016, 800, 0.25),
    Source("GRS 1915+105", 288.7983, 10.9458, 300, 0.4), Source("MAXI J1820+070", 275.0914, 7.1854, 2000, 0.3),
    Source("4U 1700-377", 255.9866, -37.8441, 200, 0.5), Source("GX 339-4", 255.7057, -48.7897, 100, 0.3),
    Source("1E 1740.7-2942", 265.9785, -29.7452, 60, 0.1), Source("GRS 1758-258", 270.3017, -25.7433, 50, 0.1),
    Source("GX 1+4", 263.0096, -24.7456, 80, 0.3), Source("Sco X-1", 244.9794, -15.6402, 400, 0.2),
    Source("Her X-1", 254.4576, 35.3424, 80, 0.5), Source("Vela X-1", 135.5286, -40.5547, 300, 0.4),
    Source("Cen X-3", 170.3133, -60.6230, 100, 0.5), Source("Cyg X-3", 308.1074, 40.9577, 150, 0.3),
    Source("Cen A", 201.3651, -43.0191, 60, 0.05), Source("3C 273", 187.2779, 2.0524, 15, 0.1),
    Source("NGC 4151", 182.6357, 39.4057, 40, 0.1), Source("GX 5-1", 270.2842, -25.0792, 60, 0.1),
    Source("GX 17+2", 274.0058, -14.0364, 50, 0.1), Source("4U 1820-30", 275.9186, -30.3611, 60, 0.1),
    Source("SS 433", 287.9565, 4.9827, 10, 0.2), Source("4U 1630-47", 248.5067, -47.3933, 50, 0.3),
    Source("H 1743-322", 266.5667, -32.2339, 30, 0.3), Source("IGR J17091-3624", 257.2813, -36.4073, 20, 0.3),
    Source("Swift J1753.5-0127", 268.3679, -1.4517, 40, 0.2), Source("4U 1908+075", 287.6992, 7.5986, 20, 0.2),
    Source("X Per", 58.8462, 31.0458, 30, 0.1), Source("Mrk 421", 166.1138, 38.2088, 20, 0.3),
)


def rng_for(*parts: Any) -> np.random.Generator:
    """A generator seeded by the query, so the same question gets the same noise."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def separation(ra1: float, dec1: float, ra2: np.ndarray | float, dec2: np.ndarray | float) -> np.ndarray:
    """Angular distance in degrees."""
    r1, d1, r2, d2 = map(np.radians, (ra1, dec1, ra2, dec2))
    cos = np.sin(d1) * np.sin(d2) + np.cos(d1) * np.cos(d2) * np.cos(r1 - r2)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def band_photons(e1: float, e2: float) -> float:
    """Crab photons / cm2 / s between e1 and e2 keV."""
    g = CRAB_INDEX - 1
    return ISGRI_CRAB_NORM / g * (e1 ** -g - e2 ** -g)


def isgri_area(energy: np.ndarray) -> np.ndarray:
    """ISGRI's effective area (cm2): a low-energy threshold near 15 keV, a peak near 60 keV, then a fall."""
    rise = 1.0 / (1.0 + np.exp(-(energy - 18.0) / 2.5))
    return 900.0 * rise * np.exp(-energy / 400.0)


def jemx_area(energy: np.ndarray) -> np.ndarray:
    """JEM-X's effective area (cm2): a window cutting in near 3 keV, falling above 20 keV."""
    return 100.0 / (1.0 + np.exp(-(energy - 3.5) / 0.5)) * np.exp(-energy / 15.0)


def crab_rate(e1: float, e2: float, area=isgri_area) -> float:
    """Counts / s the Crab gives between e1 and e2 keV."""
    energy = np.geomspace(e1, e2, 64)
    flux = ISGRI_CRAB_NORM * energy ** -CRAB_INDEX
    return float(np.trapezoid(flux * area(energy), energy))


@dataclass(frozen=True)
class Pointings:
    """Science windows (IJD start and stop) kept for a query."""

    start: np.ndarray
    stop: np.ndarray

    @property
    def exposure_s(self) -> float:
        return float(np.sum(self.stop - self.start) * 86_400)

    def __len__(self) -> int:
        return int(self.start.size)


def pointings(t1_ijd: float, t2_ijd: float, most: int, rng: np.random.Generator) -> Pointings:
    """The science windows in [t1, t2] (none during the perigee passages of INTEGRAL's 2.67-day orbit),
    at most ``most`` of them, chosen at random as the real service picks a subset."""
    step = (SCW_S + SLEW_S) / 86_400
    starts = t1_ijd + step * np.arange(max(0, int(math.floor((t2_ijd - t1_ijd) / step))))
    phase = np.mod(starts, 2.67) / 2.67
    starts = starts[(phase > 0.08) & (phase < 0.92)]
    if starts.size > most:
        starts = np.sort(rng.choice(starts, size=most, replace=False))
    if starts.size == 0:                      # a span shorter than one window: one partial window
        starts = np.array([t1_ijd])
        return Pointings(starts, np.array([min(t2_ijd, t1_ijd + SCW_S / 86_400)]))
    return Pointings(starts, np.minimum(starts + SCW_S / 86_400, t2_ijd))


def sources_near(ra: float, dec: float, radius: float) -> list[tuple[Source, float]]:
    """Sources within ``radius`` degrees, with their distance."""
    near = [(s, float(separation(ra, dec, s.ra, s.dec))) for s in SKY]
    return [(s, d) for s, d in near if d <= radius]


def _modulation(source: Source, times_ijd: np.ndarray) -> np.ndarray:
    period = 3.0 + (sum(map(ord, source.name)) % 17)                 # days, per source
    phase = (sum(map(ord, source.name)) % 628) / 100.0
    return 1.0 + source.variability * np.sin(2 * np.pi * times_ijd / period + phase)


# --- ISGRI mosaic and catalog ------------------------------------------------------------------

def mosaic(ra: float, dec: float, radius: float, e1: float, e2: float, scws: Pointings, threshold: float,
           rng: np.random.Generator, detector: str = "ISGRI", area=isgri_area) -> tuple[NumpyProduct, dict[str, Any]]:
    """The mosaic (a grouping table, then intensity, variance, significance and exposure images, so that
    the significance is data unit 4 as clients expect) and the catalog of detected sources."""
    instrument, extension = ("IBIS", "ISGR-MOSA-IMA") if detector == "ISGRI" else ("JEM-X", f"{detector}-MOSA-IMA")
    size = int(min(2 * radius, 60.0) / ISGRI_PIXEL_DEG) | 1
    half = size // 2
    offsets = (np.arange(size) - half) * ISGRI_PIXEL_DEG
    x, y = np.meshgrid(-offsets, offsets)                      # east to the left, as sky images are shown
    pixel_ra, pixel_dec = _untangent(ra, dec, x, y)
    off_axis = separation(ra, dec, pixel_ra, pixel_dec)
    exposure = scws.exposure_s * np.clip(1.0 - off_axis / 15.0, 0.02, 1.0)
    unit = crab_rate(e1, e2, area) / 1000.0                     # counts / s of a mCrab source
    sigma = MCRAB_SENSITIVITY_1MS * unit * np.sqrt(1e6 / exposure)
    intensity = rng.normal(0.0, 1.0, (size, size)) * sigma
    s = ISGRI_PSF_FWHM_DEG / 2.3548
    rows = []
    for source, _ in sources_near(ra, dec, radius * 1.4):
        mean = source.mcrab * unit * float(np.mean(_modulation(source, (scws.start + scws.stop) / 2)))
        distance = separation(source.ra, source.dec, pixel_ra, pixel_dec)
        intensity += mean * np.exp(-0.5 * (distance / s) ** 2)
        centre = np.unravel_index(np.argmin(distance), distance.shape)
        if distance[centre] < ISGRI_PIXEL_DEG:
            rows.append((source.name, mean / float(sigma[centre]), source.ra, source.dec, 0))
    significance = intensity / sigma
    peak = np.unravel_index(np.argmax(np.where(off_axis < radius, significance, -np.inf)), significance.shape)
    taken = [separation(r[2], r[3], pixel_ra[peak], pixel_dec[peak]) < 0.5 for r in rows]
    if not any(taken) and significance[peak] >= threshold:      # a noise peak above the threshold: a "new" source
        rows.append(("NEW_1", float(significance[peak]), float(pixel_ra[peak]), float(pixel_dec[peak]), 1))
    rows = sorted((r for r in rows if r[1] >= threshold), key=lambda r: -r[1])
    header = {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": ra, "CRVAL2": dec,
              "CRPIX1": half + 1.0, "CRPIX2": half + 1.0, "CD1_1": -ISGRI_PIXEL_DEG, "CD1_2": 0.0, "CD2_1": 0.0,
              "CD2_2": ISGRI_PIXEL_DEG, "CUNIT1": "deg", "CUNIT2": "deg", "LONPOLE": 180.0, "LATPOLE": 0.0,
              "RADESYS": "FK5", "EQUINOX": 2000.0, "CHANTYPE": "PI", "E_MIN": e1, "E_MEAN": (e1 + e2) / 2, "E_MAX": e2,
              "MJDREF": IJD_MJD, "TIMESYS": "TT", "TIMEUNIT": "d", "TSTART": float(scws.start.min()),
              "TSTOP": float(scws.stop.max()), "ONTIME": scws.exposure_s, "TELAPSE": scws.exposure_s,
              "BUNIT": "counts/sec", "HDUCLASS": "OGIP", "HDUCLAS1": "IMAGE", "DETNAM": detector,
              "INSTRUME": instrument, "TELESCOP": "INTEGRAL"}
    units = [primary({"TELESCOP": "INTEGRAL", "INSTRUME": instrument, "DETNAM": detector}),
             grouping(["INTENSITY", "VARIANCE", "SIGNIFICANCE", "EXPOSURE"], extension)]
    for kind, pixels in (("INTENSITY", intensity), ("VARIANCE", sigma**2), ("SIGNIFICANCE", significance),
                         ("EXPOSURE", exposure)):
        units.append(image(extension, pixels.astype(np.float32), {**header, "IMATYPE": kind}))
    product = NumpyProduct(units, "mosaic_image",
                           {"product": "mosaic", "instrument": "isgri" if detector == "ISGRI" else "jemx",
                            "src_name": "", "query_parameters": None})
    return product, catalog(rows)


def grouping(members: list[str], extension: str) -> Any:
    """The table naming a file's member extensions, as OSA's grouping does."""
    return table("GROUPING", {"MEMBER_XTENSION": np.array(["IMAGE"] * len(members)),
                              "MEMBER_NAME": np.array([extension] * len(members)),
                              "MEMBER_POSITION": np.arange(2, 2 + len(members), dtype=np.int32),
                              "IMATYPE": np.array(members)})


def catalog(rows: list[tuple[str, float, float, float, int]]) -> dict[str, Any]:
    """The dispatcher's catalog: columns of names, significances and positions, in its own layout."""
    names = ["meta_ID", "src_names", "significance", "ra", "dec", "NEW_SOURCE", "ISGRI_FLAG", "FLAG", "ERR_RAD"]
    columns = [list(range(len(rows))), [r[0] for r in rows], [round(r[1], 4) for r in rows],
               [round(r[2], 5) for r in rows], [round(r[3], 5) for r in rows],
               [r[4] if r[4] else -32768 for r in rows], [2] * len(rows), [0] * len(rows),
               [0.00028 if not r[4] else 0.05 for r in rows]]
    width = max([len(r[0]) for r in rows] + [1])
    return {"cat_frame": "fk5", "cat_coord_units": "deg", "cat_column_list": columns, "cat_column_names": names,
            "cat_column_descr": [["meta_ID", "<i8"], ["src_names", f"<U{width}"], ["significance", "<f8"],
                                 ["ra", "<f8"], ["dec", "<f8"], ["NEW_SOURCE", "<i8"], ["ISGRI_FLAG", "<i8"],
                                 ["FLAG", "<i8"], ["ERR_RAD", "<f8"]],
            "cat_lat_name": "dec", "cat_lon_name": "ra"}


def _untangent(ra0: float, dec0: float, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sky positions (deg) of tangent-plane offsets x (east, deg) and y (north, deg) around ra0, dec0."""
    xi, eta = np.radians(x), np.radians(y)
    a0, d0 = math.radians(ra0), math.radians(dec0)
    denominator = math.cos(d0) - eta * math.sin(d0)
    ra = a0 + np.arctan2(xi, denominator)
    dec = np.arctan2(math.sin(d0) + eta * math.cos(d0), np.hypot(xi, denominator))
    return np.mod(np.degrees(ra), 360.0), np.degrees(dec)


# --- light curves -------------------------------------------------------------------------------

def light_curve(source_name: str, mean_rate: float, source: Source | None, scws: Pointings, bin_s: float,
                e1: float, e2: float, detector: str, extension: str, product: str,
                rng: np.random.Generator, background: float = 80.0) -> NumpyProduct:
    """A source's rate in bins of ``bin_s`` seconds inside the science windows (IJD times).

    ISGRI's curve is data unit 1 (after the primary unit); JEM-X's comes after a
    grouping table, at unit 2, as the real products are laid out.
    """
    edges = [np.arange(a, b, bin_s / 86_400) for a, b in zip(scws.start, scws.stop)]
    starts = np.concatenate(edges) if edges else np.empty(0)
    stops = np.minimum(starts + bin_s / 86_400, np.repeat(scws.stop, [e.size for e in edges]))
    widths = (stops - starts) * 86_400
    times = (starts + stops) / 2
    rate = mean_rate * (_modulation(source, times) if source is not None else 1.0)
    error = np.sqrt(np.maximum(rate, 0) + background) / np.sqrt(np.maximum(widths, 1.0))
    observed = rate + rng.normal(0.0, 1.0, times.size) * error
    columns = {"TIME": times, "TOT_COUNTS": np.round((observed + background) * widths),
               "BACKV": np.full(times.size, background), "BACKE": np.sqrt(background / np.maximum(widths, 1.0)),
               "RATE": observed, "ERROR": error, "FRACEXP": np.ones(times.size), "XAX_E": widths / 86_400 / 2}
    units = {"TIME": "d", "TOT_COUNTS": "count", "BACKV": "count/s", "BACKE": "count/s", "RATE": "count/s",
             "ERROR": "count/s", "XAX_E": "d"}
    if detector != "ISGRI":
        columns["TIMEDEL"], units["TIMEDEL"] = widths / 86_400, "d"
    header = {"TELESCOP": "INTEGRAL", "INSTRUME": "IBIS" if detector == "ISGRI" else "JEM-X", "DETNAM": detector,
              "NAME": source_name, "RA_OBJ": source.ra if source else 0.0, "DEC_OBJ": source.dec if source else 0.0,
              "E_MIN": e1, "E_MAX": e2, "EUNIT": "keV", "MJDREF": IJD_MJD, "TIMESYS": "TT", "TIMEUNIT": "d",
              "TIMEREF": "LOCAL", "TIMEDEL": bin_s / 86_400, "TIMEPIXR": 0.5,
              "TSTART": float(starts.min()) if starts.size else 0.0,
              "TSTOP": float(stops.max()) if stops.size else 0.0, "ONTIME": float(widths.sum()),
              "EXPOSURE": float(widths.sum())}
    data = [primary({"TELESCOP": "INTEGRAL"})]
    if detector != "ISGRI":
        data.append(grouping(["LCR"], extension))
    data.append(table(extension, columns, units, header))
    return NumpyProduct(data, product, {"src_name": source_name, "time_bin": bin_s / 86_400, "time": "TIME",
                                        "rate": "RATE", "rate_err": "ERROR"})


def acs_light_curve(t1_ijd: float, t2_ijd: float, bin_s: float, rng: np.random.Generator) -> NumpyProduct:
    """The SPI-ACS count rate: ~80 000 counts/s, an orbital trend, counting noise.

    TIME is in seconds from the middle of the span (the header's TIMEZERO, in
    seconds since IJD 0), as the real product gives it.
    """
    starts = t1_ijd + np.arange(int(math.ceil((t2_ijd - t1_ijd) * 86_400 / bin_s))) * bin_s / 86_400
    middle = (t1_ijd + t2_ijd) / 2
    phase = np.mod(starts, 2.67) / 2.67
    rate = 80_000.0 * (1.0 + 0.06 * np.cos(2 * np.pi * phase)) * (1.0 + 0.002 * np.sin(starts * 86_400 / 300.0))
    error = np.sqrt(rate * bin_s) / bin_s
    columns = {"TIME": (starts - middle) * 86_400 + bin_s / 2, "RATE": rate + rng.normal(0.0, 1.0, starts.size) * error,
               "ERROR": error}
    header = {"TELESCOP": "INTEGRAL", "INSTRUME": "SPI-ACS", "TIMESYS": "TT", "TIMEREF": "LOCAL",
              "TASSIGN": "SATELLITE", "TIMEDEL": bin_s, "MJDREF": IJD_MJD, "TIMEZERO": middle * 86_400,
              "TIMEUNIT": "s", "TSTART": t1_ijd * 86_400, "TSTOP": t2_ijd * 86_400,
              "ONTIME": (t2_ijd - t1_ijd) * 86_400}
    return NumpyProduct([primary({"TELESCOP": "INTEGRAL"}),
                         table("RATE", columns, {"TIME": "s", "RATE": "count/s", "ERROR": "count/s"}, header)],
                        None, {"src_name": "query", "time_bin": bin_s, "time": "TIME", "rate": "RATE",
                               "rate_err": "ERROR"})


# --- spectra ------------------------------------------------------------------------------------

def spectrum_set(source_name: str, mcrab: float, exposure_s: float, detector: str, prefix: str, area,
                 low: float, high: float, channels: int, resolution: float,
                 rng: np.random.Generator) -> list[NumpyProduct]:
    """The source's spectrum, ARF and RMF as three products (``<prefix>_spectrum``, ``_arf``, ``_rmf``)."""
    bounds = np.geomspace(low, high, channels + 1)
    e_lo, e_hi = bounds[:-1], bounds[1:]
    middle = np.sqrt(e_lo * e_hi)
    arf = area(middle)
    spread = resolution * middle / 2.3548                   # Gaussian redistribution, FWHM = resolution * E
    matrix = np.exp(-0.5 * ((middle[None, :] - middle[:, None]) / spread[:, None]) ** 2)
    matrix /= matrix.sum(axis=1, keepdims=True)             # each row: where photons of that energy land
    photons = mcrab / 1000 * ISGRI_CRAB_NORM * middle ** -CRAB_INDEX * (e_hi - e_lo)
    counts = (photons * arf) @ matrix
    error = np.sqrt(counts / max(exposure_s, 1.0) + 1e-4 * middle ** -0.5)
    rate = counts + rng.normal(0.0, 1.0, channels) * error
    meta = {"src_name": source_name}
    header = {"TELESCOP": "INTEGRAL", "DETNAM": detector, "NAME": source_name, "EXPOSURE": exposure_s,
              "HDUCLASS": "OGIP", "CHANTYPE": "PI", "DETCHANS": channels}
    spectrum = table(f"{detector}-EVTS-SPE" if detector == "ISGR" else f"{detector}-PHA1-SPE",
                     {"CHANNEL": np.arange(channels, dtype=np.int16), "RATE": rate.astype(np.float32),
                      "SYS_ERR": np.zeros(channels, dtype=np.float32), "STAT_ERR": error.astype(np.float32),
                      "QUALITY": np.zeros(channels, dtype=np.int16), "GROUPING": np.ones(channels, dtype=np.int16)},
                     {"RATE": "count/s", "STAT_ERR": "count/s"},
                     {**header, "HDUCLAS1": "SPECTRUM", "HDUCLAS2": "TOTAL", "HDUCLAS3": "RATE",
                      "ANCRFILE": "NONE", "RESPFILE": "NONE"})
    arf_unit = table("SPECRESP", {"ENERG_LO": e_lo, "ENERG_HI": e_hi, "SPECRESP": arf},
                     {"ENERG_LO": "keV", "ENERG_HI": "keV", "SPECRESP": "cm**2"}, {**header, "HDUCLAS1": "RESPONSE"})
    rmf_unit = table("SPECRESP MATRIX", {"ENERG_LO": e_lo, "ENERG_HI": e_hi,
                                         "N_GRP": np.ones(channels, dtype=np.int16),
                                         "F_CHAN": np.zeros(channels, dtype=np.int32),
                                         "N_CHAN": np.full(channels, channels, dtype=np.int32),
                                         "MATRIX": matrix.astype(np.float32)},
                     {"ENERG_LO": "keV", "ENERG_HI": "keV"}, {**header, "HDUCLAS1": "RESPONSE"})
    ebounds = table("EBOUNDS", {"CHANNEL": np.arange(channels, dtype=np.int32), "E_MIN": e_lo, "E_MAX": e_hi},
                    {"E_MIN": "keV", "E_MAX": "keV"}, header)
    return [NumpyProduct([primary(), spectrum], None, {**meta, "product": f"{prefix}_spectrum"}),
            NumpyProduct([primary(), arf_unit], None, {**meta, "product": f"{prefix}_arf"}),
            NumpyProduct([primary(), rmf_unit, ebounds], None, {**meta, "product": f"{prefix}_rmf"})]
