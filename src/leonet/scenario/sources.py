"""Sites and terminal sources: the scenario models shared by the ground segment and the fleets.

Terminal sources
----------------
`TerminalSource` is a discriminated union told apart by ``kind``; each kind
accepts only its own keys, so ``count = 50`` on a ``kind = "cities"`` source
is an error naming the kind that takes ``count`` (``"sample"``), never a
setting silently ignored:

``kind = "cities"`` (`CitiesSource`)
    GeoNames cities (shipped, >= 15,000 people), filtered by
    ``country_iso2``, ``names``, ``min_population`` and ``limit``.
``kind = "coordinates"`` (`CoordinatesSource`)
    Explicit ``sites`` (name, lat_deg, lon_deg, altitude_km, note); a
    terminal has one antenna, so ``antenna_count`` is not accepted.
``kind = "sample"`` (`SampleSource`)
    ``count`` points in ``region`` (``"country:UA"``, ``"oblast:Kharkiv"``,
    ``"crimea"`` or a GeoJSON path), weighted by population unless
    ``weight_by_population = false``.
``kind = "track"`` (`TrackSource`)
    One moving terminal along the timestamped fixes of a ``file`` (CSV with
    a ``columns`` mapping, GPX, or GeoJSON LineString with ``coordTimes``),
    optionally replayed from ``replay_from``; see `leonet.ground.motion`.
``kind = "route"`` (`RouteSource`)
    One moving terminal along great-circle legs between ``waypoints``, at
    ``speed_kmh`` from ``start_utc`` or at a time given at every waypoint.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import PurePath
from typing import Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

from .base import Strict

__all__ = [
    "SiteSpec",
    "TerminalSiteSpec",
    "TerminalSource",
    "CitiesSource",
    "CoordinatesSource",
    "SampleSource",
    "TrackColumns",
    "TrackSource",
    "WaypointSpec",
    "RouteSource",
    "TERMINAL_SOURCE_KINDS",
    "MOVING_SOURCE_KINDS",
    "TRACK_SUFFIXES",
    "region_is_file",
]


def region_is_file(region: str) -> bool:
    """Whether a region spec names a GeoJSON file (else a built-in: ``"country:UA"``, ``"oblast:..."``, ``"crimea"``).

    The one rule for every ``region`` of a scenario: what is not a built-in
    name is a path, resolved from the scenario's folder.

    >>> region_is_file("country:UA"), region_is_file("crimea"), region_is_file("zone.geojson")
    (False, False, True)
    """
    return ":" not in region and region.strip().lower() != "crimea"


class TerminalSiteSpec(Strict):
    """A site given by its coordinates; as a terminal it has one antenna."""

    name: str = Field(
        min_length=1,
        max_length=200,
        description="Name of the site in the results (and, for extra gateways and PoPs, its id `assumed:<name>`).",
        json_schema_extra={"examples": ["Manaus school"]},
    )
    lat_deg: float = Field(
        ge=-90.0, le=90.0, description="Geodetic latitude (WGS84), north positive.", json_schema_extra={"examples": [-3.119]}
    )
    lon_deg: float = Field(
        ge=-180.0, le=180.0, description="Longitude (WGS84), east positive.", json_schema_extra={"examples": [-60.0217]}
    )
    altitude_km: float = Field(
        0.0,
        ge=-0.5,
        le=10.0,
        description="Height above the WGS84 ellipsoid.",
        json_schema_extra={"examples": [0.09]},
    )
    note: str = Field(
        "", description="Free text: where the site comes from, what is assumed.", json_schema_extra={"examples": ["assumed site"]}
    )


class SiteSpec(TerminalSiteSpec):
    """A site given by its coordinates, with its number of antennas (gateways)."""

    antenna_count: int = Field(
        1,
        ge=1,
        le=1000,
        description="Antennas of the gateway: how many satellites it can link to at once.",
        json_schema_extra={"examples": [8]},
    )


class CitiesSource(Strict):
    """Terminals at GeoNames cities (the shipped list of places of >= 15,000 people)."""

    kind: Literal["cities"] = Field(description="Terminals at the selected cities of the shipped GeoNames list (per_city each).")
    country_iso2: str | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="Keep the cities of this country (ISO 3166-1 alpha-2).",
        json_schema_extra={"examples": ["BR"]},
    )
    names: list[str] | None = Field(
        None,
        description="Keep these cities, in this order (case, accents and hyphens ignored; within country_iso2; the "
        "most populous of homonyms).",
        json_schema_extra={"examples": [["São Paulo", "Rio de Janeiro", "Manaus"]]},
    )
    min_population: int = Field(
        0, ge=0, description="Keep cities of at least this many people.", json_schema_extra={"examples": [100000]}
    )
    limit: int | None = Field(
        None,
        ge=1,
        description="Keep the limit most populous cities left by the other filters.",
        json_schema_extra={"examples": [100]},
    )
    per_city: int = Field(
        1,
        ge=1,
        le=100_000,
        description="Terminals at each selected city; more than one are spread uniformly over a disc of spread_km "
        "around its centre (seeded).",
        json_schema_extra={"examples": [20]},
    )
    spread_km: float = Field(
        10.0,
        ge=0.0,
        le=200.0,
        description="Radius of the disc the terminals of one city are spread over, km (when per_city > 1).",
        json_schema_extra={"examples": [15.0]},
    )

    @model_validator(mode="after")
    def _some_filter(self):
        if self.country_iso2 is None and self.names is None and self.limit is None:
            raise ValueError('kind = "cities" needs at least one of "country_iso2", "names" or "limit"')
        return self


class CoordinatesSource(Strict):
    """Terminals at explicit sites."""

    kind: Literal["coordinates"] = Field(description="One terminal at each site given by its coordinates.")
    sites: list[TerminalSiteSpec] = Field(min_length=1, description="The sites, one table each (one antenna each).")


class SampleSource(Strict):
    """``count`` terminals sampled in a region."""

    kind: Literal["sample"] = Field(description="Places `count` terminals at random points of a region (seeded).")
    region: str = Field(
        min_length=1,
        description="Where the points fall: a region spec (country:, oblast:/admin1:, crimea, or a GeoJSON path).",
        json_schema_extra={"examples": ["country:BR"]},
    )
    count: int = Field(ge=1, le=10_000_000, description="Number of terminals.", json_schema_extra={"examples": [50]})
    weight_by_population: bool = Field(
        True,
        description="true: near the region's cities in proportion to their population (within 10 km); false: "
        "uniform by area.",
    )


def _utc(value):
    """A UTC datetime from a TOML date, date-time or ISO text (a date is 00:00 UTC; a naive time is UTC)."""
    from ..timebase import parse_utc

    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    if isinstance(value, (str, dt.datetime)):
        try:
            return parse_utc(value)
        except ValueError as exc:  # ScenarioError is a ValueError; pydantic wants one, the text is kept
            raise ValueError(str(exc)) from None
    raise ValueError(f"{value!r} is not a time; write a TOML date-time such as 2026-05-30T12:00:00Z")


#: Suffixes that tell a track file's format (the one rule; `leonet.ground.motion` reads it).
TRACK_SUFFIXES = {".csv": "csv", ".txt": "csv", ".gpx": "gpx", ".geojson": "geojson", ".json": "geojson"}
_NAMED_TIME_FORMATS = ("iso8601", "unix_s", "unix_ms")


class TrackColumns(Strict):
    """Which column of a CSV track holds what: the header of each (as written in the file's first row)."""

    time_utc: str = Field(
        "time_utc", min_length=1, description="Header of the column with each fix's time (see time_format).",
        json_schema_extra={"examples": ["Time"]},
    )
    lat_deg: str = Field(
        "lat_deg", min_length=1, description="Header of the latitude column (degrees north, WGS84).",
        json_schema_extra={"examples": ["Latitude"]},
    )
    lon_deg: str = Field(
        "lon_deg", min_length=1, description="Header of the longitude column (degrees east, WGS84).",
        json_schema_extra={"examples": ["Longitude"]},
    )
    altitude_m: str | None = Field(
        None, min_length=1,
        description="Header of the altitude column (metres above the ellipsoid); unset: a column named altitude_m "
        "if there is one, else 0 m (said in the run's notes).",
        json_schema_extra={"examples": ["Altitude (m)"]},
    )


class TrackSource(Strict):
    """One moving terminal along the timestamped fixes of a file (a recorded drive, voyage or flight)."""

    kind: Literal["track"] = Field(description="One terminal that moves along a recorded track (CSV, GPX or GeoJSON).")
    file: str = Field(
        min_length=1,
        description="The track file: .csv (header row; see columns), .gpx (<trkpt> with <time>) or .geojson (a "
        "LineString Feature whose properties hold coordTimes); relative paths start at the scenario's folder.",
        json_schema_extra={"examples": ["tracks/drive.gpx"]},
    )
    format: Literal["csv", "gpx", "geojson"] | None = Field(
        None, description="The file's format; unset: from its suffix (.csv .txt, .gpx, .geojson .json)."
    )
    name: str | None = Field(
        None, min_length=1, max_length=200,
        description="Name of the terminal in the results (its id is track:<name>); unset: the file's name without "
        "its suffix.",
        json_schema_extra={"examples": ["Osnabrueck car"]},
    )
    columns: TrackColumns = Field(
        default_factory=TrackColumns,
        description="CSV only: the headers of the time, latitude, longitude and altitude columns, when the file "
        "names them otherwise.",
    )
    time_format: str | None = Field(
        None,
        description='CSV and GeoJSON: how times are written: "iso8601", "unix_s", "unix_ms" or a strptime format '
        "(%d.%m.%Y %H:%M:%S; a time without an offset is UTC); unset: ISO 8601 or Unix seconds, as the first fix is.",
        json_schema_extra={"examples": ["%d.%m.%Y %H:%M:%S"]},
    )
    replay_from: dt.datetime | None = Field(
        None,
        description="UTC; shifts the whole track so that its first fix is at this moment (a past drive replayed "
        "on the run's constellation); unset: the track runs at its own times.",
        json_schema_extra={"examples": ["2026-05-30T12:00:00Z"]},
    )
    max_gap_s: float = Field(
        60.0, gt=0.0, le=31_622_400.0,
        description="Fixes further apart than this are not joined: between them the terminal has no position "
        "(reason no-position), never a guessed one.",
    )
    max_speed_mps: float = Field(
        1500.0, gt=0.0, le=10_000.0,
        description="Fastest ground speed implied between two fixes; a faster jump is an error (a glitch in the log).",
    )

    _times = field_validator("replay_from", mode="before")(_utc)

    @field_validator("time_format")
    @classmethod
    def _time_format(cls, value: str | None) -> str | None:
        if value is None or value in _NAMED_TIME_FORMATS:
            return value
        probe = dt.datetime(2021, 11, 22, 13, 44, 55)
        try:
            ok = "%" in value and dt.datetime.strptime(probe.strftime(value), value) is not None
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"time_format {value!r} is neither one of {', '.join(map(repr, _NAMED_TIME_FORMATS))} nor a strptime "
                'format that reads back what it writes; fix: e.g. time_format = "%d.%m.%Y %H:%M:%S" or "unix_s"'
            )
        return value

    @model_validator(mode="after")
    def _format_and_keys(self):
        fmt = self.format or TRACK_SUFFIXES.get(PurePath(self.file).suffix.lower())
        if fmt is None:
            raise ValueError(
                f"cannot tell the format of file = {self.file!r} from its suffix; fix: set format = \"csv\", \"gpx\" "
                'or "geojson", or name the file .csv, .gpx or .geojson'
            )
        # By value, not by the keys given: a scenario dumped and validated again (a worker) holds the defaults.
        if fmt != "csv" and self.columns != TrackColumns():
            raise ValueError(f"columns maps the headers of a CSV file, but {self.file!r} is {fmt}; fix: remove columns")
        if fmt == "gpx" and self.time_format is not None:
            raise ValueError("time_format does not apply to GPX (its times are ISO 8601 by the standard); fix: remove it")
        return self


class WaypointSpec(Strict):
    """One waypoint of a route."""

    lat_deg: float = Field(ge=-90.0, le=90.0, description="Geodetic latitude (WGS84), north positive.",
                           json_schema_extra={"examples": [50.45]})
    lon_deg: float = Field(ge=-180.0, le=180.0, description="Longitude (WGS84), east positive.",
                           json_schema_extra={"examples": [30.52]})
    altitude_m: float | None = Field(
        None, ge=-500.0, le=30_000.0,
        description="Height above the WGS84 ellipsoid here; unset: the route's altitude_m.",
        json_schema_extra={"examples": [10_000.0]},
    )
    at: dt.datetime | None = Field(
        None, description="UTC; when the terminal is here (give it at every waypoint, or use speed_kmh and start_utc).",
        json_schema_extra={"examples": ["2026-05-30T12:00:00Z"]},
    )

    _times = field_validator("at", mode="before")(_utc)


class RouteSource(Strict):
    """One moving terminal along great-circle legs between waypoints (a vehicle, a ship, an aircraft)."""

    kind: Literal["route"] = Field(description="One terminal that moves along waypoints joined by great circles.")
    name: str = Field(
        min_length=1, max_length=200, description="Name of the terminal in the results (its id is route:<name>).",
        json_schema_extra={"examples": ["LH400 Frankfurt-New York"]},
    )
    waypoints: list[WaypointSpec] = Field(
        min_length=2,
        description="The waypoints, in order; the terminal moves along the great circle from each to the next.",
    )
    speed_kmh: float | None = Field(
        None, gt=0.0, le=36_000.0,
        description="Ground speed along every leg, from start_utc; unset: give 'at' at every waypoint.",
        json_schema_extra={"examples": [900.0]},
    )
    start_utc: dt.datetime | None = Field(
        None, description="UTC; when the terminal leaves the first waypoint (with speed_kmh).",
        json_schema_extra={"examples": ["2026-05-30T12:00:00Z"]},
    )
    altitude_m: float = Field(
        0.0, ge=-500.0, le=30_000.0,
        description="Height above the ellipsoid of waypoints that give none (an airliner at cruise: ~10,000 m; it "
        "changes the horizon and the slant range).",
        json_schema_extra={"examples": [10_000.0]},
    )
    max_speed_mps: float = Field(
        1500.0, gt=0.0, le=10_000.0, description="Fastest ground speed implied between timed waypoints (or speed_kmh)."
    )

    _times = field_validator("start_utc", mode="before")(_utc)

    @model_validator(mode="after")
    def _timing(self):
        timed = [k for k, w in enumerate(self.waypoints) if w.at is not None]
        if self.speed_kmh is not None:
            if self.start_utc is None:
                raise ValueError("speed_kmh needs start_utc (when the terminal leaves the first waypoint); fix: add "
                                 "start_utc = 2026-05-30T12:00:00Z")
            if timed:
                raise ValueError(f"waypoints[{timed[0]}].at is given with speed_kmh: a route is timed by one or the "
                                 "other; fix: remove speed_kmh and start_utc, or every 'at'")
            if not math.isfinite(self.speed_kmh) or self.speed_kmh / 3.6 > self.max_speed_mps:
                raise ValueError(f"speed_kmh = {self.speed_kmh:g} is {self.speed_kmh / 3.6:g} m/s, above max_speed_mps = "
                                 f"{self.max_speed_mps:g}; fix: check the unit (km/h) or raise max_speed_mps")
            return self
        if self.start_utc is not None:
            raise ValueError("start_utc is given without speed_kmh; fix: add speed_kmh, or give 'at' at every waypoint "
                             "instead")
        if len(timed) != len(self.waypoints):
            missing = next(k for k, w in enumerate(self.waypoints) if w.at is None)
            raise ValueError(f"waypoints[{missing}] has no 'at': a route without speed_kmh needs a time at every "
                             "waypoint; fix: give every 'at', or speed_kmh and start_utc")
        for k in range(1, len(self.waypoints)):
            if self.waypoints[k].at <= self.waypoints[k - 1].at:
                raise ValueError(f"waypoints[{k}].at = {self.waypoints[k].at.isoformat()} is not after "
                                 f"waypoints[{k - 1}].at = {self.waypoints[k - 1].at.isoformat()}; times must "
                                 "increase; fix: order the waypoints by time")
        return self


#: One source of user terminals, told apart by ``kind``.
TerminalSource = Annotated[
    Union[CitiesSource, CoordinatesSource, SampleSource, TrackSource, RouteSource], Field(discriminator="kind")
]

#: The ``kind`` of each terminal source model.
TERMINAL_SOURCE_KINDS = ("cities", "coordinates", "sample", "track", "route")

#: The kinds whose terminal moves (`leonet.ground.motion`).
MOVING_SOURCE_KINDS = ("track", "route")
