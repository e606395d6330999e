"""The scenario reference (docs/scenario.md), generated from the schema.

`render_reference` walks the models from `~leonet.scenario.schema.Scenario`
and writes one Markdown section per TOML table -- ``[time]``,
``[[constellations]]`` with a subsection per ``kind``, ``[[faults]]`` per
``kind``, ... -- with a row per key: its type, unit, default (or
"required"), allowed values and meaning, and an example.  Everything a row
says comes from the field itself:

* the type from its annotation, in TOML words (number, string, array of
  strings, date-time, ...);
* the unit from the suffix of its name (``_deg``, ``_km``, ``_s``, ``_bps``,
  ``_mbps``, ``_usd``, ``_h``, see `UNITS`);
* the allowed values from ``Literal`` choices, the ``ge``/``gt``/``le``/``lt``
  and length bounds, and, for rules a validator enforces (a fraction in
  [0, 1], a built-in constellation name), from `RULES`;
* the meaning from its ``description`` and the example from
  ``json_schema_extra={"examples": [...]}``.

What a field cannot say -- what a table is for, the checks that involve
several keys or several tables, a worked example -- is written here, next to
the generator, in `INTROS` and `SECTION_EXAMPLES`: a table without an intro
is an error, so a new table cannot be left undocumented.

``tools/scenario_reference.py`` writes the text to docs/scenario.md (and
``--check`` tells whether the file is stale); tests/scenario/test_reference.py
keeps the file equal to `render_reference`, checks that every field appears
and that every example block of the file validates.  The output depends only
on the schema and this module: no clock, no file outside the package.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .base import _kind_of, _models_in  # the walk the error messages use
from .capacity import GENERATION_CHOICES
from .catalog import BUILTIN_CONSTELLATIONS
from .load import builtin_scenarios
from .schema import MAX_STEPS, Scenario

__all__ = [
    "render_reference",
    "reference_tables",
    "RefTable",
    "toml_value",
    "UNITS",
    "RULES",
    "INTROS",
    "SECTION_EXAMPLES",
    "MINIMAL_EXAMPLE",
    "FULL_EXAMPLE",
]

# --------------------------------------------------------------------------
# The tables of a scenario
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RefTable:
    """One TOML table of a scenario, as the reference documents it.

    Attributes
    ----------
    path : str
        Dotted TOML path, ``"ground.terminals.sources"``.
    array : bool
        An array of tables (``[[path]]``) rather than one table (``[path]``).
    model : type of pydantic.BaseModel
        The model that validates the table.
    kind : str or None
        The ``kind`` that selects `model` when the table is a discriminated
        union (``"walker"``), else None.
    members : tuple of model types
        Every model the field can hold: ``(model,)``, or the members of the
        union (for the union's own entry and for each kind's).
    level : int
        Markdown heading level of its section (2 for a top-level table, one
        more per table or kind it sits in).
    same_as : RefTable or None
        An earlier table with the same model(s): the reference points to it
        instead of repeating its keys (``[[fleets.terminals]]`` are
        ``[[ground.terminals.sources]]``).
    """

    path: str
    array: bool
    model: type[BaseModel]
    kind: str | None = None
    members: tuple = ()
    level: int = 2
    same_as: "RefTable | None" = None

    @property
    def union(self) -> bool:
        """The table is told apart by ``kind`` (a discriminated union)."""
        return len(self.members) > 1

    @property
    def key(self) -> str:
        """``path`` or ``path#kind``: the key of `INTROS` and `SECTION_EXAMPLES`."""
        return self.path if self.kind is None else f"{self.path}#{self.kind}"

    @property
    def header(self) -> str:
        """The TOML header: ``[time]`` or ``[[constellations]]``."""
        return f"[[{self.path}]]" if self.array else f"[{self.path}]"

    @property
    def anchor(self) -> str:
        """HTML anchor of the section: ``constellations-walker``."""
        return re.sub(r"[^a-z0-9]+", "-", self.key.lower()).strip("-")


def _strip_optional(annotation):
    """``X`` of ``X | None``; anything else unchanged."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _unannotated(annotation):
    """The type inside ``Annotated[...]``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _is_list(annotation) -> bool:
    return typing.get_origin(_unannotated(_strip_optional(_unannotated(annotation)))) is list


def _union_members(annotation) -> tuple:
    """The members of ``X | Y`` (after ``None`` is stripped), else ``()``."""
    inner = _unannotated(_strip_optional(_unannotated(annotation)))
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        return tuple(a for a in typing.get_args(inner) if a is not type(None))
    return ()


def _holds_list(annotation) -> bool:
    """A list, or a union with a list member (``str | list[Shape]``): its tables are an array."""
    return _is_list(annotation) or any(_is_list(a) for a in _union_members(annotation))


def _is_text(annotation) -> bool:
    """The key holds text (a name, a header), not a quantity: no unit from its suffix."""
    inner = _unannotated(_strip_optional(_unannotated(annotation)))
    return inner is str or typing.get_origin(inner) is Literal


def _key_of(name: str, field: FieldInfo) -> str:
    """The key written in the file: the alias (``from``) or the field name."""
    return field.alias or name


def _fields(model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """``(key, field)`` of a model, ``kind`` first, then in declaration order."""
    items = [(_key_of(n, f), f) for n, f in model.model_fields.items()]
    return sorted(items, key=lambda kf: kf[0] != "kind")


def reference_tables() -> list[RefTable]:
    """Every table of a scenario, in the order of the reference.

    Depth first from `Scenario`, in field order; the members of a
    discriminated union come one per ``kind``.  A field whose model(s) were
    already documented at another path gets ``same_as`` and is not walked
    again.

    >>> [t.header for t in reference_tables()][:4]
    ['[scenario]', '[time]', '[[constellations]]', '[[constellations]]']
    >>> [t.kind for t in reference_tables()][2:5]
    [None, 'builtin', 'walker']
    """
    out: list[RefTable] = []
    seen: dict[tuple, RefTable] = {}

    def walk(model: type[BaseModel], prefix: str, level: int) -> None:
        for key, field in _fields(model):
            models = _models_in(field.annotation)
            if not models:
                continue
            path = f"{prefix}.{key}" if prefix else key
            array = _holds_list(field.annotation)
            ident = tuple(models)
            if ident in seen:
                out.append(RefTable(path, array, models[0], members=ident, level=level, same_as=seen[ident]))
                continue
            head = RefTable(path, array, models[0], members=ident, level=level)
            out.append(head)
            seen[ident] = head
            if len(models) == 1:
                walk(models[0], path, level + 1)
                continue
            for m in models:
                kind = _kind_of(m)
                if kind is None:
                    raise TypeError(f"{path}: a union of tables must be told apart by kind; {m.__name__} has none")
                out.append(RefTable(path, array, m, kind=kind, members=ident, level=level + 1))
                walk(m, path, level + 2)

    walk(Scenario, "", 2)
    return out


# --------------------------------------------------------------------------
# One key: type, unit, default, allowed values, example
# --------------------------------------------------------------------------

#: Unit of a key by the suffix of its name (the longest matching suffix wins).
UNITS: dict[str, str] = {
    "_deg": "deg",
    "_km": "km",
    "_s": "s",
    "_bps": "bit/s",
    "_mbps": "Mbit/s",
    "_usd": "USD",
    "_h": "h",
    "_rev_per_day": "rev/day",
    "_m": "m",
    "_mps": "m/s",
    "_kmh": "km/h",
}

#: Rules a validator enforces that the annotation does not show, by
#: ``(model name, key)``: shown under "allowed".  (A test checks that every
#: entry names a real field.)
RULES: dict[tuple[str, str], str] = {
    ("BuiltinConstellation", "builtin"): "one of " + ", ".join(f'`"{n}"`' for n in BUILTIN_CONSTELLATIONS),
    ("CapacitySpec", "generation"): "one of " + ", ".join(f'`"{n}"`' for n in sorted(GENERATION_CHOICES)),
    ("CapacitySpec", "generation_by_constellation"): "values: " + ", ".join(f'`"{n}"`' for n in sorted(GENERATION_CHOICES)),
    ("TimeSpec", "step_s"): "a whole number of ns, at most the window",
    ("ShellSpec", "phase_factor"): "at most planes - 1",
    ("ShellSpec", "mean_motion_rev_per_day"): "within 50 km of altitude_km",
    ("GatewaySpec", "ids"): "ids of the shipped list: GS1, GS2, ...",
    ("PopSpec", "ids"): "ids of the shipped list: POP1, POP2, ...",
    ("PopSpec", "names"): 'names or codes of the shipped list: "FRA", "GRU", ...',
    ("PopSpec", "assignment"): "gateway ids of the run -> PoP ids",
    ("SampleSource", "region"): "a [region spec](#region-specs)",
    ("PolicySpec", "region"): "a [region spec](#region-specs), or dated shapes in time order",
    ("PolicySpec", "lag_s"): "only with a dated region",
    ("DatedRegionSpec", "region"): "a [region spec](#region-specs)",
    ("DatedRegionSpec", "from"): "after the previous entry's",
    ("TrackSource", "file"): "a regular file: .csv, .txt, .gpx, .geojson or .json (else set format)",
    ("TrackSource", "columns"): "CSV only",
    ("TrackSource", "time_format"): '`"iso8601"`, `"unix_s"`, `"unix_ms"` or a strptime format; not for GPX',
    ("RouteSource", "speed_kmh"): "at most max_speed_mps x 3.6; with start_utc and no waypoint 'at'",
    ("RouteSource", "start_utc"): "with speed_kmh",
    ("WaypointSpec", "at"): "at every waypoint (without speed_kmh), increasing",
    ("JammingFault", "region"): "a [region spec](#region-specs)",
    ("CapacityLossFault", "region"): "a [region spec](#region-specs)",
    ("CitiesSource", "country_iso2"): "ISO 3166-1 alpha-2",
    ("GatewaySpec", "country_iso2"): "ISO 3166-1 alpha-2 codes",
    ("FleetSpec", "name"): "unique; no '/', no leading or trailing space",
    ("FleetSpec", "monthly_price_usd"): "finite, >= 0",
    ("FleetSpec", "demand_mbps"): "finite, >= 0",
    ("FleetSpec", "daily_profile"): "24 numbers, each finite and >= 0",
    ("FleetSpec", "terminals"): "at least 1 source",
    ("FleetSpec", "sponsors"): "needed when priced; in date order, no gap or overlap, the first at or before active_from",
    ("SponsorSpec", "name"): "unique",
    ("SponsorPeriod", "sponsor"): "a declared [[sponsors]] name, when any are declared",
    ("PolicySpec", "fleets"): "names of [[fleets]], each once, at least 1",
    ("GatewayDownFault", "gateways"): "gateway ids of the run, at least 1",
    ("SatellitesFailedFault", "fraction"): "[0, 1]",
    ("IslLostFault", "fraction"): "[0, 1]",
    ("JammingFault", "probability"): "[0, 1]",
    ("CapacityLossFault", "share"): "[0, 1]",
}

_TYPE_WORDS = {str: "string", int: "integer", float: "number", bool: "boolean", dt.datetime: "date-time"}


def _unit(key: str) -> str:
    best = ""
    for suffix in UNITS:
        if key.endswith(suffix) and len(suffix) > len(best):
            best = suffix
    return UNITS[best] if best else ""


def _type_text(annotation, links: dict[tuple, RefTable]) -> str:
    """The type of a key in TOML words; tables link to their section."""
    annotation = _unannotated(_strip_optional(_unannotated(annotation)))
    members = _union_members(annotation)
    if members:  # str | list[Shape]: "string or array of tables ..."
        return " or ".join(_type_text(m, links) for m in members)
    models = _models_in(annotation)
    if models:
        table = links.get(tuple(models))
        ref = f"[`{table.header}`](#{table.anchor})" if table is not None else "tables"
        return f"array of tables {ref}" if _is_list(annotation) else f"table {ref}"
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "string"
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"array of {_type_text(item, links)}s"
    if origin is dict:
        k, v = typing.get_args(annotation)
        return f"table of {_type_text(k, links)} = {_type_text(v, links)}"
    if annotation in _TYPE_WORDS:
        return _TYPE_WORDS[annotation]
    raise TypeError(f"no TOML word for the type {annotation!r}; add it to reference._TYPE_WORDS")


def _is_datetime(annotation) -> bool:
    return _unannotated(_strip_optional(_unannotated(annotation))) is dt.datetime


def _number(value: float) -> str:
    """A float as TOML writes it: ``25.0``, ``1e6``, ``1.2e9``, ``0.05``."""
    if value != 0 and math.isfinite(value) and (abs(value) >= 1e6 or abs(value) < 1e-4):
        # The shortest digits that give the float back (repr's), in exponent form.
        return format(Decimal(repr(float(value))).normalize(), "e").replace("e+", "e")
    return repr(float(value))


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_TOML_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$")


def toml_value(value: Any, *, dates: bool = False) -> str:
    """A value as TOML text: strings quoted, arrays and inline tables, numbers and booleans.

    Parameters
    ----------
    value : str, int, float, bool, list or dict
    dates : bool
        Write strings that are ISO dates or date-times bare, as TOML dates
        (for date-time keys).

    Examples
    --------
    >>> toml_value(["São Paulo", 1.5, 2, True])
    '["São Paulo", 1.5, 2, true]'
    >>> toml_value({"GS221": "POP12", "a b": 1e9})
    '{ GS221 = "POP12", "a b" = 1e9 }'
    >>> toml_value("2022-02-26", dates=True), toml_value("2022-02-26")
    ('2022-02-26', '"2022-02-26"')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        if dates and _TOML_DATE.match(value):
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v, dates=dates) for v in value) + "]"
    if isinstance(value, dict):
        items = [f"{k if _BARE_KEY.match(k) else json.dumps(k, ensure_ascii=False)} = {toml_value(v, dates=dates)}"
                 for k, v in value.items()]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"no TOML text for {type(value).__name__} {value!r}")


def _default_text(field: FieldInfo, in_union: bool, key: str) -> str:
    """The default as TOML, "unset", "defaults" (a table) or required (a union's ``kind`` always is)."""
    if field.is_required() or (key == "kind" and in_union):
        return "**required**"
    value = field.default_factory() if field.default_factory is not None else field.default
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "defaults"
    return f"`{toml_value(value)}`"


def _bound(value) -> str:
    """A bound as written in an interval: ``0``, ``90``, ``-0.5``, ``1e12``, ``31622400``."""
    if isinstance(value, int):
        return str(value)
    if abs(value) >= 1e6 or not value.is_integer():
        return _number(value)
    return str(int(value))


def _allowed_text(model: type[BaseModel], key: str, field: FieldInfo) -> str:
    """Literal choices, bounds, lengths and the validator's rule (`RULES`) of one key."""
    parts: list[str] = []
    inner = _unannotated(_strip_optional(_unannotated(field.annotation)))
    if typing.get_origin(inner) is Literal:
        parts.append(", ".join(f'`"{c}"`' for c in typing.get_args(inner)))
    lo = hi = None
    lo_open = hi_open = False
    min_len = max_len = None
    for m in field.metadata:
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt):
            lo, lo_open = m.gt, True
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt):
            hi, hi_open = m.lt, True
        elif isinstance(m, at.MinLen):
            min_len = m.min_length
        elif isinstance(m, at.MaxLen):
            max_len = m.max_length
    if lo is not None and hi is not None:
        parts.append(f"{'(' if lo_open else '['}{_bound(lo)}, {_bound(hi)}{')' if hi_open else ']'}")
    elif lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {_bound(lo)}")
    elif hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {_bound(hi)}")
    what = "entries" if typing.get_origin(inner) is list else "characters"
    if min_len is not None and max_len is not None:
        parts.append(f"exactly {min_len} {what}" if min_len == max_len else f"{min_len} to {max_len} {what}")
    elif min_len is not None:
        parts.append(f"at least {min_len} {what if min_len > 1 else what.replace('entries', 'entry').rstrip('s')}")
    elif max_len is not None:
        parts.append(f"at most {max_len} {what}")
    rule = RULES.get((model.__name__, key))
    if rule:
        parts.append(rule)
    return "; ".join(parts)


def _examples(field: FieldInfo) -> list:
    extra = field.json_schema_extra
    return list(extra.get("examples", [])) if isinstance(extra, dict) else []


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(table: RefTable, links: dict[tuple, RefTable]) -> list[str]:
    """The key table of one TOML table: a Markdown row per key."""
    in_union = table.kind is not None
    rows = [
        "| key | type | unit | default | allowed | meaning |",
        "|---|---|---|---|---|---|",
    ]
    names = {(_key_of(n, f)): n for n, f in table.model.model_fields.items()}
    for key, field in _fields(table.model):
        if not field.description:
            raise ValueError(f"{table.model.__name__}.{names[key]} has no description; give it one in the schema")
        meaning = field.description.rstrip(".") + "."
        if key == "kind" and in_union:
            meaning += f" Write `kind = \"{table.kind}\"`."
        examples = _examples(field)
        if examples:
            dates = _is_datetime(field.annotation)
            shown = ", ".join(f"`{key} = {toml_value(e, dates=dates)}`" for e in examples)
            meaning += f" Example: {shown}"
        rows.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f"`{key}`",
                    _type_text(field.annotation, links),
                    "" if _is_text(field.annotation) else _unit(key),
                    _default_text(field, in_union, key),
                    _allowed_text(table.model, key, field),
                    meaning,
                )
            )
            + " |"
        )
    return rows


# --------------------------------------------------------------------------
# What the fields cannot say: intros, rules across keys, examples
# --------------------------------------------------------------------------

#: What each table is for and the checks that involve several keys or
#: tables, by `RefTable.key`.  Every table must have one.
INTROS: dict[str, str] = {
    "scenario": "Names the scenario and seeds its random choices.  Optional: every key has a default.",
    "time": (
        "The simulated window and its step.  Give `start_utc` and exactly one of `duration_s` or `end_utc`.  "
        "The steps are `start_utc + k * step_s` for k = 0, 1, ... while before the end (the end is exclusive).  "
        f"Checks: `step_s` is a whole number of nanoseconds and not longer than the window; at most "
        f"{MAX_STEPS:,} steps; the window ends before the year 9999.  A run warns when `start_utc` is more than 14 "
        "days from an element set's epoch (SGP4 degrades by kilometres per day away from it): the shipped "
        "snapshots have epochs 2026-05-28..30."
    ),
    "constellations": (
        "The satellites: one table per source, told apart by `kind`, at least one.  The sources are concatenated, "
        "in order, into one satellite index.  Each kind accepts only its own keys: a key of another kind is an "
        "error that names the kind which takes it."
    ),
    "constellations#builtin": (
        "A constellation leonet ships, by name (see [Built-in constellations](#built-in-constellations)).  Walker "
        "built-ins get their element epoch at `start_utc`; the real snapshots are propagated from their own epochs."
    ),
    "constellations#walker": (
        "Walker-delta shells built from their parameters.  Every satellite is written as a TLE with epoch "
        "`start_utc` and propagated with SGP4, as Hypatia does."
    ),
    "constellations.shells": (
        "One shell of a `kind = \"walker\"` constellation: `planes` circular orbits evenly spaced in right "
        "ascension, `sats_per_plane` satellites each.  Checks: `phase_factor` at most `planes - 1`; a given "
        "`mean_motion_rev_per_day` implies an altitude within 50 km of `altitude_km`."
    ),
    "constellations#elements": (
        "Real satellites from an element-set file: two- or three-line TLEs, or OMM as JSON, CSV or XML (CelesTrak "
        "GP).  A relative `file` starts at the scenario's folder; bad records stop the run unless `lenient = true`."
    ),
    "propagation": "How orbits are computed.  Optional.",
    "ground": (
        "The ground segment: `[ground.terminals]`, `[ground.gateways]` and `[ground.pops]`, all optional.  "
        "Without any of them (and without `[[fleets]]`) a run computes satellite positions only.  Terminals "
        "(here or in `[[fleets]]`) need `[ground.gateways]`; PoPs default to the whole shipped list.  Every "
        "gateway is backhauled by fibre to one PoP."
    ),
    "ground.terminals": (
        "User terminals that belong to no fleet: always on, never billed; their demand is "
        "`capacity.demand_bps`.  Two sources may not give the same terminal."
    ),
    "ground.terminals.sources": (
        "One table per source of terminals, told apart by `kind`; each kind accepts only its own keys (`count` "
        "on a `cities` source is an error that names `sample`).  The same sources describe a fleet's terminals, "
        "`[[fleets.terminals]]`."
    ),
    "ground.terminals.sources#cities": (
        "One terminal at each selected city of the shipped GeoNames list (places of at least 15,000 people); ids "
        "are `city:<geonameid>`.  Needs at least one of `country_iso2`, `names` or `limit`.  An unknown city "
        "name is an error listing close matches."
    ),
    "ground.terminals.sources#coordinates": "One terminal at each site you give.",
    "ground.terminals.sources.sites": (
        "A site given by its coordinates.  A terminal has one antenna, so `antenna_count` is not accepted here "
        "(it is for `[[ground.gateways.extra]]`)."
    ),
    "ground.terminals.sources#sample": (
        "`count` terminals at random points of `region`, drawn from the scenario's `seed`: the same scenario "
        "always gives the same points."
    ),
    "ground.terminals.sources#track": (
        "One terminal that moves along a recorded track (id `track:<name>`): a CSV file (a header row; `columns` "
        "maps its headers), a GPX file (`<trkpt lat lon>` with `<ele>` and `<time>`; a new `<trkseg>` is a "
        "reception gap) or a GeoJSON LineString (or MultiLineString) Feature whose `properties.coordTimes` (or "
        "`times`) holds one time per point.  Between fixes the terminal moves along the great circle; fixes more "
        "than `max_gap_s` apart leave it without a position (reason no-position), never a guessed one; before the "
        "first fix and after the last it is inactive.  An exact repeat (same time, same position) is dropped and "
        "counted in the run's notes.  Errors name the file, the line (or point), the field and the value: times "
        "going backwards, a repeated time at another position, NaN or out-of-range coordinates, a jump faster "
        "than `max_speed_mps`, a mapped column that is missing (the columns found are listed), a GPX that is not "
        "GPX or declares a DOCTYPE.  A track entirely outside the run window is a warning (the terminal is "
        "inactive during the whole run)."
    ),
    "ground.terminals.sources.columns": (
        "The headers of a CSV track's columns, as its first row writes them.  Unset keys use the key itself as "
        "the header (`time_utc`, `lat_deg`, `lon_deg`; `altitude_m` if present, else 0 m)."
    ),
    "ground.terminals.sources#route": (
        "One terminal that moves along great-circle legs between `waypoints` (id `route:<name>`): a vehicle, a "
        "ship, or an aircraft at cruise altitude (the altitude raises the horizon and changes the slant range).  "
        "Timed either by `speed_kmh` from `start_utc`, or by an `at` at every waypoint (the same place twice with "
        "two times is a stop).  The height goes linearly in time from waypoint to waypoint: give an aircraft's "
        "top of climb and top of descent as waypoints.  One pass: before the first waypoint's time and after the "
        "last one's the terminal is inactive."
    ),
    "ground.terminals.sources.waypoints": "One waypoint of a route, in order.",
    "ground.gateways": (
        "The gateways (ground stations that feed the satellites).  Select them from the shipped list (the public "
        "StarPerf list of Starlink gateways, ids GS1, GS2, ...; see leonet/data/SOURCES.md) by `country_iso2` "
        "and/or `ids`, or read your own `file`, and add sites of your own with `[[ground.gateways.extra]]`.  At "
        "least one gateway must result.  With only `extra`, only those sites are used."
    ),
    "ground.gateways.extra": "A gateway not in the list: an assumption, so say so in `note`.",
    "ground.pops": (
        "The points of presence, where the operator's network meets the internet.  Without `ids`, `names` or "
        "`extra`, every PoP of the shipped list is used.  Each gateway backhauls to the PoP `assignment` names, "
        "else to the great-circle-nearest; the backhaul delay is great-circle distance x `route_factor` / "
        "(c / `refractive_index`)."
    ),
    "ground.pops.extra": "A PoP not in the list (a site without antennas).",
    "network": "Laser links and the scheduler.  Optional.",
    "capacity": (
        "Capacity sharing.  With this table, every step shares each satellite's, beam's, laser's and gateway "
        "antenna's capacity max-min fairly among the terminals routed through it and the background subscribers "
        "around them (`background_subscribers`), and a terminal given less than `min_rate_bps` is unserved (reason "
        "capacity); `speedtest_down_mbps` / `speedtest_up_mbps` are what a speed test from each terminal would "
        "measure (its dish, the network of `as_of`).  Without it, demand, throughput and speed tests are not "
        "computed.  The defaults and their sources are in `leonet.capacity.params` and "
        "`leonet.capacity.speedtest_params`."
    ),
    "latency": (
        "What a user measures.  `rtt_ms` is the modelled round trip of a ping from the dish to its PoP: the "
        "propagation floor (`propagation_rtt_ms`) plus MAC access (framing, request-grant), processing, queueing "
        "(background load at local solar time, plus the scenario's own load with [capacity]) and the pause at "
        "each 15-s reconfiguration; `loss_prob` is the expected loss of a ping.  The few global constants of the "
        "model, with their sources and fitted values, are in `leonet.latency.params`; any of them can be "
        "overridden here (checked against physical bounds when the run is built).  Omitted: the model with its "
        "defaults."
    ),
    "probes": (
        "Ping series: one terminal pings its PoP every `interval_ms` (>= 10 ms) and the run writes the `pings` table "
        "(send time, terminal, RTT or lost), directly comparable with a real ping or irtt series.  Computed after "
        "the run from the terminal's steps, interpolated between steps of the same slot."
    ),
    "fleets": (
        "A named set of user terminals switched on together, with one service plan; a priced fleet is paid for by "
        "one sponsor at a time, as its `[[fleets.sponsors]]` timeline says.  The fleet is active in [`active_from`, `active_until`); outside it its terminals are neither "
        "served nor unserved: those terminal-steps are left out of every availability figure and cost nothing.  "
        "Terminal ids are `<fleet>/<id>`.  Fleet names are unique; policies and the cost ledger refer to them.  "
        "A fleet without `monthly_price_usd` is not billed (no sponsors needed, no ledger lines); without "
        "`active_from` it is on all the time."
    ),
    "fleets.terminals": "The fleet's terminals: the same sources, kinds and keys as `[[ground.terminals.sources]]`.",
    "fleets.sponsors": (
        "Who pays, from when.  Entries in date order; each runs until the next one's `from`, or until its own "
        "`until` (then the next must start exactly there).  The first starts at or before `active_from`; within "
        "the active window there is no gap and no overlap.  A donation is modelled as the donor paying."
    ),
    "sponsors": (
        "Declares sponsor names (optional).  When any are declared, every `sponsor` of a fleet's timeline must be "
        "one of them, so a typo cannot open a new line in the cost ledger.  Names are unique."
    ),
    "policies": (
        "Service-area rules of the operator.  At a step a terminal is denied when a deny rule in force applies to "
        "it (its fleet, inside the region), or when allow rules in force name its fleet (or all fleets) and it "
        "is inside none of their regions.  So deny wins over allow, and allow rules are a whitelist: `allow "
        "country:BR` means \"only in Brazil\" while in force.  With no allow rule in force for a terminal, "
        "service is allowed.  Windows are [`from`, `until`), either side open.  A `region` may change with time "
        "(a geofence that follows a moving line of control): a list of `{from, region}` shapes, or a GeoJSON "
        "whose features carry `valid_from`/`valid_until`; `lag_s` delays every switch.  While no shape is in "
        "force the rule is not in force."
    ),
    "policies.region": (
        "One shape of a dated region: the rule's region from `from` until the next entry's `from` (the last one "
        "stays; plus `lag_s`).  Before the first entry the rule is not in force.  Written inline, `region = "
        "[{ from = 2022-02-24, region = \"front-a.geojson\" }, ...]`, or as `[[policies.region]]` tables."
    ),
    "faults": (
        "Scheduled and random outages, told apart by `kind`, each in force in [`from`, `until`) (either side "
        "open: from the start, to the end).  Random draws are keyed by (seed, position of the fault in the list, "
        "step, entity), so they do not depend on chunking; inserting a fault before another changes the other's "
        "draws.  Gateway ids are checked against the run's gateways when the run is prepared (`leonet "
        "validate`)."
    ),
    "faults#gateway-down": "The listed gateways are down: no satellite links to them.",
    "faults#satellites-failed": (
        "Each satellite fails with probability `fraction`, drawn once for the run: a failed satellite carries no "
        "traffic while the fault is in force.  Raising the fraction with the same seed only adds failures."
    ),
    "faults#isl-lost": "Each laser link is lost with probability `fraction`, drawn once for the run.",
    "faults#jamming": (
        "Each terminal inside `region` loses its link with `probability` at each step, independently across "
        "terminals and steps."
    ),
    "faults#capacity-loss": (
        "Each terminal inside `region` (omitted: every terminal) keeps only `1 - share` of its link capacity; "
        "several such faults multiply.  Needs `[capacity]` to show in throughput."
    ),
    "ledger": (
        "The window of the cost ledger (optional).  By default each fleet is priced over its own active window, "
        "whatever the simulated window is, so a one-hour run can say what months of service cost and to whom.  "
        "A fleet without `active_until` needs `end` here."
    ),
    "output": "Where the run is written and how it is cut into chunks.  Optional.",
}

#: Example fragments by `RefTable.key`.  Each is added to `MINIMAL_EXAMPLE`
#: (its tables replace the example's) and validated by the tests.
SECTION_EXAMPLES: dict[str, str] = {
    "time": """\
[time]
start_utc = 2026-05-30T12:00:00Z
end_utc = 2026-05-30T12:10:00Z       # or duration_s = 600
step_s = 0.5
""",
    "constellations#walker": """\
[[constellations]]
kind = "walker"
name = "kuiper-like"

[[constellations.shells]]
altitude_km = 630
inclination_deg = 51.9
planes = 34
sats_per_plane = 34
phase_factor = 1
min_elevation_deg = 35

[[constellations.shells]]
altitude_km = 590
inclination_deg = 33
planes = 28
sats_per_plane = 28
""",
    "ground.terminals.sources": """\
[ground.terminals]
min_elevation_deg = 25

[[ground.terminals.sources]]
kind = "cities"
country_iso2 = "BR"
names = ["São Paulo", "Belo Horizonte", "Manaus"]

[[ground.terminals.sources]]
kind = "coordinates"
sites = [
  { name = "Fernando de Noronha school", lat_deg = -3.854, lon_deg = -32.424 },
  { name = "Tefé clinic", lat_deg = -3.354, lon_deg = -64.711, note = "assumed site" },
]

[[ground.terminals.sources]]
kind = "sample"
region = "country:BR"
count = 100
weight_by_population = true

[[ground.terminals.sources]]
kind = "route"                       # an airliner at cruise altitude
name = "Sao Paulo-Manaus flight"
speed_kmh = 830.0
start_utc = 2026-05-30T12:00:00Z
altitude_m = 10_000.0
waypoints = [{ lat_deg = -23.43, lon_deg = -46.47 }, { lat_deg = -3.04, lon_deg = -60.05 }]

# A recorded drive, replayed on the run's constellation:
# [[ground.terminals.sources]]
# kind = "track"
# file = "drive.csv"
# columns = { time_utc = "Time", lat_deg = "Latitude", lon_deg = "Longitude", altitude_m = "Alt" }
# replay_from = 2026-05-30T12:00:00Z
""",
    "ground.gateways": """\
[ground.gateways]
country_iso2 = ["BR"]                # every shipped gateway in Brazil
min_elevation_deg = 25

[[ground.gateways.extra]]
name = "Manaus (assumed)"
lat_deg = -3.119
lon_deg = -60.022
antenna_count = 8
note = "ASSUMPTION: no gateway in the public list serves the Amazon"

[ground.pops]
names = ["GRU"]                      # Sao Paulo
assignment = { "assumed:Manaus (assumed)" = "POP10" }
""",
    "capacity": """\
[capacity]
generation = "v1.5"
h3_resolution = 5
min_rate_bps = 1e6
demand_bps = 50e6
beams_per_satellite = 16             # override of the generation's figure
""",
    "fleets": """\
[[sponsors]]
name = "Ministry of Education"

[[fleets]]
name = "schools"
active_from = 2026-01-01
monthly_price_usd = 120.0
demand_mbps = 20.0
profile_utc_offset_h = -3            # Brasilia time
daily_profile = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 1.0, 1.0, 1.0, 1.0,
                 0.8, 1.0, 1.0, 1.0, 1.0, 0.6, 0.3, 0.2, 0.2, 0.1, 0.1, 0.1]

[[fleets.terminals]]
kind = "sample"
region = "country:BR"
count = 200

[[fleets.sponsors]]
sponsor = "Ministry of Education"
from = 2026-01-01

[ledger]
start = 2026-01-01
end = 2027-01-01
""",
    "policies": """\
[[policies]]
name = "service in Brazil only"
action = "allow"
region = "country:BR"

[[policies]]
name = "no service in Crimea"
action = "deny"
region = "crimea"
from = 2022-02-26

[[policies]]
name = "geofence that follows the front, a day late"
action = "deny"
lag_s = 86_400
region = [
  { from = 2022-02-24, region = "oblast:Luhansk" },    # or GeoJSON files of the line of control
  { from = 2022-09-11, region = "oblast:Donetsk" },
]
""",
    "faults": """\
[[faults]]
kind = "gateway-down"
name = "Camacari maintenance"
gateways = ["GS1"]
from = 2026-05-30T12:02:00Z
until = 2026-05-30T12:05:00Z

[[faults]]
kind = "satellites-failed"
fraction = 0.02

[[faults]]
kind = "isl-lost"
fraction = 0.1
from = 2026-05-30T12:05:00Z

[[faults]]
kind = "jamming"
region = "country:PY"
probability = 0.3

[[faults]]
kind = "capacity-loss"
share = 0.5
""",
    "output": """\
[output]
directory = "runs/{name}"
chunk_steps = 120
""",
}

#: The smallest complete scenario: a window and a constellation (orbits only).
MINIMAL_EXAMPLE = """\
[time]
start_utc = 2026-05-30T12:00:00Z
duration_s = 600

[[constellations]]
kind = "builtin"
builtin = "starlink-550"
"""

#: A complete network study, every file it needs shipped with leonet.
FULL_EXAMPLE = """\
[scenario]
name = "kuiper-brazil"
description = "Kuiper over three Brazilian cities and the countryside, one assumed gateway, service in Brazil only"
seed = 1

[time]
start_utc = 2026-05-30T12:00:00Z
duration_s = 600
step_s = 15

[[constellations]]
kind = "builtin"
builtin = "kuiper"

[[ground.terminals.sources]]
kind = "cities"
country_iso2 = "BR"
names = ["São Paulo", "Belo Horizonte", "Brasília"]

[[ground.terminals.sources]]
kind = "sample"
region = "country:BR"
count = 47

[[ground.gateways.extra]]
name = "Brasilia gateway"
lat_deg = -15.79
lon_deg = -47.88
antenna_count = 8
note = "ASSUMPTION: one Kuiper gateway near Brasilia"

[ground.pops]
names = ["GRU"]

[network]
slot_s = 15
policy = "min-latency"

[capacity]
demand_bps = 50e6

[[policies]]
name = "service in Brazil only"
action = "allow"
region = "country:BR"

[output]
directory = "runs/{name}"
"""

_REGION_FORMS = [
    (
        '`"country:<code or name>"`',
        '`"country:BR"`, `"country:BRA"`, `"country:Brazil"`',
        "A country of the shipped Natural Earth 10m admin-0 borders (German point of view: Crimea in Ukraine), by "
        "ISO 3166-1 alpha-2 or alpha-3 code or English name.  The borders are simplified (by 0.2 to 5 km), so a "
        "city on the coast can fall outside its country: Rio de Janeiro is outside `\"country:BR\"`.",
    ),
    (
        '`"admin1:<ISO 3166-2>"`, `"admin1:<country>/<name>"`',
        '`"admin1:BR-RJ"`, `"admin1:Brazil/Rio de Janeiro"`, `"admin1:US-CA"`',
        "A first-level unit (state, province, region) anywhere, by ISO 3166-2 code or by country (alpha-2, "
        "alpha-3 or English name) and unit name (case and accents ignored): the shipped Natural Earth 10m admin-1 "
        "borders (2018 codes; where Natural Earth's first level is finer than ISO's, e.g. French departments, "
        "its units).  `\"admin1:<name>\"` alone works when the name is unique world-wide.",
    ),
    (
        '`"oblast:<name>"`, `"admin1:UA-<code>"`',
        '`"oblast:Kharkiv"`, `"admin1:UA-63"`',
        "A Ukrainian oblast of the shipped geoBoundaries borders, by name (case and accents ignored, \" Oblast\" "
        "may be left out) or ISO 3166-2 code; an exact name wins: `\"oblast:Kyiv\"` is Kyiv city (UA-30), Kyiv "
        "Oblast is `\"admin1:UA-32\"`.",
    ),
    ('`"crimea"`', '`"crimea"`', "The Autonomous Republic of Crimea and Sevastopol (UA-43 + UA-40)."),
    (
        "a file path",
        '`"zones/amazon.geojson"`',
        "A GeoJSON file (FeatureCollection, Feature, Polygon or MultiPolygon; lon/lat WGS84); a relative path "
        "starts at the scenario's folder.  Any region without a `:` other than `crimea` is a path.",
    ),
]


def _example_block(text: str, fragment: bool) -> list[str]:
    return ["```toml" + (" fragment" if fragment else ""), text.rstrip("\n"), "```"]


def _conventions() -> list[str]:
    units = ", ".join(f"`{s}` {u}" for s, u in UNITS.items())
    return [
        "## Conventions",
        "",
        "- A scenario is a TOML 1.0 file in UTF-8 (or the name of a built-in scenario).  `leonet validate FILE` "
        "runs every check a run makes before its first step; `leonet run FILE` runs it.  From Python, "
        '`leonet.load_scenario(FILE, time={"duration_s": 60})` loads it with changes by table.',
        "- Unknown keys are errors, with the close match and the keys allowed there: a typo is never a setting "
        "silently ignored.  Every problem of a file is reported at once, as `FILE: field.path: what is wrong (got "
        "VALUE)`.",
        "- Tables can be written as headers or inline: `[[ground.terminals.sources]]` blocks or "
        '`sources = [{ kind = "cities", ... }]` inside `[ground.terminals]`.',
        f"- Units are in the key names: {units}.  Inside leonet everything is km, s, rad and bit/s; `_mbps` keys "
        "are Mbit/s for readability.",
        "- Times are UTC.  A TOML date (`2022-02-26`) is 00:00 UTC that day; a date-time or ISO string without an "
        "offset is UTC; one with an offset is converted.  Every window is half-open, [`from`, `until`).",
        "- Files named in a scenario (element sets, a gateway CSV, GeoJSON regions) are found from the "
        "scenario's folder when relative; `output.directory` from the working directory.",
        '- A default of "unset" means the key is absent, and the meaning says what that does; "defaults" means '
        "the table may be left out, all its keys taking their defaults.",
        "",
    ]


def _regions() -> list[str]:
    out = [
        '<a id="region-specs"></a>',
        "",
        "## Region specs",
        "",
        "Keys named `region` (`sample` terminal sources, `[[policies]]`, `jamming` and `capacity-loss` faults) "
        "take one of these forms:",
        "",
        "| form | examples | meaning |",
        "|---|---|---|",
    ]
    out += [f"| {form} | {ex} | {_cell(meaning)} |" for form, ex, meaning in _REGION_FORMS]
    return out + [""]


def _builtins() -> list[str]:
    out = [
        '<a id="built-in-constellations"></a>',
        "",
        "## Built-in constellations",
        "",
        'Names for `builtin = ...` in a `kind = "builtin"` constellation (`leonet scenarios --constellations` '
        "lists them with their sizes).  `walker`: shells from filed parameters, epoch `start_utc`; `elements`: a "
        "real element-set snapshot shipped with leonet.",
        "",
        "| name | kind | what it is |",
        "|---|---|---|",
    ]
    out += [f"| `{name}` | {kind} | {_cell(desc)} |" for name, (kind, desc) in BUILTIN_CONSTELLATIONS.items()]
    out += ["", "## Built-in scenarios", "", "Names `leonet run` and `leonet validate` take instead of a file:", ""]
    out += ["| name | what it is |", "|---|---|"]
    out += [f"| `{name}` | {_cell(desc)} |" for name, desc in builtin_scenarios().items()]
    return out + [""]


def render_reference() -> str:
    """The scenario reference in Markdown: what docs/scenario.md holds.

    Returns
    -------
    str
        Markdown, ending in a newline; the same text on every call.

    Raises
    ------
    ValueError
        A field without a description, or a table without an entry in
        `INTROS` (a schema change the reference must document).

    Examples
    --------
    >>> text = render_reference()
    >>> text.splitlines()[0]
    '# Scenario reference'
    >>> row = next(line for line in text.splitlines() if line.startswith("| `altitude_km` | number | km |"))
    >>> row.split(" | ")[3:5]
    ['**required**', '[150, 40000]']
    """
    tables = reference_tables()
    keys = {t.key for t in tables}
    missing = sorted(keys - set(INTROS))
    if missing:
        raise ValueError(f"tables without an intro in reference.INTROS: {', '.join(missing)}")
    stale = sorted((set(INTROS) | set(SECTION_EXAMPLES)) - keys)
    if stale:
        raise ValueError(f"reference.INTROS/SECTION_EXAMPLES name tables the schema does not have: {', '.join(stale)}")
    links = {t.members: t for t in tables if t.kind is None and t.same_as is None}

    out = [
        "# Scenario reference",
        "",
        "<!-- Generated from the schema by tools/scenario_reference.py (leonet.scenario.reference); do not edit: "
        "change the field descriptions in src/leonet/scenario/ or the texts in reference.py and run "
        "`python tools/scenario_reference.py`. -->",
        "",
        "A scenario is one TOML file: a simulated window, the satellites, the ground segment, and optionally "
        "capacity, fleets, service policies, faults and a cost ledger.  This page lists every table and every "
        "key, with its type, unit, default, allowed values, meaning and an example.",
        "",
        "## The smallest scenario",
        "",
        "A window and a constellation: the run computes satellite positions only.",
        "",
        *_example_block(MINIMAL_EXAMPLE, fragment=False),
        "",
        "## A complete network study",
        "",
        "Kuiper over Brazil: terminals in three cities and 47 more where people live, one assumed gateway, the "
        "PoP in Sao Paulo, capacity sharing and a geofence (service in Brazil only).  Every file it needs ships "
        "with leonet.  The built-in scenario `ukraine` (`leonet scenarios`) adds fleets, sponsors and faults.",
        "",
        *_example_block(FULL_EXAMPLE, fragment=False),
        "",
        "Blocks marked `toml fragment` below are parts of a scenario: add them to a complete one.",
        "",
        *_conventions(),
        "## Tables",
        "",
        "The top level of the file holds only tables:",
        "",
        *_rows(RefTable("", False, Scenario), links),
        "",
        "All of them, nested:",
        "",
    ]
    for t in tables:
        if t.kind is not None:
            continue
        indent = "  " * t.path.count(".")
        more = " (by kind)" if t.union and t.same_as is None else ""
        out.append(f"{indent}- [`{t.header}`{more}](#{t.anchor})")
    out.append("")

    for t in tables:
        title = t.header if t.kind is None else f'{t.header} kind = "{t.kind}"'
        out += [f'<a id="{t.anchor}"></a>', "", f"{'#' * t.level} {title}", "", INTROS[t.key], ""]
        if t.same_as is not None:
            out += [f"Same keys as [`{t.same_as.header}`](#{t.same_as.anchor}).", ""]
        elif t.union and t.kind is None:
            kinds = [u for u in tables if u.path == t.path and u.kind is not None]
            out += ["Kinds: " + ", ".join(f'[`"{u.kind}"`](#{u.anchor})' for u in kinds) + ".", ""]
        else:
            out += [*_rows(t, links), ""]
        if t.key in SECTION_EXAMPLES:
            out += ["Example:", "", *_example_block(SECTION_EXAMPLES[t.key], fragment=True), ""]
    out += [*_regions(), *_builtins()]
    text = "\n".join(out).rstrip("\n") + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)
