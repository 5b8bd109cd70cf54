"""The shapes OKAPI results come in.

Pass predictions: ``simple`` (every pass with its look angles at the requested
step) and ``summary`` (the passes condensed, plus totals). Orbits: ``simple``
(state vectors), and the CCSDS messages in their own key names: OMM (the mean
elements SGP4 used), OEM (the ephemeris) and OPM (the state at the end, which a
numerical engine takes back as an orbit). States are in the frame the orbit came
in: TEME for a TLE, GCRF for state.json, the OPM's REF_FRAME for an OPM.
The real service's pass fields are not published; these names are the kit's.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ...astro.passes import Pass
from ...astro.tle import ElementSet
from ...core.clock import iso_ms

ORIGINATOR = "OKAPI:Orbits sandbox (Skymock)"
FRAME = "TEME"                      # SGP4's own frame (a TLE's states); CCSDS knows it by this name
STATE_KEYS = ("X", "Y", "Z", "X_DOT", "Y_DOT", "Z_DOT")


def _iso(seconds: float) -> str:
    return iso_ms(datetime.fromtimestamp(seconds, timezone.utc))


def object_of(element_set: ElementSet) -> dict[str, Any]:
    catalog = element_set.catalog_number.strip()
    return {"name": element_set.name or None, "norad_id": int(catalog) if catalog.isdigit() else catalog,
            "international_designator": element_set.line1[9:17].strip() or None,
            "tle_epoch": iso_ms(element_set.epoch)}


def pass_record(p: Pass) -> dict[str, Any]:
    """One pass over the horizon: its start (AOS) and end (LOS), culmination and look angles."""
    return {"start": _iso(p.aos), "end": _iso(p.los), "duration": round(p.los - p.aos, 3),
            "start_azimuth": round(p.aos_azimuth, 3), "end_azimuth": round(p.los_azimuth, 3),
            "max_elevation": round(p.max_elevation, 3), "max_elevation_epoch": _iso(p.max_elevation_time),
            "max_elevation_range": round(p.slant_range_km, 3),
            "look_angles": [{"epoch": _iso(t), "azimuth": round(az, 3), "elevation": round(el, 3)}
                            for t, az, el in zip(p.track_times.tolist(), p.track_azimuth.tolist(),
                                                 p.track_elevation.tolist())]}


def _passes_simple(outcome: dict[str, Any]) -> dict[str, Any]:
    return {"object": outcome["object"], "ground_location": outcome["ground_location"],
            "time_window": outcome["time_window"], "output_step_size": outcome["output_step_size"],
            "pass_predictions": outcome["passes"]}


def _passes_summary(outcome: dict[str, Any]) -> dict[str, Any]:
    passes = [{k: v for k, v in p.items() if k != "look_angles"} for p in outcome["passes"]]
    highest = max(passes, key=lambda p: p["max_elevation"], default=None)
    summary = {"number_of_passes": len(passes), "total_duration": round(sum(p["duration"] for p in passes), 3),
               "longest_duration": max((p["duration"] for p in passes), default=0.0),
               "first_start": passes[0]["start"] if passes else None, "last_end": passes[-1]["end"] if passes else None,
               "max_elevation": highest["max_elevation"] if highest else None,
               "max_elevation_epoch": highest["max_elevation_epoch"] if highest else None}
    return {"object": outcome["object"], "ground_location": outcome["ground_location"],
            "time_window": outcome["time_window"], "summary": summary, "pass_predictions": passes}


def _states(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"EPOCH": epoch, **dict(zip(STATE_KEYS, state))} for epoch, state in zip(outcome["epochs"], outcome["states"])]


def _orbit_simple(outcome: dict[str, Any]) -> dict[str, Any]:
    return {"object": outcome["object"], "reference_frame": outcome.get("frame", FRAME), "time_system": "UTC",
            "states": [{"epoch": e, "x": s[0], "y": s[1], "z": s[2], "x_dot": s[3], "y_dot": s[4], "z_dot": s[5]}
                       for e, s in zip(outcome["epochs"], outcome["states"])]}


def _header(kind: str, outcome: dict[str, Any]) -> dict[str, Any]:
    return {f"CCSDS_{kind}_VERS": "2.0", "CREATION_DATE": outcome["created"], "ORIGINATOR": ORIGINATOR}


def _meta(outcome: dict[str, Any]) -> dict[str, Any]:
    thing = outcome["object"]
    catalog = thing["norad_id"]
    return {"OBJECT_NAME": thing["name"] or (f"NORAD {catalog}" if catalog is not None else "UNKNOWN"),
            "OBJECT_ID": thing["international_designator"] or (str(catalog) if catalog is not None else "UNKNOWN"),
            "CENTER_NAME": "EARTH", "REF_FRAME": outcome.get("frame", FRAME), "TIME_SYSTEM": "UTC"}


def _exponent_field(text: str) -> float:
    """A TLE field such as ' 29472-4' (an implied leading decimal point): 0.29472e-4."""
    text = text.strip()
    if not text:
        return 0.0
    sign = -1.0 if text[0] == "-" else 1.0
    mantissa, exponent = text.lstrip("+-")[:-2], text[-2:]
    return sign * float(f"0.{mantissa}") * 10 ** int(exponent)


def _omm(outcome: dict[str, Any]) -> dict[str, Any]:
    line1, line2 = outcome["tle"]
    data = {"EPOCH": outcome["object"]["tle_epoch"], "MEAN_MOTION": float(line2[52:63]),
            "ECCENTRICITY": float("0." + line2[26:33]), "INCLINATION": float(line2[8:16]),
            "RA_OF_ASC_NODE": float(line2[17:25]), "ARG_OF_PERICENTER": float(line2[34:42]),
            "MEAN_ANOMALY": float(line2[43:51]), "EPHEMERIS_TYPE": 0, "CLASSIFICATION_TYPE": line1[7],
            "NORAD_CAT_ID": outcome["object"]["norad_id"], "ELEMENT_SET_NO": int(line1[64:68] or 0),
            "REV_AT_EPOCH": int(line2[63:68] or 0), "BSTAR": _exponent_field(line1[53:61]),
            "MEAN_MOTION_DOT": float(line1[33:43]), "MEAN_MOTION_DDOT": _exponent_field(line1[44:52])}
    return {"orbit": {"OMM_HEADER": _header("OMM", outcome),
                      "OMM_META_DATA": {**_meta(outcome), "MEAN_ELEMENT_THEORY": "SGP4"}, "OMM_DATA": data}}


def _oem(outcome: dict[str, Any]) -> dict[str, Any]:
    meta = {**_meta(outcome), "START_TIME": outcome["epochs"][0], "STOP_TIME": outcome["epochs"][-1]}
    return {"orbit": {"OEM_HEADER": _header("OEM", outcome),
                      "OEM_META_DATA_DATA": [{"OEM_META_DATA": meta, "OEM_DATA": _states(outcome)}]}}


def _opm(outcome: dict[str, Any]) -> dict[str, Any]:
    return {"orbit": {"OPM_HEADER": _header("OPM", outcome), "OPM_META_DATA": _meta(outcome),
                      "OPM_DATA": {**_states(outcome)[-1], **outcome.get("spacecraft", {})}}}


RENDERERS = {("predict-passes", "simple"): _passes_simple, ("predict-passes", "summary"): _passes_summary,
             ("propagate-orbit", "simple"): _orbit_simple, ("propagate-orbit", "omm"): _omm,
             ("propagate-orbit", "oem"): _oem, ("propagate-orbit", "opm"): _opm}


def render(family: str, fmt: str, outcome: dict[str, Any]) -> dict[str, Any]:
    return RENDERERS[(family, fmt)](outcome)
