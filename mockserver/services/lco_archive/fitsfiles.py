"""The files behind the archive's frames: small but valid FITS, made from the frame when asked for.

An image frame is a 64 x 64 field: sky with noise, a few field stars and the
target at the centre, brighter in a longer exposure; its header is the frame's.
Raw, quicklook and reduced frames are tile-compressed (``.fits.fz``) as LCO's
are. A spectrograph's reduced product is a tarball holding a one-dimensional
spectrum.
"""
from __future__ import annotations

import io
import random
import tarfile

import numpy as np
from astropy.io import fits

from .frames import Frame

SIZE = 64


def image(frame: Frame) -> np.ndarray:
    rng = np.random.default_rng(int(frame.md5[:8], 16))
    sky = 100.0 + 20.0 * (frame.OBSTYPE == "SKYFLAT") * 100
    pixels = rng.normal(sky, 5.0, (SIZE, SIZE)).astype(np.float32)
    if frame.OBSTYPE in ("BIAS", "DARK", "SKYFLAT"):
        return pixels
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    stars = random.Random(f"field:{round(frame.ra, 2)}:{round(frame.dec, 2)}")
    sources = [(SIZE / 2, SIZE / 2, 5000.0)] + [(stars.uniform(4, SIZE - 4), stars.uniform(4, SIZE - 4),
                                                 stars.uniform(200, 3000)) for _ in range(12)]
    scale = max(frame.EXPTIME, 1.0) / 30.0
    for cx, cy, flux in sources:
        pixels += (flux * scale * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 1.5 ** 2))).astype(np.float32)
    return pixels


def _header(frame: Frame) -> fits.Header:
    header = fits.Header()
    for key, value in frame.header().items():
        if key in ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2"):
            continue
        header[key.replace("_", "-") if key in ("DATE_OBS", "DAY_OBS", "MJD_OBS") else key] = value
    return header


def fits_bytes(frame: Frame) -> bytes:
    """The frame's file: FITS (tile-compressed for .fits.fz), or a tarball with a spectrum for .tar.gz."""
    buffer = io.BytesIO()
    if frame.extension == ".tar.gz":
        wavelengths = np.linspace(3200, 10000, 256)
        flux = np.exp(-((wavelengths - 6563) / 30) ** 2) * 50 + 10
        spectrum = fits.HDUList([fits.PrimaryHDU(flux.astype(np.float32), _header(frame))])
        member = io.BytesIO()
        spectrum.writeto(member)
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            info = tarfile.TarInfo(f"{frame.basename}/{frame.basename}-1d.fits")
            info.size = len(member.getvalue())
            info.mtime = int(frame.DATE_OBS.timestamp())
            archive.addfile(info, io.BytesIO(member.getvalue()))
        return buffer.getvalue()
    data = image(frame)
    if frame.extension == ".fits.fz":
        hdus = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, _header(frame), name="SCI")])
    else:
        hdus = fits.HDUList([fits.PrimaryHDU(data, _header(frame))])
    hdus.writeto(buffer)
    return buffer.getvalue()
