"""The scenario file: its schema, validated once at load.

A scenario is a TOML file (or the name of a built-in one) with these tables:

``[scenario]``
    name, description, seed.
``[time]``
    ``start_utc`` and either ``duration_s`` or ``end_utc``; ``step_s``;
    ``ut1_minus_utc_s``.
``[[constellations]]``
    one entry per source, told apart by ``kind``: ``"builtin"`` (a named
    constellation), ``"walker"`` (shells from parameters) or ``"elements"``
    (a TLE/OMM file).  Sources are concatenated in order.
``[ground]``
    terminals, gateways and PoPs.
``[network]``
    laser links, scheduler and backhaul settings.
``[output]``
    the run's output directory and chunking.

Every model forbids unknown keys, so a typo is an error, not a silently
ignored setting.  `leonet.scenario.load` turns pydantic's errors into one
message per problem naming the file, the field path, the bad value and what
is allowed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..capacity.spec import CapacitySpec
from ..orbits.walker import MAX_ALTITUDE_KM, MIN_ALTITUDE_KM, WalkerShell
from ..service.spec import FaultSpec, FleetSpec, LedgerSpec, PolicySpec, SponsorSpec, service_problems
from ..timebase import parse_utc
from .sources import SiteSpec, TerminalSource, _Strict

__all__ = [
    "Scenario",
    "ScenarioMeta",
    "TimeSpec",
    "BuiltinConstellation",
    "WalkerConstellation",
    "ElementsConstellation",
    "ShellSpec",
    "GroundSpec",
    "TerminalSource",
    "GatewaySpec",
    "PopSpec",
    "NetworkSpec",
    "OutputSpec",
]


class ScenarioMeta(_Strict):
    name: str = Field("unnamed", min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(0, ge=0, description="seed of every random choice in the run")


#: Most time steps a scenario may have (10**8: 800 MB of int64 offsets alone).
MAX_STEPS = 100_000_000


class TimeSpec(_Strict):
    start_utc: dt.datetime = Field(description="ISO 8601 UTC start, e.g. 2026-05-30T12:00:00Z")
    duration_s: float | None = Field(None, gt=0, le=366 * 86400)
    end_utc: dt.datetime | None = None
    step_s: float = Field(1.0, gt=0, le=86400)
    ut1_minus_utc_s: float = Field(0.0, ge=-0.9, le=0.9, description="UT1 - UTC, |value| < 0.9 s")

    @field_validator("start_utc", "end_utc", mode="before")
    @classmethod
    def _utc(cls, value):
        return None if value is None else parse_utc(value)

    @field_validator("step_s")
    @classmethod
    def _whole_ns(cls, value):
        if abs(value * 1e9 - round(value * 1e9)) > 1e-3:
            raise ValueError(f"step_s must be a whole number of nanoseconds, got {value!r}")
        return value

    @model_validator(mode="after")
    def _window(self):
        if self.duration_s is None and self.end_utc is None:
            raise ValueError("give either duration_s or end_utc")
        if self.duration_s is not None and self.end_utc is not None:
            raise ValueError("give duration_s or end_utc, not both")
        if self.end_utc is not None and self.end_utc <= self.start_utc:
            raise ValueError(
                f"end_utc {self.end_utc.isoformat()} is not after start_utc {self.start_utc.isoformat()}"
            )
        if self.step_ns > self.duration_ns:
            raise ValueError(f"step_s = {self.step_s} is longer than the whole window ({self.duration_ns / 1e9:g} s)")
        if self.step_ns < 1:
            raise ValueError(f"step_s = {self.step_s!r} is shorter than 1 ns, the grid's resolution; use a larger step_s")
        steps = -(-self.duration_ns // self.step_ns)
        if steps > MAX_STEPS:
            # The grid holds one int64 offset per step (and every table a row per step).
            raise ValueError(
                f"the window of {self.duration_ns / 1e9:g} s at step_s = {self.step_s:g} has {steps:,} steps; leonet "
                f"allows at most {MAX_STEPS:,} (about 3 years at 1 s): use a larger step_s or a shorter window"
            )
        try:
            self.start_utc + dt.timedelta(microseconds=self.duration_ns // 1000)
        except OverflowError:
            raise ValueError(
                f"the window from start_utc {self.start_utc.isoformat()} for {self.duration_ns / 1e9:g} s ends after "
                "the year 9999; move start_utc earlier or shorten the window"
            ) from None
        return self

    @property
    def duration_ns(self) -> int:
        if self.duration_s is not None:
            return int(round(self.duration_s * 1e9))
        return int(round((self.end_utc - self.start_utc).total_seconds() * 1e9))

    @property
    def step_ns(self) -> int:
        return int(round(self.step_s * 1e9))


class ShellSpec(_Strict):
    name: str | None = None
    altitude_km: float = Field(ge=MIN_ALTITUDE_KM, le=MAX_ALTITUDE_KM)
    inclination_deg: float = Field(ge=0.0, le=180.0)
    planes: int = Field(ge=1, le=10_000)
    sats_per_plane: int = Field(ge=1, le=10_000)
    phase_factor: int = Field(0, ge=0)
    phasing: Literal["walker", "hypatia"] = "walker"
    mean_motion_rev_per_day: float | None = Field(None, gt=0.0, lt=17.0)
    min_elevation_deg: float = Field(25.0, ge=0.0, lt=90.0)
    raan_offset_deg: float = Field(0.0, ge=0.0, lt=360.0)

    def to_shell(self, default_name: str) -> WalkerShell:
        return WalkerShell(
            name=self.name or default_name,
            altitude_km=self.altitude_km,
            inclination_deg=self.inclination_deg,
            planes=self.planes,
            sats_per_plane=self.sats_per_plane,
            phase_factor=self.phase_factor,
            phasing=self.phasing,
            mean_motion_rev_per_day=self.mean_motion_rev_per_day,
            min_elevation_deg=self.min_elevation_deg,
            raan_offset_deg=self.raan_offset_deg,
        )

    @model_validator(mode="after")
    def _physical(self):
        # WalkerShell checks phase factor and altitude/mean-motion agreement.
        self.to_shell(self.name or "shell")
        return self


class BuiltinConstellation(_Strict):
    kind: Literal["builtin"] = "builtin"
    builtin: str = Field(description="name of a built-in constellation (leonet scenarios --constellations)")
    min_elevation_deg: float | None = Field(None, ge=0.0, lt=90.0)

    @field_validator("builtin")
    @classmethod
    def _known(cls, value):
        from ..orbits.constellation import builtin_names, unknown_builtin

        if value not in builtin_names():
            raise ValueError(str(unknown_builtin(value)))
        return value


class WalkerConstellation(_Strict):
    kind: Literal["walker"]
    name: str = Field(min_length=1)
    shells: list[ShellSpec] = Field(min_length=1)


class ElementsConstellation(_Strict):
    kind: Literal["elements"]
    name: str = Field(min_length=1)
    file: str = Field(min_length=1, description="TLE (2/3-line) or OMM (JSON/CSV/XML) file")
    lenient: bool = False
    min_elevation_deg: float = Field(25.0, ge=0.0, lt=90.0)


ConstellationSpec = Annotated[
    Union[BuiltinConstellation, WalkerConstellation, ElementsConstellation], Field(discriminator="kind")
]


class TerminalSpec(_Strict):
    sources: list[TerminalSource] = Field(min_length=1)
    min_elevation_deg: float = Field(25.0, ge=0.0, lt=90.0)


class GatewaySpec(_Strict):
    country_iso2: list[str] | None = None
    ids: list[str] | None = None
    file: str | None = Field(None, description="a CSV with the columns of the shipped gateway list")
    extra: list[SiteSpec] = Field(default_factory=list, description="sites not in the list (assumptions)")
    min_elevation_deg: float = Field(25.0, ge=0.0, lt=90.0)


class PopSpec(_Strict):
    ids: list[str] | None = None
    names: list[str] | None = None
    extra: list[SiteSpec] = Field(default_factory=list)
    #: Fibre route length / great-circle distance (1.5 is typical of terrestrial
    #: routes; see docs/design.md for the source).
    route_factor: float = Field(1.5, ge=1.0, le=5.0)
    #: Group index of silica fibre (1.468 at 1550 nm, SMF-28).
    refractive_index: float = Field(1.468, ge=1.0, le=2.0)
    assignment: dict[str, str] = Field(default_factory=dict, description="gateway id -> PoP id; else nearest")


class GroundSpec(_Strict):
    terminals: TerminalSpec | None = None
    gateways: GatewaySpec | None = None
    pops: PopSpec | None = None


class NetworkSpec(_Strict):
    isl: Literal["plus-grid", "none"] = "plus-grid"
    #: Lowest altitude a laser beam may pass (atmosphere), km.
    isl_min_beam_altitude_km: float = Field(80.0, ge=0.0, le=1000.0)
    slot_s: float = Field(15.0, ge=0.0, le=3600.0, description="scheduler slot; 0 = reassign every step")
    #: Phase of the slot boundaries: this many seconds past each UTC minute,
    #: modulo the slot (Starlink: 12, 27, 42, 57 s; leonet.scheduling.slots).
    slot_offset_s: float = Field(12.0, ge=0.0, lt=3600.0, description="slot boundaries this many s past each UTC minute (mod slot_s)")
    policy: Literal["min-latency", "max-elevation", "longest-visible"] = "min-latency"

    @model_validator(mode="after")
    def _offset_within_slot(self):
        # The default (12 s) is taken modulo shorter slots (e.g. 2 s for 10 s
        # slots: boundaries still fall on :12); a value given explicitly must
        # lie in [0, slot_s).
        if self.slot_s > 0 and "slot_offset_s" in self.model_fields_set and self.slot_offset_s >= self.slot_s:
            raise ValueError(
                f"slot_offset_s = {self.slot_offset_s:g} must be less than slot_s = {self.slot_s:g} "
                "(boundaries fall slot_offset_s past each UTC minute, modulo the slot; Starlink: 12 with 15 s slots)"
            )
        return self


class OutputSpec(_Strict):
    directory: str = Field("runs/{name}", min_length=1)
    chunk_steps: int = Field(600, ge=1, le=1_000_000)


class PropagationSpec(_Strict):
    #: Evaluate SGP4 every this many seconds (from the epoch) and interpolate
    #: between (cubic Hermite on positions and velocities; < 1 m error at 30 s,
    #: measured in tests/orbits/test_interpolation.py).  0 = SGP4 at every step.
    sgp4_node_s: float = Field(30.0, ge=0.0, le=120.0)


class Scenario(_Strict):
    scenario: ScenarioMeta = Field(default_factory=ScenarioMeta)
    time: TimeSpec
    constellations: list[ConstellationSpec] = Field(min_length=1)
    propagation: PropagationSpec = Field(default_factory=PropagationSpec)
    ground: GroundSpec = Field(default_factory=GroundSpec)
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    capacity: CapacitySpec | None = None
    fleets: list[FleetSpec] = Field(default_factory=list)
    sponsors: list[SponsorSpec] = Field(default_factory=list)
    policies: list[PolicySpec] = Field(default_factory=list)
    faults: list[FaultSpec] = Field(default_factory=list)
    ledger: LedgerSpec = Field(default_factory=LedgerSpec)
    output: OutputSpec = Field(default_factory=OutputSpec)

    @model_validator(mode="after")
    def _across_tables(self):
        problems = service_problems(self.fleets, self.sponsors, self.policies, self.faults)
        if problems:
            raise ValueError("\n".join(problems))
        return self
