"""The LCO telescope network the three LCO services share: sites, telescopes, instruments, filters.

It is the portal's configuration database in small: which telescopes stand at
which site, which instrument types they carry, each type's readout modes,
overheads and filters. Validation, durations, visibility and the simulated
scheduler all read it; the data are ``data/lco_network.json``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ...data import load

CLASSES = ("2m0", "1m0", "0m8", "0m4")
SPECTROGRAPH = "SPECTRA"


@dataclass(frozen=True)
class Filter:
    code: str              # as configured ("H-Alpha"); the portal lists it lower-cased
    kind: str              # Standard, Engineering, Slit, Exotic
    name: str


@dataclass(frozen=True)
class InstrumentType:
    code: str                              # 1M0-SCICAM-SINISTRO
    kind: str                              # IMAGE or SPECTRA
    name: str
    readout: dict[int, float]              # seconds per exposure, by binning
    default_binning: int
    fixed_overhead_per_exposure: float
    front_padding: float
    filter_change_time: float
    config_change_time: float
    acquire_exposure_time: float
    acquire_processing_time: float
    filters: tuple[Filter, ...]

    @property
    def telescope_class(self) -> str:
        return self.code[:3].lower()

    @property
    def is_spectrograph(self) -> bool:
        return self.kind == SPECTROGRAPH

    def filter(self, code: str) -> Filter | None:
        """The filter (or slit) matching ``code`` regardless of case, as the portal compares them."""
        return next((f for f in self.filters if f.code.lower() == code.lower()), None)


@dataclass(frozen=True)
class Telescope:
    site: str
    enclosure: str
    code: str                               # 1m0a
    latitude: float
    longitude: float
    elevation: float
    horizon: float                          # lowest altitude it points at, degrees
    ha_limits: tuple[float, float]          # hour angle limits, hours
    instruments: tuple[tuple[str, str], ...]  # (instrument type, camera code)

    @property
    def telescope_class(self) -> str:
        return self.code[:3]

    @property
    def name(self) -> str:
        return f"{self.site}.{self.enclosure}.{self.code}"

    def camera_for(self, instrument_type: str) -> str | None:
        return next((camera for kind, camera in self.instruments if kind == instrument_type), None)


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    latitude: float
    longitude: float
    elevation: float
    telescopes: tuple[Telescope, ...]


@dataclass(frozen=True, eq=False)      # one network per process: compared (and hashed) by identity
class Network:
    sites: dict[str, Site]
    instruments: dict[str, InstrumentType]

    @property
    def telescopes(self) -> list[Telescope]:
        return [t for site in self.sites.values() for t in site.telescopes]

    def telescopes_with(self, instrument_type: str, site: str | None = None, enclosure: str | None = None,
                        telescope: str | None = None) -> list[Telescope]:
        """The telescopes carrying an instrument type, within a location if one is given."""
        return [t for t in self.telescopes if t.camera_for(instrument_type)
                and (site is None or t.site == site) and (enclosure is None or t.enclosure == enclosure)
                and (telescope is None or t.code == telescope)]

    def instruments_at(self, telescope_class: str, site: str | None = None, enclosure: str | None = None,
                       telescope: str | None = None) -> list[str]:
        """Instrument types available on a class of telescope within a location, in network order."""
        found: dict[str, None] = {}
        for t in self.telescopes:
            if t.telescope_class == telescope_class and (site is None or t.site == site) and \
                    (enclosure is None or t.enclosure == enclosure) and (telescope is None or t.code == telescope):
                found.update(dict.fromkeys(kind for kind, _ in t.instruments))
        return list(found)


@cache
def network() -> Network:
    data = load("lco_network.json")
    instruments = {
        code: InstrumentType(code, spec["type"], spec["name"], {int(b): r for b, r in spec["readout"].items()},
                             spec["default_binning"], spec["fixed_overhead_per_exposure"], spec["front_padding"],
                             spec["filter_change_time"], spec["config_change_time"], spec["acquire_exposure_time"],
                             spec["acquire_processing_time"], tuple(Filter(*f) for f in spec["filters"]))
        for code, spec in data["instruments"].items()}
    sites = {}
    for code, spec in data["sites"].items():
        telescopes = tuple(
            Telescope(code, t["enclosure"], t["telescope"], spec["latitude"], spec["longitude"], spec["elevation"],
                      t["horizon"], (t["ha_limits"][0], t["ha_limits"][1]),
                      tuple((i["type"], i["camera"]) for i in t["instruments"]))
            for t in spec["telescopes"])
        sites[code] = Site(code, spec["name"], spec["latitude"], spec["longitude"], spec["elevation"], telescopes)
    return Network(sites, instruments)
