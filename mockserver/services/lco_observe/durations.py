"""How long a request takes at the telescope, from its exposures and the instrument's overheads.

Each exposure costs its time plus the camera's readout (by binning) and fixed
overhead; each molecule adds 16 s to start; an imager adds a filter change for
every run of equal filters, a spectrograph a configuration change for every run
of equal molecule types plus an acquisition before each spectrum; the
telescope's front padding comes on top, and the total is rounded up.
"""
from __future__ import annotations

import math
from itertools import groupby
from typing import Any

from ..lco.network import Network

PER_MOLECULE_GAP = 5.0
PER_MOLECULE_STARTUP = 11.0
ACQUIRED = ("SPECTRUM", "NRES_SPECTRUM")


def exposure_duration(molecule: dict[str, Any], network: Network) -> float:
    kind = network.instruments[molecule["instrument_name"]]
    readout = kind.readout.get(molecule.get("bin_x") or kind.default_binning, kind.readout[kind.default_binning])
    return molecule["exposure_time"] + readout + kind.fixed_overhead_per_exposure


def molecule_duration(molecule: dict[str, Any], network: Network) -> float:
    return molecule["exposure_count"] * exposure_duration(molecule, network) + PER_MOLECULE_GAP + PER_MOLECULE_STARTUP


def request_duration(request: dict[str, Any], network: Network) -> int:
    molecules = request["molecules"]
    kind = network.instruments[molecules[0]["instrument_name"]]
    total = sum(molecule_duration(m, network) for m in molecules)
    if kind.is_spectrograph:
        total += kind.config_change_time * len(list(groupby(m["type"] for m in molecules)))
        for m in molecules:
            if m["type"] in ACQUIRED and m.get("acquire_mode", "OFF") != "OFF":
                total += (m.get("acquire_exp_time") or kind.acquire_exposure_time) + kind.acquire_processing_time
    else:
        total += kind.filter_change_time * len(list(groupby((m.get("filter") or "").lower() for m in molecules)))
    return math.ceil(total + kind.front_padding)
