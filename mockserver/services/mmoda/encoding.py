"""Products in the wire form of oda_api's ``NumpyDataProduct``: FITS-like units of NumPy data.

A product is a list of data units (a primary unit, then images or binary
tables), a name and meta data. Each unit travels as oda_api encodes it by
default: the array pickled and base64-encoded under ``binarys``, its dtype as
text, the FITS header as a dict and the column units. The client unpickles
it (so only a trusted server should send products, as with the real one).
"""
from __future__ import annotations

import base64
import json
import math
import pickle
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: FITS header values the client can write back (numbers, text, truth values)
HeaderValue = str | int | float | bool


@dataclass
class DataUnit:
    """One HDU: ``hdu_type`` primary, image or bintable; ``data`` an array (a record array for tables)."""

    name: str
    hdu_type: str
    data: np.ndarray | None = None
    header: dict[str, HeaderValue] = field(default_factory=dict)
    units: dict[str, str] | None = None

    def encode(self) -> dict[str, Any]:
        binarys = dt = None
        if self.data is not None:
            array = np.asarray(self.data)
            dt = str(array.dtype.descr) if array.dtype.names else str(array.dtype)
            binarys = _pickled(array)
        return {"data": None, "dt": dt, "name": self.name, "header": _finite_header(self.header), "binarys": binarys,
                "meta_data": {}, "hdu_type": self.hdu_type, "units_dict": self.units}


@dataclass
class NumpyProduct:
    """A product: its units, a name (None lets the client name it) and meta data."""

    units: list[DataUnit]
    name: str | None
    meta_data: dict[str, Any]

    def encode(self) -> dict[str, Any]:
        # meta_data travels as JSON text, as oda_api's json_tricks writes it
        return {"data_unit_list": [unit.encode() for unit in self.units], "name": self.name,
                "meta_data": json.dumps(self.meta_data)}


def primary(header: dict[str, HeaderValue] | None = None) -> DataUnit:
    return DataUnit("PRIMARY", "primary", np.array([]), dict(header or {}))


def table(name: str, columns: dict[str, np.ndarray], units: dict[str, str] | None = None,
          header: dict[str, HeaderValue] | None = None) -> DataUnit:
    """A binary table from named columns of equal length (a 2-d column is a vector per row)."""
    arrays = {column: np.asarray(values) for column, values in columns.items()}
    rows = len(next(iter(arrays.values())))
    records = np.recarray(rows, dtype=[(column, a.dtype, a.shape[1:]) for column, a in arrays.items()])
    for column, a in arrays.items():
        records[column] = a
    full = {"XTENSION": "BINTABLE", "EXTNAME": name, "NAXIS": 2, "NAXIS1": records.dtype.itemsize,
            "NAXIS2": len(records), "TFIELDS": len(columns), **(header or {})}
    return DataUnit(name, "bintable", records, full, units)


def image(name: str, pixels: np.ndarray, header: dict[str, HeaderValue] | None = None) -> DataUnit:
    rows, cols = pixels.shape
    full = {"XTENSION": "IMAGE", "EXTNAME": name, "NAXIS": 2, "NAXIS1": cols, "NAXIS2": rows, **(header or {})}
    return DataUnit(name, "image", pixels, full)


def _pickled(array: np.ndarray) -> str:
    """The array pickled, in base64 text free of the letters "null".

    The client reads a response by rewriting every "null" in its text to None
    before parsing it, so a product whose base64 happens to contain those four
    letters (about once in 15 million positions) would be corrupted; another
    pickle protocol writes other bytes.
    """
    for protocol in (pickle.HIGHEST_PROTOCOL, 4, 3, 2):
        text = base64.b64encode(pickle.dumps(array, protocol=protocol)).decode()
        if "null" not in text:
            return text
    raise ValueError("every pickle of this array contains 'null' in base64; change the data")


def _finite_header(header: dict[str, HeaderValue]) -> dict[str, HeaderValue]:
    """The client reads responses with literal_eval: NaN or infinity would break the whole answer."""
    return {k: (v if not (isinstance(v, float) and not math.isfinite(v)) else str(v)) for k, v in header.items()}
