"""The archive's frames, made from the observatory's observed requests.

Every exposure of an observed request gives a raw frame (RLEVEL 0) and, for
imagers, a quicklook (11) and a reduced one (91); spectrographs give a raw frame
and a reduced tarball (90). Each night and camera that observed also has its
calibrations (a bias, a dark, a sky flat per filter), public at once and related
to the science frames of that night. Science frames become public a year after
they were taken (at once for public proposals). The frame's area is the
camera's field around the pointing; its headers are the FITS keywords the
pipeline writes, and its file (see :mod:`.fitsfiles`) a small but valid FITS
image of that field.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..lco.network import Network
from ..lco.world import Observatory

PROPRIETARY = timedelta(days=365)
#: field of view (degrees, RA extent x Dec extent) of each camera type
FIELDS = {"1M0-SCICAM-SINISTRO": (26.5 / 60, 26.5 / 60), "0M4-SCICAM-SBIG": (29.2 / 60, 19.5 / 60),
          "2M0-SCICAM-SPECTRAL": (10.5 / 60, 10.5 / 60), "2M0-FLOYDS-SCICAM": (2 / 60, 2 / 60),
          "1M0-NRES-SCICAM": (2 / 60, 2 / 60)}
CALIBRATIONS = ("BIAS", "DARK", "SKYFLAT")


@dataclass
class Frame:
    id: int
    basename: str
    extension: str
    RLEVEL: int
    DATE_OBS: datetime
    PROPID: str
    INSTRUME: str
    OBJECT: str
    SITEID: str
    TELID: str
    EXPTIME: float
    FILTER: str
    L1PUBDAT: datetime
    OBSTYPE: str
    BLKUID: int | None
    REQNUM: int | None
    area: list[list[float]] | None
    ra: float
    dec: float
    instrument_type: str
    related: list[int] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return self.basename + self.extension

    @property
    def md5(self) -> str:
        return hashlib.md5(self.basename.encode()).hexdigest()

    @property
    def version_key(self) -> str:
        return hashlib.sha1(f"version:{self.basename}".encode()).hexdigest()[:32]

    def header(self) -> dict[str, Any]:
        """The FITS keywords, dashes turned to underscores as the archive stores them."""
        day = self.basename.split("-")[2]
        return {"SIMPLE": True, "BITPIX": -32, "NAXIS": 2, "NAXIS1": 64, "NAXIS2": 64, "ORIGIN": "LCOGT",
                "SITEID": self.SITEID, "TELID": self.TELID, "INSTRUME": self.INSTRUME, "OBSTYPE": self.OBSTYPE,
                "OBJECT": self.OBJECT, "PROPID": self.PROPID, "REQNUM": f"{self.REQNUM or 0:010d}",
                "BLKUID": str(self.BLKUID or ""), "FILTER": self.FILTER, "FILTER1": self.FILTER.lower(),
                "EXPTIME": self.EXPTIME, "DATE_OBS": self.DATE_OBS.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                "DAY_OBS": day, "MJD_OBS": round(self.DATE_OBS.timestamp() / 86400 + 40587.0, 7),
                "RA": ra_text(self.ra), "DEC": dec_text(self.dec), "CRVAL1": self.ra, "CRVAL2": self.dec,
                "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRPIX1": 32.5, "CRPIX2": 32.5,
                "CD1_1": -FIELDS[self.instrument_type][0] / 64, "CD2_2": FIELDS[self.instrument_type][1] / 64,
                "CD1_2": 0.0, "CD2_1": 0.0, "RLEVEL": self.RLEVEL, "L1PUBDAT": self.L1PUBDAT.isoformat()[:19],
                "TELESCOP": self.TELID, "ENCID": "", "GAIN": 1.0, "RDNOISE": 7.0}


def ra_text(ra: float) -> str:
    hours = ra / 15
    h, rest = divmod(hours * 3600, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def dec_text(dec: float) -> str:
    sign = "-" if dec < 0 else "+"
    d, rest = divmod(abs(dec) * 3600, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{int(d):02d}:{int(m):02d}:{s:05.2f}"


def day_obs(moment: datetime, longitude: float) -> str:
    """The observing night's date at a site: its local time less twelve hours."""
    return (moment + timedelta(hours=longitude / 15 - 12)).strftime("%Y%m%d")


def footprint(ra: float, dec: float, width: float, height: float) -> list[list[float]]:
    """A closed polygon of the field's corners (RA wrapped to 0-360)."""
    half_ra = width / 2 / max(math.cos(math.radians(dec)), 1e-3)
    half_dec = height / 2
    corners = [(ra - half_ra, dec - half_dec), (ra - half_ra, dec + half_dec), (ra + half_ra, dec + half_dec),
               (ra + half_ra, dec - half_dec)]
    ring = [[round(a % 360, 8), round(max(-90.0, min(90.0, d)), 8)] for a, d in corners]
    return ring + [ring[0]]


class FrameMaker:
    """Frames for the observatory's observed requests, made once per observed request."""

    def __init__(self, world: Observatory) -> None:
        self.world = world
        self.network: Network = world.network
        self.frames: dict[int, Frame] = {}
        self._done: set[int] = set()
        self._generation = -1

    def all(self) -> dict[int, Frame]:
        world = self.world
        world.now()                                   # observations due by now are complete
        if world.generation != self._generation:
            self.frames, self._done, self._generation = {}, set(), world.generation
        for made, item in world.book.completed():
            if item.id not in self._done:
                self._add(made, item)
                self._done.add(item.id)
        return self.frames

    def _add(self, made: Any, item: Any) -> None:
        observed = item.observation
        body = item.body
        site = self.network.sites[observed.site]
        telescope = next(t for t in site.telescopes if (t.enclosure, t.code) == (observed.enclosure, observed.telescope))
        number = 1 + site.telescopes.index(telescope)
        kind = body["molecules"][0]["instrument_name"]
        spectrograph = self.network.instruments[kind].is_spectrograph
        proposal = self.world.proposals.get(made.proposal)
        public_now = bool(proposal and proposal.public)
        target = body["target"]
        ra, dec = (target.get("ra", 0.0), target.get("dec", 0.0)) if target["type"] in ("SIDEREAL", "STATIC") \
            else (0.0, 0.0)
        rng = random.Random(f"lco-frames:{self.world.settings.seed}:{item.id}")
        prefix = f"{site.code}{telescope.telescope_class}{number:02d}-{observed.camera}"
        day = day_obs(observed.start, site.longitude)
        moment = observed.start + timedelta(seconds=self.network.instruments[kind].front_padding)
        sequence = 100 + (item.id * 7) % 800
        science: list[Frame] = []
        for m_index, molecule in enumerate(body["molecules"]):
            for exposure in range(molecule["exposure_count"]):
                frame_ra = (ra + rng.gauss(0, 2 / 3600)) % 360
                frame_dec = max(-90.0, min(90.0, dec + rng.gauss(0, 2 / 3600)))
                area = footprint(frame_ra, frame_dec, *FIELDS[kind]) if target["type"] != "SATELLITE" else None
                base_id = item.id * 100_000 + m_index * 1_000 + exposure * 10
                levels = ((0, "e00", ".fits.fz"), (90, "e90", ".tar.gz")) if spectrograph else \
                    ((0, "e00", ".fits.fz"), (11, "e11", ".fits.fz"), (91, "e91", ".fits.fz"))
                siblings = []
                for offset, (level, suffix, extension) in enumerate(levels):
                    frame = Frame(base_id + offset, f"{prefix}-{day}-{sequence:04d}-{suffix}", extension, level, moment,
                                  made.proposal, observed.camera, target["name"], site.code, telescope.code,
                                  molecule["exposure_time"], self._filter(kind, molecule),
                                  moment if public_now else moment + PROPRIETARY,
                                  "SPECTRUM" if spectrograph else molecule["type"], item.id * 1000 + 1, item.id,
                                  area, frame_ra, frame_dec, kind)
                    siblings.append(frame)
                for frame in siblings:
                    frame.related = [other.id for other in siblings if other is not frame]
                    self.frames[frame.id] = frame
                science += siblings
                sequence += 1
                moment += timedelta(seconds=molecule["exposure_time"] + self.network.instruments[kind].readout[
                    molecule.get("bin_x") or self.network.instruments[kind].default_binning])
        calibrations = self._calibrations(site.code, telescope.code, observed.camera, kind, prefix, day,
                                          observed.start, {f.FILTER for f in science})
        for frame in science:
            frame.related += [c.id for c in calibrations if c.OBSTYPE != "SKYFLAT" or c.FILTER == frame.FILTER]

    def _filter(self, kind: str, molecule: dict[str, Any]) -> str:
        """The filter (or slit) as the camera names it in its headers: "rp", "V", "slit_2.0as"."""
        given = molecule.get("filter") or molecule.get("spectra_slit") or "air"
        found = self.network.instruments[kind].filter(given)
        return found.code if found else given

    def _calibrations(self, site: str, telescope: str, camera: str, kind: str, prefix: str, day: str,
                      start: datetime, filters: set[str]) -> list[Frame]:
        """The night's calibrations for this camera (made once per night and camera)."""
        made: list[Frame] = []
        key = int(hashlib.sha1(f"{prefix}:{day}".encode()).hexdigest()[:7], 16)
        dusk = start.replace(hour=0, minute=0, second=0, microsecond=0)
        entries = [("BIAS", "air", 0.0), ("DARK", "air", 300.0)] + [("SKYFLAT", name, 10.0) for name in sorted(filters)]
        for index, (obstype, name, exptime) in enumerate(entries):
            number = 900_000_000 + key * 100 + index
            if number not in self.frames:
                self.frames[number] = Frame(number, f"{prefix}-{day}-{index + 1:04d}-{obstype[0].lower()}91", ".fits.fz",
                                            91, dusk + timedelta(minutes=10 * index), "calibrate", camera, "N/A", site,
                                            telescope, exptime, name, dusk, obstype, None, None, None, 0.0, 0.0, kind)
            made.append(self.frames[number])
        return made
