"""A UserRequest read and checked as the portal's serializers check it, with their messages.

The reading goes from the leaves up, as Django REST framework does: every
object's fields first, then the object's own rules, which only run when its
fields are right. Errors come back nested like the payload, a list holding one
entry per item (``{}`` for a good one). A request's own rules include the sky:
the target must be observable, for long enough, in one of its windows.
The userrequest's own rules (proposal membership, time allocations, IPP) are in
:mod:`.rules`, since they read the proposals.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..lco.network import CLASSES, Network
from ..lco.proposals import semester_of
from . import fields as f
from .durations import exposure_duration, request_duration

TARGET_TYPES = ("SIDEREAL", "NON_SIDEREAL", "SATELLITE", "STATIC")
SCHEMES = {"ASA_MAJOR_PLANET": ("longofperih", "meandist", "meanlong", "dailymot"),
           "ASA_MINOR_PLANET": ("argofperih", "meandist", "meananom"),
           "ASA_COMET": ("argofperih", "perihdist", "epochofperih"),
           "JPL_MAJOR_PLANET": ("argofperih", "meandist", "meananom", "dailymot"),
           "JPL_MINOR_PLANET": ("argofperih", "perihdist", "epochofperih"),
           "MPC_MINOR_PLANET": ("argofperih", "meandist", "meananom"),
           "MPC_COMET": ("argofperih", "perihdist", "epochofperih")}
COMETS = ("ASA_COMET", "JPL_MINOR_PLANET", "MPC_COMET")
MOLECULE_TYPES = ("EXPOSE", "SKY_FLAT", "STANDARD", "ARC", "LAMP_FLAT", "SPECTRUM", "AUTO_FOCUS", "TRIPLE",
                  "NRES_TEST", "NRES_SPECTRUM", "NRES_EXPOSE", "ENGINEERING", "SCRIPT")
NEEDS_FILTER = ("EXPOSE", "AUTO_FOCUS", "ZERO_POINTING", "STANDARD", "SKY_FLAT")
NEEDS_SLIT = ("SPECTRUM", "ARC", "LAMP_FLAT")
NEEDS_GUIDING = ("SPECTRUM", "NRES_SPECTRUM", "NRES_TEST", "NRES_EXPOSE")
IMAGER_ONLY = ("EXPOSE", "SKY_FLAT")
ROT_MODES = ("", "SKY", "FLOAT", "VERTICAL", "VFLOAT")
FIELD_REQUIRED = "This field is required"          # the target's own, without the full stop
NEVER_VISIBLE = ("According to the constraints of the request, the target is never visible within the time window. "
                 "Check that the target is in the nighttime sky. Consider modifying the time window or loosening "
                 "the airmass or lunar separation constraints. If the target is non sidereal, double check that "
                 "the provided elements are correct.")
TOO_SHORT = ("According to the constraints of the request, the target is visible for a maximum of {visible:.2f} hours "
             "within the time window. This is less than the duration of your request {duration:.2f} hours. "
             "Consider expanding the time window or loosening the airmass or lunar separation constraints.")

TARGET_COMMON = {"name": f.text(required=True, blank=False, max_length=50, blank_message="Please provide a name."),
                 "type": f.choice(*TARGET_TYPES, required=True),
                 "rot_mode": f.choice(*ROT_MODES, default=""), "rot_angle": f.number(default=0.0),
                 "acquire_mode": f.text(null=True, default=None), "vmag": f.number(null=True, default=None)}
SIDEREAL = {"ra": f.number(required=True, minimum=0.0, maximum=360.0, required_message=FIELD_REQUIRED),
            "dec": f.number(required=True, minimum=-90.0, maximum=90.0, required_message=FIELD_REQUIRED),
            "proper_motion_ra": f.number(default=0.0, maximum=20000.0, null=True),
            "proper_motion_dec": f.number(default=0.0, maximum=20000.0, null=True),
            "parallax": f.number(default=0.0, null=True), "radvel": f.number(default=0.0, null=True),
            "coordinate_system": f.text(default="ICRS"), "equinox": f.text(default="J2000"),
            "epoch": f.number(default=2000.0, maximum=2100.0)}
SIDEREAL_ORDER = ("type", "name", "ra", "dec", "proper_motion_ra", "proper_motion_dec", "parallax", "radvel",
                  "coordinate_system", "equinox", "epoch", "acquire_mode", "rot_mode", "rot_angle", "vmag")
ELEMENTS = {"scheme": f.choice(*SCHEMES, required=True, required_message=FIELD_REQUIRED),
            "epochofel": f.number(minimum=10000.0, maximum=100000.0, required=True, required_message=FIELD_REQUIRED),
            "orbinc": f.number(minimum=0.0, maximum=180.0, required=True, required_message=FIELD_REQUIRED),
            "longascnode": f.number(minimum=0.0, maximum=360.0, required=True, required_message=FIELD_REQUIRED),
            "eccentricity": f.number(minimum=0.0, required=True, required_message=FIELD_REQUIRED)}
SCHEME_FIELDS = {"longofperih": f.number(minimum=0.0, maximum=360.0), "argofperih": f.number(minimum=0.0, maximum=360.0),
                 "meandist": f.number(), "meanlong": f.number(), "dailymot": f.number(),
                 "meananom": f.number(minimum=0.0, maximum=360.0), "perihdist": f.number(),
                 "epochofperih": f.number(minimum=10000.0, maximum=100000.0)}
SATELLITE = {name: f.number(required=True, required_message=FIELD_REQUIRED)
             for name in ("altitude", "azimuth", "diff_pitch_rate", "diff_roll_rate", "diff_epoch_rate",
                          "diff_pitch_acceleration", "diff_roll_acceleration")}
MOLECULE = {"type": f.choice(*MOLECULE_TYPES, required=True), "args": f.text(default=""),
            "ag_name": f.text(default=""), "ag_mode": f.choice("OPTIONAL", "ON", "OFF"),
            "ag_filter": f.text(default=""), "ag_exp_time": f.number(default=10.0, minimum=0.0),
            "ag_strategy": f.text(default=""), "instrument_name": f.text(required=True, blank=False),
            "filter": f.text(default=""), "readout_mode": f.text(default=""), "spectra_lamp": f.text(default=""),
            "spectra_slit": f.text(default=""), "acquire_mode": f.choice("OFF", "WCS", "BRIGHTEST"),
            "acquire_radius_arcsec": f.number(default=0.0), "acquire_strategy": f.text(default=""),
            "acquire_exp_time": f.number(null=True, default=None, minimum=0.0, maximum=30.0),
            "expmeter_mode": f.choice("OFF", "ON", default="OFF"), "expmeter_snr": f.number(null=True, default=None),
            "exposure_time": f.number(required=True, minimum=0.01), "exposure_count": f.whole(required=True, minimum=1),
            "bin_x": f.whole(minimum=1), "bin_y": f.whole(minimum=1),
            "defocus": f.number(null=True, default=None, minimum=-3.0, maximum=3.0),
            "fill_window": f.flag(default=False)}
MOLECULE_ORDER = ("type", "args", "priority", "ag_name", "ag_mode", "ag_filter", "ag_exp_time", "ag_strategy",
                  "instrument_name", "filter", "readout_mode", "spectra_lamp", "spectra_slit", "acquire_mode",
                  "acquire_radius_arcsec", "acquire_strategy", "acquire_exp_time", "expmeter_mode", "expmeter_snr",
                  "exposure_time", "exposure_count", "bin_x", "bin_y", "defocus")
CONSTRAINTS = {"max_airmass": f.number(default=1.6, minimum=1.0, maximum=25.0),
               "min_lunar_distance": f.number(default=30.0, minimum=0.0, maximum=180.0),
               "max_lunar_phase": f.number(null=True, default=None), "max_seeing": f.number(null=True, default=None),
               "min_transparency": f.number(null=True, default=None)}
LOCATION = {"telescope_class": f.choice(*CLASSES, required=True), "site": f.text(default=""),
            "observatory": f.text(default=""), "telescope": f.text(default="")}
WINDOW = {"start": f.moment(), "end": f.moment(required=True)}
REQUEST = {"observation_note": f.text(default="", max_length=255),
           "acceptability_threshold": f.number(minimum=0.0, maximum=100.0)}
USERREQUEST = {"proposal": f.text(required=True, null_message="Please provide a proposal."),
               "group_id": f.text(required=True, blank=False, max_length=50, blank_message="Please provide a title."),
               "observation_type": f.choice("NORMAL", "TARGET_OF_OPPORTUNITY", default="NORMAL"),
               "operator": f.choice("SINGLE", "AND", "MANY", required=True),
               "ipp_value": f.number(required=True, minimum=0.5)}


@dataclass
class Context:
    """What checking a request needs beyond the payload: the network, the time, the sky."""

    network: Network
    now: datetime
    #: the longest observable stretch (seconds) of a cleaned request over its windows and sites
    largest_interval: Callable[[dict[str, Any]], float]
    proposals: tuple[str, ...] = ()
    check_sky: bool = True             # off while a cadence is being expanded (each window is judged apart)


class Invalid(Exception):
    def __init__(self, errors: Any) -> None:
        super().__init__("invalid")
        self.errors = errors


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Invalid({"non_field_errors": [f.not_a_dict(data)]})
    return data


def _items(data: Any, name: str, minimum: str) -> list[Any]:
    if not isinstance(data, list):
        raise Invalid({name: [f.not_a_list(data)]})
    if not data:
        raise Invalid({name: [minimum]})
    return data


def _each(items: list[Any], check: Callable[[Any], Any]) -> tuple[list[Any], list[dict]]:
    values, errors = [], []
    for item in items:
        try:
            values.append(check(item))
            errors.append({})
        except Invalid as invalid:
            values.append(None)
            errors.append(invalid.errors)
    return values, errors


# --- the leaves ---------------------------------------------------------------------------------------
def target(data: Any) -> dict[str, Any]:
    data = _object(data)
    values, errors = f.read(data, TARGET_COMMON)
    kind = values.get("type")
    if kind in ("SIDEREAL", "STATIC"):
        extra, more = f.read(data, SIDEREAL)
        values.update(extra)
        errors.update(more)
        order = SIDEREAL_ORDER
    elif kind == "NON_SIDEREAL":
        extra, more = f.read(data, ELEMENTS)
        values.update(extra)
        errors.update(more)
        scheme = extra.get("scheme")
        if scheme:
            needed = {name: replace(SCHEME_FIELDS[name], required=True, required_message=FIELD_REQUIRED)
                      for name in SCHEMES[scheme]}
            extra, more = f.read(data, needed)
            values.update(extra)
            errors.update(more)
        order = ("acquire_mode", "rot_mode", "rot_angle", "vmag", "type", "name", "epochofel", "orbinc",
                 "longascnode", "eccentricity", "scheme", *(SCHEMES.get(scheme or "", ())))
    elif kind == "SATELLITE":
        extra, more = f.read(data, SATELLITE)
        values.update(extra)
        errors.update(more)
        order = ("type", "name", *SATELLITE, "acquire_mode", "rot_mode", "rot_angle", "vmag")
    else:
        order = tuple(TARGET_COMMON)
    if errors:
        raise Invalid(errors)
    if kind == "NON_SIDEREAL" and values["scheme"] not in COMETS and values["eccentricity"] > 0.9:
        raise Invalid({"scheme": [f"Non sidereal pointing of scheme {values['scheme']} requires eccentricity to be "
                                  f"lower than 0.9. Submit with scheme MPC_COMET to use your eccentricity of "
                                  f"{values['eccentricity']}."]})
    return {name: values.get(name) for name in order}


def constraints(data: Any) -> dict[str, Any]:
    values, errors = f.read(_object(data), CONSTRAINTS)
    if errors:
        raise Invalid(errors)
    return values


def location(data: Any, network: Network) -> dict[str, Any]:
    values, errors = f.read(_object(data), LOCATION)
    if errors:
        raise Invalid(errors)
    site, enclosure, telescope = values["site"], values["observatory"], values["telescope"]
    problems = []
    if enclosure and not site:
        problems.append("Must specify a site with an observatory.")
    if telescope and not enclosure:
        problems.append("Must specify an observatory with a telescope.")
    if site and site not in network.sites:
        problems.append(f"Site {site} not valid. Valid choices: {', '.join(network.sites)}")
    elif site and enclosure:
        known = list(dict.fromkeys(t.enclosure for t in network.sites[site].telescopes))
        if enclosure not in known:
            problems.append(f"Observatory {enclosure} not valid. Valid choices: {', '.join(known)}")
        elif telescope:
            codes = [t.code for t in network.sites[site].telescopes if t.enclosure == enclosure]
            if telescope not in codes:
                problems.append(f"Telescope {telescope} not valid. Valid choices: {', '.join(codes)}")
    if problems:
        raise Invalid({"non_field_errors": problems})
    return {name: value for name, value in values.items() if value != ""}


def window(data: Any, now: datetime) -> dict[str, datetime]:
    values, errors = f.read(_object(data), WINDOW)
    if "end" in values and values["end"] <= now:
        errors["end"] = ["Window end time must be in the future"]
    if errors:
        raise Invalid(errors)
    start = values.get("start") or now
    if values["end"] <= start:
        raise Invalid({"non_field_errors": [f"Window end '{values['end'].strftime('%Y-%m-%d %H:%M:%S+00:00')}' cannot "
                                            f"be earlier than window start "
                                            f"'{start.strftime('%Y-%m-%d %H:%M:%S+00:00')}'."]})
    if semester_of(start) is None or semester_of(start) != semester_of(values["end"]):
        raise Invalid({"non_field_errors": ["The observation window does not fit within any defined semester."]})
    return {"start": start, "end": values["end"]}


def molecule(data: Any, network: Network) -> dict[str, Any]:
    data = _object(data)
    values, errors = f.read(data, MOLECULE)
    name = values.get("instrument_name")
    kind = network.instruments.get(name) if name else None
    if name and kind is None:
        errors["instrument_name"] = [f"Invalid instrument name {name}. Valid instruments may include: "
                                     f"{', '.join(network.instruments)}"]
    if errors:
        raise Invalid(errors)
    spectrograph = kind.is_spectrograph
    if values.get("ag_mode") is None:
        values["ag_mode"] = "ON" if spectrograph else "OPTIONAL"
    if values.get("acquire_mode") is None:
        values["acquire_mode"] = "WCS" if spectrograph else "OFF"
    problems: dict[str, list[str]] = {}
    kind_of = values["type"]
    if spectrograph and kind_of in IMAGER_ONLY:
        problems.setdefault("non_field_errors", []).append(f"Invalid type {kind_of} for a spectrograph.")
    if not spectrograph and kind_of in NEEDS_SLIT:
        problems.setdefault("non_field_errors", []).append(f"Invalid type {kind_of} for an imager.")
    if not spectrograph and kind_of in NEEDS_FILTER:
        if not values["filter"]:
            problems["filter"] = ["You must specify a filter for Imaging exposures."]
        elif kind.filter(values["filter"]) is None:
            problems["filter"] = [f"Invalid filter {values['filter']} for instrument {name}. Valid filters are: "
                                  f"{', '.join(x.code.lower() for x in kind.filters)}"]
    if spectrograph and kind_of in NEEDS_SLIT and name.startswith("2M0-FLOYDS"):
        if not values["spectra_slit"]:
            problems["spectra_slit"] = ["You must specify a slit for spectrum, arc and lamp flat exposures."]
        elif kind.filter(values["spectra_slit"]) is None:
            problems["spectra_slit"] = [f"Invalid spectra slit {values['spectra_slit']} for instrument {name}. "
                                        f"Valid slits are: {', '.join(x.code for x in kind.filters)}"]
    if values["acquire_mode"] == "BRIGHTEST" and values["acquire_radius_arcsec"] <= 0:
        problems.setdefault("acquire_radius_arcsec", []).append("Acquire radius must be positive.")
    if spectrograph and kind_of in NEEDS_GUIDING and values["ag_mode"] != "ON":
        problems.setdefault("ag_mode", []).append(f"Autoguiding must be on for {kind_of} observations.")
    if kind_of == "SCRIPT" and not values["args"]:
        problems.setdefault("args", []).append("Must specify an args for SCRIPT type.")
    given = [axis for axis in ("bin_x", "bin_y") if axis in values]
    if len(given) == 1:
        problems.setdefault("non_field_errors", []).append("Missing one of bin_x or bin_y. Specify both or neither.")
    elif not given:
        values["bin_x"] = values["bin_y"] = kind.default_binning
    elif values["bin_x"] not in kind.readout:
        problems.setdefault("non_field_errors", []).append(
            f"Invalid binning of {values['bin_x']} for instrument {name}. Valid binnings are: "
            f"{', '.join(str(b) for b in sorted(kind.readout))}")
    if problems:
        raise Invalid(problems)
    return values


# --- a request --------------------------------------------------------------------------------------
def request(data: Any, context: Context) -> dict[str, Any]:
    data = _object(data)
    values, errors = f.read(data, REQUEST)
    parts: dict[str, Callable[[Any], Any]] = {
        "location": lambda d: location(d, context.network), "constraints": constraints, "target": target}
    for name, check in parts.items():
        if name not in data:
            errors[name] = [f.REQUIRED]
            continue
        try:
            values[name] = check(data[name])
        except Invalid as invalid:
            errors[name] = invalid.errors
    for name, check, minimum in (("molecules", lambda d: molecule(d, context.network),
                                  "You must specify at least 1 molecule"),
                                 ("windows", lambda d: window(d, context.now), "You must specify at least 1 window")):
        if name not in data:
            errors[name] = [f.REQUIRED]
            continue
        try:
            items, problems = _each(_items(data[name], name, minimum), check)
        except Invalid as invalid:
            errors.update(invalid.errors)
            continue
        if any(problems):
            errors[name] = problems
        else:
            values[name] = items
    if "cadence" in data:
        errors["cadence"] = ["Please use the cadence endpoint to expand your cadence request"]
    if errors:
        raise Invalid(errors)
    return _request_rules(values, context)


def _request_rules(values: dict[str, Any], context: Context) -> dict[str, Any]:
    molecules = values["molecules"]
    names = {m["instrument_name"] for m in molecules}
    if len(names) > 1:
        raise Invalid({"molecules": ["Each Molecule must specify the same instrument name"]})
    if any(m["ag_name"] not in ("", m["instrument_name"]) for m in molecules):
        raise Invalid({"molecules": ["Molecule `ag_name` must be blank or same as `instrument_name`"]})
    if sum(1 for m in molecules if m["fill_window"]) > 1:
        raise Invalid({"molecules": ["Only one molecule can have `fill_window` set"]})
    semesters = {semester_of(w["start"]) for w in values["windows"]}
    if len(semesters) > 1:
        raise Invalid({"windows": ["The observation windows must all be in the same semester"]})
    instrument = molecules[0]["instrument_name"]
    kind = context.network.instruments[instrument]
    where = values["location"]
    available = context.network.instruments_at(where["telescope_class"], where.get("site"),
                                                where.get("observatory"), where.get("telescope"))
    if instrument not in available:
        raise Invalid({"non_field_errors": [
            f"Invalid instrument name '{instrument}' at site={where.get('site', '')}, "
            f"obs={where.get('observatory', '')}, tel={where.get('telescope', '')}. \n"
            f"Valid instruments include: {''.join(name + ', ' for name in available)}"]})
    if kind.is_spectrograph and not values["target"].get("rot_mode"):
        values["target"]["rot_mode"] = "VFLOAT"
    if values.get("acceptability_threshold") is None:
        values["acceptability_threshold"] = 100.0 if instrument.startswith("2M0-FLOYDS") else 90.0
    for priority, item in enumerate(molecules, start=1):
        item["priority"] = priority
    duration = request_duration(values, context.network)
    if not context.check_sky:
        values["duration"] = duration
        values["molecules"] = [{name: m[name] for name in MOLECULE_ORDER} for m in molecules]
        return values
    largest = context.largest_interval(values)
    if largest <= 0:
        raise Invalid({"non_field_errors": [NEVER_VISIBLE]})
    if largest < duration:
        raise Invalid({"non_field_errors": [TOO_SHORT.format(visible=largest / 3600, duration=duration / 3600)]})
    filler = next((m for m in molecules if m["fill_window"]), None)
    if filler is not None:
        # one more exposure costs its time, readout and overhead; the rounding up of the total keeps a second spare
        per_exposure = exposure_duration(filler, context.network)
        spare = largest - duration - 1
        filler["exposure_count"] += max(0, int(spare // max(per_exposure, 1)))
    values["duration"] = request_duration(values, context.network)
    values["largest_interval"] = largest
    values["molecules"] = [{name: m[name] for name in MOLECULE_ORDER} for m in molecules]
    return values


# --- a userrequest ----------------------------------------------------------------------------------------
def userrequest(data: Any, context: Context) -> dict[str, Any]:
    """The cleaned userrequest, or Invalid with DRF's nested errors (before the proposal rules)."""
    data = _object(data)
    values, errors = f.read(data, USERREQUEST)
    if "proposal" in values and values["proposal"] not in context.proposals:
        errors["proposal"] = [f'Invalid pk "{values["proposal"]}" - object does not exist.']
    if "requests" not in data:
        errors["requests"] = [f.REQUIRED]
    else:
        try:
            items, problems = _each(_items(data["requests"], "requests", "You must specify at least 1 request"),
                                    lambda d: request(d, context))
        except Invalid as invalid:
            errors.update(invalid.errors)
        else:
            if any(problems):
                errors["requests"] = problems
            else:
                values["requests"] = items
    if errors:
        raise Invalid(errors)
    return values
