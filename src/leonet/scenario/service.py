"""The scenario tables of the service layer: fleets, sponsors, policies, faults, ledger.

These models are validated once, when the scenario is loaded, like the rest
of `leonet.scenario.schema`: every model forbids unknown keys and is frozen.
Checks that need more than one table (a policy naming a fleet, a timeline
naming a sponsor) are in `service_problems`, which returns every problem at
once with its field path.

The tables
----------
``[[fleets]]``
    A named set of user terminals that are switched on together, share one
    service plan and are paid for by one sponsor at a time.  Terminals are
    given by ``[[fleets.terminals]]`` sources, exactly as in
    ``[[ground.terminals.sources]]`` (`~leonet.scenario.schema.TerminalSource`:
    ``cities``, ``coordinates`` or ``sample``).  A fleet is *active* in
    ``[active_from, active_until)``; outside it its terminals are not
    simulated as served or unserved: inactive terminal-steps are left out of
    every availability figure (they are not failures) and cost nothing.
    ``monthly_price_usd`` is the price of one terminal for one calendar month
    (prorated by the second, see `leonet.service.costs`); ``demand_mbps`` is
    what one terminal asks for; ``daily_profile`` (optional, 24 values)
    multiplies the demand hour by hour.
``[[fleets.sponsors]]``
    Who pays, from when: ``{sponsor = "...", from = DATE}`` entries in date
    order.  An entry runs until the next one starts (or until its own
    optional ``until``).  The first must start at or before ``active_from``;
    entries may not overlap and, within the active window, may not leave a
    gap.  A donation is modelled as the donor paying.
``[[sponsors]]`` (optional)
    Declares sponsor names (and a note).  When any are declared, every name a
    timeline uses must be one of them, so a typo cannot silently open a new
    line in the cost ledger.
``[[policies]]``
    Service-area rules of the operator: ``action = "allow"`` or ``"deny"``
    inside ``region`` (any `~leonet.ground.regions.load_region` spec; omitted:
    everywhere), during ``[from, until)`` (each optional), for the ``fleets``
    named (omitted: every terminal).  See `leonet.service.policy` for the
    precedence: deny wins; allow rules act as a whitelist.  A ``region`` may
    also be a dated sequence of shapes, ``[{from = DATE, region = "..."},
    ...]`` (or a GeoJSON whose features carry ``valid_from``/``valid_until``),
    switched ``lag_s`` seconds late (`DatedRegionSpec`).
``[[faults]]``
    Scheduled and random outages, told apart by ``kind``:
    ``gateway-down``, ``satellites-failed``, ``isl-lost``, ``jamming`` and
    ``capacity-loss`` (see `leonet.service.faults`).
``[ledger]`` (optional)
    ``start`` / ``end`` of the cost ledger.  By default the ledger covers the
    fleets' own active windows, whatever the simulated window is, so a one-hour
    run can still say what a month of service costs and to whom.

Times
-----
Every time is UTC and every window is half-open ``[from, until)``.  A TOML
date (``2022-02-26``) means 00:00 UTC that day; a TOML local date-time or an
ISO string without an offset is taken as UTC; an offset date-time is
converted to UTC.

A complete example
------------------
.. code-block:: toml

    [[sponsors]]
    name = "SpaceX (donation)"
    note = "terminals and service donated from 2022-02-26"

    [[sponsors]]
    name = "Government of Poland"
    note = "pays for the service of the donated terminals"

    [[fleets]]
    name = "donated-2022"
    active_from = 2022-02-26
    # active_until omitted: the fleet stays on
    monthly_price_usd = 500.0        # per terminal and calendar month (assumed business plan)
    demand_mbps = 20.0               # per terminal
    daily_profile = [0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.0,
                     1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.7, 0.5]
    profile_utc_offset_h = 2         # the profile is in local time UTC+2 (Kyiv, winter)

    [[fleets.terminals]]
    kind = "sample"
    region = "country:UA"
    count = 1000

    [[fleets.sponsors]]
    sponsor = "SpaceX (donation)"
    from = 2022-02-26

    [[fleets.sponsors]]
    sponsor = "Government of Poland"
    from = 2023-06-16

    [[policies]]
    name = "no service in Crimea"
    action = "deny"
    region = "crimea"
    from = 2022-02-26

    [[policies]]
    name = "donated terminals work in Ukraine only"
    action = "allow"
    region = "country:UA"
    fleets = ["donated-2022"]

    [[faults]]
    kind = "gateway-down"
    name = "Kaunas gateway maintenance"
    gateways = ["GS221"]
    from = 2026-05-30T12:20:00Z
    until = 2026-05-30T12:40:00Z

    [[faults]]
    kind = "satellites-failed"
    fraction = 0.02                   # each satellite fails with probability 2 % (seeded)
    from = 2026-05-30T12:30:00Z

    [[faults]]
    kind = "isl-lost"
    fraction = 0.1

    [[faults]]
    kind = "jamming"
    region = "oblast:Donetsk"
    probability = 0.3                 # per terminal and step

    [[faults]]
    kind = "capacity-loss"
    region = "oblast:Kharkiv"
    share = 0.5                       # half of each terminal's link capacity lost

    [ledger]
    start = 2022-02-26
    end = 2024-01-01
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import Field, ValidationError, field_validator, model_validator

from ..errors import ScenarioError
from ..timebase import parse_utc
from .base import Strict, format_validation_errors
from .sources import TerminalSource

__all__ = [
    "SponsorSpec",
    "SponsorPeriod",
    "FleetSpec",
    "PolicySpec",
    "DatedRegionSpec",
    "GatewayDownFault",
    "SatellitesFailedFault",
    "IslLostFault",
    "JammingFault",
    "CapacityLossFault",
    "FaultSpec",
    "LedgerSpec",
    "ServiceTables",
    "service_problems",
    "parse_service_tables",
    "to_utc",
    "FAULT_KINDS",
]

FAULT_KINDS = ("gateway-down", "satellites-failed", "isl-lost", "jamming", "capacity-loss")


def to_utc(value: Any) -> dt.datetime:
    """A timezone-aware UTC datetime from a TOML date, date-time or ISO string.

    A date is 00:00 UTC that day; a naive date-time is taken as UTC.

    Raises
    ------
    ScenarioError
        For text that is not ISO 8601 or a value of another type.
    """
    if isinstance(value, dt.datetime):
        return parse_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    if isinstance(value, str):
        return parse_utc(value)
    raise ScenarioError(
        f"{value!r} is not a time; write a TOML date (2022-02-26) or date-time (2022-02-26T00:00:00Z)"
    )


def _utc_or_none(value):
    if value is None:
        return None
    try:
        return to_utc(value)
    except ScenarioError as exc:  # pydantic wants ValueError; ScenarioError is one, keep its text
        raise ValueError(str(exc)) from None


def _iso(when: dt.datetime | None) -> str:
    if when is None:
        return "(open)"
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond:06d}"
    return text + "Z"


def _days(delta: dt.timedelta) -> str:
    days = delta.total_seconds() / 86400.0
    return f"{days:g} day{'' if days == 1 else 's'}"


def _check_window(start: dt.datetime | None, end: dt.datetime | None, start_key: str, end_key: str) -> None:
    if start is not None and end is not None and end <= start:
        raise ValueError(
            f"{end_key} = {_iso(end)} is not after {start_key} = {_iso(start)}; a window is [{start_key}, {end_key}) "
            f"and must not be empty: fix: swap them or set {end_key} later than {start_key}"
        )


def _fraction(value: float, key: str, meaning: str) -> float:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{key} must be a fraction in [0, 1] ({meaning}); fix: write e.g. 0.05 for 5 %")
    return float(value)


# --------------------------------------------------------------------------
# Sponsors and fleets
# --------------------------------------------------------------------------


class SponsorSpec(Strict):
    """A declared sponsor: whoever pays for a fleet's service for a while."""

    name: str = Field(
        min_length=1,
        max_length=200,
        description="The sponsor's name, as [[fleets.sponsors]] entries and the cost ledger name it.",
        json_schema_extra={"examples": ["Government of Poland"]},
    )
    note: str = Field(
        "",
        description="Free text: who this is, what is assumed.",
        json_schema_extra={"examples": ["pays for the service of the donated terminals"]},
    )


class SponsorPeriod(Strict):
    """One entry of a fleet's sponsor timeline: ``sponsor`` pays from ``from``.

    The entry runs until the next entry's ``from``, or until its own
    ``until`` when given (then the next entry must start exactly there).
    """

    sponsor: str = Field(
        min_length=1,
        max_length=200,
        description="Who pays; when [[sponsors]] are declared, one of their names.",
        json_schema_extra={"examples": ["SpaceX (donation)"]},
    )
    from_: dt.datetime = Field(
        alias="from",
        description="UTC; the sponsor pays from this moment on",
        json_schema_extra={"examples": ["2022-02-26"]},
    )
    until: dt.datetime | None = Field(
        None,
        description="UTC, exclusive; default: when the next entry starts",
        json_schema_extra={"examples": ["2023-06-16"]},
    )
    note: str = Field("", description="Free text about this period.", json_schema_extra={"examples": ["contract 2023"]})

    _utc = field_validator("from_", "until", mode="before")(_utc_or_none)

    @model_validator(mode="after")
    def _window(self):
        _check_window(self.from_, self.until, "from", "until")
        return self


class FleetSpec(Strict):
    """A named set of user terminals with one service plan and a sponsor timeline."""

    name: str = Field(
        min_length=1,
        max_length=100,
        description="Name of the fleet, unique; policies and the ledger refer to it, and its terminal ids are "
        "`<fleet>/<id>` (no '/' in it).",
        json_schema_extra={"examples": ["schools"]},
    )
    terminals: list[TerminalSource] = Field(
        description="Where the fleet's terminals are: [[fleets.terminals]] sources, as [[ground.terminals.sources]]."
    )
    active_from: dt.datetime | None = Field(
        None,
        description="UTC; the fleet's terminals are switched on at this moment; omitted: on all the time (a priced fleet "
        "or a sponsor timeline needs it).",
        json_schema_extra={"examples": ["2022-02-26"]},
    )
    active_until: dt.datetime | None = Field(None, description="UTC, exclusive; omitted: never switched off")
    #: Price of one terminal for one calendar month, USD (prorated by the second).
    monthly_price_usd: float | None = Field(
        None,
        description="Price of one terminal for one calendar month, prorated by the second; >= 0 (0: a free plan); "
        "omitted: the fleet is not billed (no sponsor timeline, no ledger lines).",
        json_schema_extra={"examples": [500.0]},
    )
    #: Traffic one terminal asks for, Mbit/s (before the daily profile).
    demand_mbps: float | None = Field(
        None,
        description="Traffic one terminal asks for, before the daily profile, when [capacity] is on; omitted: "
        "[capacity] demand_bps, like any terminal.",
        json_schema_extra={"examples": [20.0]},
    )
    #: 24 hourly multipliers of the demand; entry h applies from h:00 to h:59
    #: local time (UTC + profile_utc_offset_h).  0 = silent, 1 = demand_mbps,
    #: above 1 = a peak above the plan's nominal demand.
    daily_profile: list[float] | None = Field(
        None,
        description="24 multipliers of demand_mbps, one per local hour (entry 0: 00:00-00:59); omitted: flat.",
        json_schema_extra={"examples": [[0.3] * 6 + [0.7] * 3 + [1.0] * 12 + [0.7] * 3]},
    )
    profile_utc_offset_h: int = Field(
        0,
        ge=-12,
        le=14,
        description="Offset from UTC of the local time daily_profile is written in, whole hours; no daylight saving.",
        json_schema_extra={"examples": [-3]},
    )
    min_elevation_deg: float = Field(
        25.0,
        ge=0.0,
        lt=90.0,
        description="Elevation mask of the fleet's terminals (the larger of it and the satellite's applies).",
    )
    sponsors: list[SponsorPeriod] = Field(
        default_factory=list,
        description="Who pays, from when: the [[fleets.sponsors]] timeline, in date order, covering the active window; "
        "needed when the fleet has a price.",
    )
    note: str = Field("", description="Free text about the fleet.", json_schema_extra={"examples": ["one terminal per school"]})

    _utc = field_validator("active_from", "active_until", mode="before")(_utc_or_none)

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str) -> str:
        if value != value.strip() or "/" in value:
            raise ValueError(
                "a fleet name may not start or end with spaces or contain '/' (it prefixes terminal ids as "
                "'<fleet>/<id>'); fix: rename the fleet"
            )
        return value

    @field_validator("terminals")
    @classmethod
    def _some_terminals(cls, value: list) -> list:
        if not value:
            raise ValueError(
                "the fleet has no terminals; fix: add at least one [[fleets.terminals]] source "
                '(kind = "cities", "coordinates" or "sample", as in [[ground.terminals.sources]])'
            )
        return value

    @field_validator("monthly_price_usd")
    @classmethod
    def _price(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value >= 0.0):
            raise ValueError(
                "monthly_price_usd must be a finite number >= 0 (USD per terminal and month; 0 for a free plan); "
                "fix: write the price as a positive number, e.g. 500.0"
            )
        return value

    @field_validator("demand_mbps")
    @classmethod
    def _demand(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value >= 0.0):
            raise ValueError("demand_mbps must be a finite number >= 0 (Mbit/s per terminal); fix: e.g. 20.0")
        return value

    @field_validator("daily_profile")
    @classmethod
    def _profile(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return None
        if len(value) != 24:
            raise ValueError(
                f"daily_profile has {len(value)} values; it needs 24, one multiplier per hour of the day "
                "(entry 0 = 00:00-00:59); fix: give 24 values or leave daily_profile out for a flat demand"
            )
        bad = [h for h, v in enumerate(value) if not (math.isfinite(v) and v >= 0.0)]
        if bad:
            raise ValueError(
                f"daily_profile[{bad[0]}] = {value[bad[0]]!r}; multipliers must be finite and >= 0 "
                "(0 = silent hour, 1 = demand_mbps); fix that value"
            )
        return value

    @property
    def billed(self) -> bool:
        """Whether the fleet has a price (and so a sponsor timeline and ledger lines)."""
        return self.monthly_price_usd is not None

    @model_validator(mode="after")
    def _timeline(self):
        _check_window(self.active_from, self.active_until, "active_from", "active_until")
        if self.billed and self.active_from is None:
            raise ValueError(
                "a priced fleet needs active_from (its bills start then); fix: set active_from = DATE, or leave "
                "monthly_price_usd out for a fleet that is not billed"
            )
        if self.billed and not self.sponsors:
            raise ValueError(
                "the fleet has a price but no sponsor timeline; fix: add a [[fleets.sponsors]] entry such as "
                '{ sponsor = "SpaceX (donation)", from = 2022-02-26 } starting at or before active_from, or leave '
                "monthly_price_usd out for a fleet that is not billed"
            )
        if self.sponsors and self.active_from is None:
            raise ValueError(
                "a sponsor timeline needs active_from (it must cover the active window from its start); fix: set "
                "active_from = DATE"
            )
        if self.sponsors:
            problems = sponsor_timeline_problems(self.sponsors, self.active_from, self.active_until, self.name)
            if problems:
                raise ValueError("; ".join(problems))
        return self

    def sponsor_segments(self) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
        """The timeline as ``(sponsor, start, end)`` segments, end exclusive (None: open).

        Only the part inside the active window is returned; segments are in
        time order and neither overlap nor leave gaps there.
        """
        out = []
        entries = list(self.sponsors)
        for k, entry in enumerate(entries):
            end = entry.until
            if end is None and k + 1 < len(entries):
                end = entries[k + 1].from_
            start = max(entry.from_, self.active_from)
            if self.active_until is not None:
                end = self.active_until if end is None else min(end, self.active_until)
            if end is not None and end <= start:
                continue
            out.append((entry.sponsor, start, end))
        return out


def sponsor_timeline_problems(
    entries: Sequence[SponsorPeriod], active_from: dt.datetime, active_until: dt.datetime | None, fleet: str = ""
) -> list[str]:
    """Every gap, overlap and ordering problem of a sponsor timeline.

    Each message names the entry (``sponsors[k].from``), the bad value and
    the fix.  Rules: entries in date order; the first starts at or before
    ``active_from``; an entry with ``until`` ends exactly where the next one
    starts (earlier is a gap, later an overlap); the last entry, when it has
    ``until``, reaches ``active_until``; no entry starts at or after
    ``active_until``.
    """
    out: list[str] = []
    label = f"fleet {fleet!r}" if fleet else "the fleet"
    if not entries:
        return ["sponsors: the timeline is empty; fix: add an entry starting at or before active_from"]
    first = entries[0]
    if first.from_ > active_from:
        out.append(
            f"sponsor timeline gap: sponsors[0].from = {_iso(first.from_)} is after active_from = {_iso(active_from)}, "
            f"so nobody pays for the first {_days(first.from_ - active_from)} of {label}; fix: set sponsors[0].from = "
            f"{_iso(active_from)} (or earlier), or move active_from to {_iso(first.from_)}"
        )
    for k in range(1, len(entries)):
        prev, cur = entries[k - 1], entries[k]
        if cur.from_ < prev.from_:
            out.append(
                f"sponsor timeline out of order: sponsors[{k}].from = {_iso(cur.from_)} is before "
                f"sponsors[{k - 1}].from = {_iso(prev.from_)}; fix: list the entries in date order"
            )
        elif cur.from_ == prev.from_:
            out.append(
                f"sponsor timeline overlap: sponsors[{k - 1}] ({prev.sponsor!r}) and sponsors[{k}] ({cur.sponsor!r}) "
                f"both start at {_iso(cur.from_)}; fix: remove one, or change sponsors[{k}].from to when "
                f"{cur.sponsor!r} takes over"
            )
        elif prev.until is not None and prev.until < cur.from_:
            out.append(
                f"sponsor timeline gap: sponsors[{k - 1}].until = {_iso(prev.until)} but sponsors[{k}].from = "
                f"{_iso(cur.from_)}, so nobody pays for {_days(cur.from_ - prev.until)} of {label}; fix: set "
                f"sponsors[{k - 1}].until = {_iso(cur.from_)}, or leave 'until' out (an entry runs until the next starts)"
            )
        elif prev.until is not None and prev.until > cur.from_:
            out.append(
                f"sponsor timeline overlap: sponsors[{k - 1}] ({prev.sponsor!r}) runs until {_iso(prev.until)} but "
                f"sponsors[{k}] ({cur.sponsor!r}) starts at {_iso(cur.from_)}, so both would pay for "
                f"{_days(prev.until - cur.from_)}; fix: set sponsors[{k - 1}].until = {_iso(cur.from_)}, or leave "
                "'until' out (an entry runs until the next starts)"
            )
    last = entries[-1]
    if last.until is not None and (active_until is None or last.until < active_until):
        end = "stays active (no active_until)" if active_until is None else f"is active until {_iso(active_until)}"
        out.append(
            f"sponsor timeline gap: {label} {end} but the last entry, sponsors[{len(entries) - 1}] "
            f"({last.sponsor!r}), ends at until = {_iso(last.until)}, and nobody pays after it; fix: add an entry "
            f"from {_iso(last.until)}, leave 'until' out, or set active_until = {_iso(last.until)}"
        )
    if active_until is not None:
        for k, entry in enumerate(entries):
            if entry.from_ >= active_until:
                out.append(
                    f"sponsors[{k}].from = {_iso(entry.from_)} is at or after active_until = {_iso(active_until)}: "
                    f"{entry.sponsor!r} would never pay for {label}; fix: remove the entry or extend active_until"
                )
    return out


# --------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------


class DatedRegionSpec(Strict):
    """One shape of a dated region: in force from ``from`` until the next entry's ``from`` (the last: on)."""

    from_: dt.datetime = Field(
        alias="from",
        description="UTC; this shape is the rule's region from this moment until the next entry's from (the last one "
        "stays); before the first entry the rule is not in force.",
        json_schema_extra={"examples": ["2022-02-24"]},
    )
    region: str = Field(
        min_length=1,
        description="A region spec (country:, oblast:/admin1:, crimea, or a GeoJSON path).",
        json_schema_extra={"examples": ["front-2022-02.geojson"]},
    )

    _utc = field_validator("from_", mode="before")(_utc_or_none)


def _is_builtin_region(spec: str) -> bool:
    """A built-in region name (country:, oblast:, admin1:, crimea), not a file: the rule of `sources.region_is_file`."""
    from .sources import region_is_file

    return not region_is_file(spec)


class PolicySpec(Strict):
    """An operator rule: allow or deny service inside a region, for a while, to some fleets."""

    name: str = Field(
        "", description="Name of the rule in notes and the report.", json_schema_extra={"examples": ["Brazil only"]}
    )
    action: Literal["allow", "deny"] = Field(
        description='"deny": no service inside region; "allow": while in force, service only inside the regions of '
        "the allow rules that apply."
    )
    region: str | list[DatedRegionSpec] | None = Field(
        None,
        description="A region spec (country:, oblast:/admin1:, crimea, or a GeoJSON path; a GeoJSON whose features "
        "carry valid_from/valid_until properties is a dated sequence of shapes), or a dated sequence "
        "[{from, region}, ...] in time order (each shape until the next); omitted: everywhere.",
        json_schema_extra={"examples": ["country:BR"]},
    )
    lag_s: float = Field(
        0.0,
        ge=0.0,
        le=31_622_400.0,
        description="Delay of every switch of a dated region: the operator's geofence follows the shapes this many "
        "seconds late; only with a dated region.",
        json_schema_extra={"examples": [3600.0]},
    )
    fleets: list[str] | None = Field(
        None,
        description="Names of the fleets the rule applies to; omitted: every terminal, in a fleet or not.",
        json_schema_extra={"examples": [["schools"]]},
    )
    from_: dt.datetime | None = Field(
        None,
        alias="from",
        description="UTC; the rule is in force from this moment; omitted: always before until.",
        json_schema_extra={"examples": ["2022-02-26"]},
    )
    until: dt.datetime | None = Field(
        None,
        description="UTC, exclusive; the rule ends here; omitted: never.",
        json_schema_extra={"examples": ["2026-05-30T12:30:00Z"]},
    )

    _utc = field_validator("from_", "until", mode="before")(_utc_or_none)

    @field_validator("fleets")
    @classmethod
    def _fleets(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("fleets is an empty list, so the rule would apply to nobody; fix: name fleets or leave "
                             "'fleets' out to apply the rule to every terminal")
        if value is not None and len(set(value)) != len(value):
            dup = sorted({v for v in value if value.count(v) > 1})
            raise ValueError(f"fleets names {', '.join(map(repr, dup))} twice; fix: name each fleet once")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value):
        if isinstance(value, str) and not value.strip():
            raise ValueError("region is empty; fix: a region spec such as \"country:UA\", or leave region out for everywhere")
        if not isinstance(value, list):
            return value
        if not value:
            raise ValueError("region is an empty list of dated shapes; fix: give [{from = DATE, region = \"...\"}, ...] "
                             "or a single region spec")
        for k in range(1, len(value)):
            if value[k].from_ <= value[k - 1].from_:
                raise ValueError(
                    f"region[{k}].from = {_iso(value[k].from_)} is not after region[{k - 1}].from = "
                    f"{_iso(value[k - 1].from_)}; each shape runs until the next one's from, so they must be in time "
                    "order; fix: sort the entries by from and remove duplicates"
                )
        return value

    @model_validator(mode="after")
    def _window(self):
        _check_window(self.from_, self.until, "from", "until")
        if self.lag_s > 0 and (self.region is None or (isinstance(self.region, str) and _is_builtin_region(self.region))):
            raise ValueError(
                f"lag_s = {self.lag_s:g} delays the switches of a dated region, but region = "
                f"{self.region!r} never switches; fix: give region as [{{from = DATE, region = \"...\"}}, ...] (or a "
                "GeoJSON with valid_from/valid_until), or remove lag_s"
            )
        return self

    @property
    def dated(self) -> bool:
        """The region is a dated sequence given in the scenario (a dated GeoJSON is known when it is read)."""
        return isinstance(self.region, list)

    def region_text(self) -> str:
        """``"crimea"``, ``"everywhere"`` or ``"a dated region of 3 shapes from 2022-02-24T00:00:00Z"``."""
        if self.region is None:
            return "everywhere"
        if isinstance(self.region, str):
            return self.region
        n = len(self.region)
        return f"a dated region of {n} shape{'s' if n != 1 else ''} from {_iso(self.region[0].from_)}"

    def label(self) -> str:
        """Short human description: ``"deny crimea"``, or ``"'no Crimea': deny crimea"`` when named."""
        text = f"{self.action} {self.region_text()}"
        return f"{self.name!r}: {text}" if self.name else text


# --------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------


class _FaultBase(Strict):
    name: str = Field(
        "", description="Name of the fault in notes and the report.", json_schema_extra={"examples": ["Kaunas outage"]}
    )
    from_: dt.datetime | None = Field(
        None,
        alias="from",
        description="UTC; omitted: from the start",
        json_schema_extra={"examples": ["2026-05-30T12:20:00Z"]},
    )
    until: dt.datetime | None = Field(
        None,
        description="UTC, exclusive; omitted: to the end",
        json_schema_extra={"examples": ["2026-05-30T12:40:00Z"]},
    )

    _utc = field_validator("from_", "until", mode="before")(_utc_or_none)

    @model_validator(mode="after")
    def _window(self):
        _check_window(self.from_, self.until, "from", "until")
        return self

    def label(self) -> str:
        return self.name or self.kind


class GatewayDownFault(_FaultBase):
    """Gateways (by id) are down during the window."""

    kind: Literal["gateway-down"] = Field(description="Gateways are down: no satellite links to them.")
    gateways: list[str] = Field(
        description="Ids of the run's gateways (GS1, ... from the shipped list; `assumed:<name>` for extra ones).",
        json_schema_extra={"examples": [["GS221"]]},
    )

    @field_validator("gateways")
    @classmethod
    def _some(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('gateways is empty; fix: list gateway ids, e.g. gateways = ["GS221"]')
        return value


class SatellitesFailedFault(_FaultBase):
    """Each satellite fails with probability ``fraction`` (seeded) during the window."""

    kind: Literal["satellites-failed"] = Field(
        description="Random satellites fail (chosen once per run from the seed) and carry no traffic."
    )
    fraction: float = Field(
        description="Probability that each satellite fails, in [0, 1].", json_schema_extra={"examples": [0.02]}
    )

    @field_validator("fraction")
    @classmethod
    def _f(cls, value):
        return _fraction(value, "fraction", "the share of satellites that fail")


class IslLostFault(_FaultBase):
    """Each laser link is lost with probability ``fraction`` (seeded) during the window."""

    kind: Literal["isl-lost"] = Field(description="Random laser links are lost (chosen once per run from the seed).")
    fraction: float = Field(
        description="Probability that each laser link is lost, in [0, 1].", json_schema_extra={"examples": [0.1]}
    )

    @field_validator("fraction")
    @classmethod
    def _f(cls, value):
        return _fraction(value, "fraction", "the share of laser links lost")


class JammingFault(_FaultBase):
    """Terminals in ``region`` lose their link with ``probability`` at each step."""

    kind: Literal["jamming"] = Field(description="Terminals in a region lose their link at random steps.")
    region: str = Field(
        min_length=1,
        description="A region spec (country:, oblast:/admin1:, crimea, or a GeoJSON path).",
        json_schema_extra={"examples": ["oblast:Donetsk"]},
    )
    probability: float = Field(
        description="Chance that a terminal in the region loses its link at a step, in [0, 1], drawn per terminal "
        "and step.",
        json_schema_extra={"examples": [0.3]},
    )

    @field_validator("probability")
    @classmethod
    def _p(cls, value):
        return _fraction(value, "probability", "the chance a terminal in the region loses its link at a step")


class CapacityLossFault(_FaultBase):
    """Terminals in ``region`` (omitted: all) lose ``share`` of their link capacity."""

    kind: Literal["capacity-loss"] = Field(description="Terminals keep only part of their link capacity.")
    region: str | None = Field(
        None,
        min_length=1,
        description="A region spec (country:, oblast:/admin1:, crimea, or a GeoJSON path); omitted: every terminal.",
        json_schema_extra={"examples": ["oblast:Kharkiv"]},
    )
    share: float = Field(
        description="Share of each terminal's link capacity lost, in [0, 1]; several such faults multiply.",
        json_schema_extra={"examples": [0.5]},
    )

    @field_validator("share")
    @classmethod
    def _s(cls, value):
        return _fraction(value, "share", "the share of each terminal's link capacity lost")


FaultSpec = Annotated[
    Union[GatewayDownFault, SatellitesFailedFault, IslLostFault, JammingFault, CapacityLossFault],
    Field(discriminator="kind"),
]


class LedgerSpec(Strict):
    """The window of the cost ledger (default: the fleets' active windows)."""

    start: dt.datetime | None = Field(
        None,
        description="UTC; the ledger prices service from here; omitted: each fleet from its active_from.",
        json_schema_extra={"examples": ["2022-02-26"]},
    )
    end: dt.datetime | None = Field(
        None,
        description="UTC, exclusive; omitted: each fleet until its active_until (then every fleet needs one).",
        json_schema_extra={"examples": ["2024-01-01"]},
    )

    _utc = field_validator("start", "end", mode="before")(_utc_or_none)

    @model_validator(mode="after")
    def _window(self):
        _check_window(self.start, self.end, "start", "end")
        return self


# --------------------------------------------------------------------------
# Across tables
# --------------------------------------------------------------------------


def _unknown(kind: str, value: str, known: Sequence[str], declare: str) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    listed = ", ".join(map(repr, known)) if known else "(none)"
    return f"no {kind} named {value!r}; {hint}known: {listed}; fix: {declare}"


def service_problems(
    fleets: Sequence[FleetSpec] = (),
    sponsors: Sequence[SponsorSpec] = (),
    policies: Sequence[PolicySpec] = (),
    faults: Sequence[Any] = (),
) -> list[str]:
    """Problems that involve more than one service table, each with its field path.

    Checks: fleet names are unique; sponsor names are unique; when any
    ``[[sponsors]]`` are declared, every timeline entry names one of them;
    every fleet a policy names exists.  (Gateway ids in faults need the ground
    segment and are checked by `~leonet.service.faults.FaultSchedule`.)

    Returns
    -------
    list of str
        ``"fleets[2].name: ..."``-style messages; empty when all is well.
    """
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, f in enumerate(fleets):
        if f.name in seen:
            out.append(
                f"fleets[{i}].name: {f.name!r} is already the name of fleets[{seen[f.name]}]; fix: give each fleet "
                "its own name (policies and the ledger refer to fleets by name)"
            )
        else:
            seen[f.name] = i
    names = [s.name for s in sponsors]
    for i, s in enumerate(sponsors):
        if names.index(s.name) != i:
            out.append(f"sponsors[{i}].name: {s.name!r} is declared twice (also sponsors[{names.index(s.name)}]); "
                       "fix: remove one")
    if sponsors:
        for i, f in enumerate(fleets):
            for k, entry in enumerate(f.sponsors):
                if entry.sponsor not in names:
                    out.append(
                        f"fleets[{i}].sponsors[{k}].sponsor: "
                        + _unknown("sponsor", entry.sponsor, names, "correct the spelling or declare it in a [[sponsors]] table")
                    )
    fleet_names = [f.name for f in fleets]
    for i, p in enumerate(policies):
        for j, name in enumerate(p.fleets or ()):
            if name not in fleet_names:
                out.append(
                    f"policies[{i}].fleets[{j}]: "
                    + _unknown("fleet", name, fleet_names, "correct the name or add a [[fleets]] table with that name")
                )
    return out


class ServiceTables(Strict):
    """The service tables on their own (what `parse_service_tables` validates).

    The scenario schema holds the same fields at its top level; this model
    lets them be validated, tested and reused without the rest of a scenario.
    """

    fleets: list[FleetSpec] = Field(default_factory=list)
    sponsors: list[SponsorSpec] = Field(default_factory=list)
    policies: list[PolicySpec] = Field(default_factory=list)
    faults: list[FaultSpec] = Field(default_factory=list)
    ledger: LedgerSpec = Field(default_factory=LedgerSpec)

    @model_validator(mode="after")
    def _across(self):
        problems = service_problems(self.fleets, self.sponsors, self.policies, self.faults)
        if problems:
            raise ValueError("\n".join(problems))
        return self


def parse_service_tables(data: Mapping[str, Any], source: str = "<service tables>") -> ServiceTables:
    """Validate the service tables of a parsed TOML document.

    Parameters
    ----------
    data : mapping
        The TOML document (only the keys ``fleets``, ``sponsors``,
        ``policies``, ``faults`` and ``ledger`` are read).
    source : str
        The file, for messages.

    Raises
    ------
    ScenarioError
        Listing every problem as ``SOURCE: field.path: what is wrong (got
        VALUE); fix: ...``.
    """
    keys = ("fleets", "sponsors", "policies", "faults", "ledger")
    try:
        return ServiceTables.model_validate({k: data[k] for k in keys if k in data})
    except ValidationError as err:
        raise ScenarioError(format_validation_errors(ServiceTables, source, err), source=source) from None
