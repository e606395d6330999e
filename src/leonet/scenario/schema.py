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

from pydantic import Field, field_validator, model_validator

from ..kepler import MAX_ALTITUDE_KM, MIN_ALTITUDE_KM, walker_shell_problems
from ..timebase import parse_utc
from .base import Strict
from .capacity import CapacitySpec
from .latency import LatencySpec, ProbeSpec
from .catalog import (
    BUILTIN_CONSTELLATIONS,
    GATEWAY_CATALOG_NAMES,
    POP_ASSIGNMENT_NAMES,
    POP_CATALOG_NAMES,
    unknown_constellation_message,
)
from .service import FaultSpec, FleetSpec, LedgerSpec, PolicySpec, SponsorSpec, service_problems
from .sources import SiteSpec, TerminalSiteSpec, TerminalSource

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


class ScenarioMeta(Strict):
    name: str = Field(
        "unnamed",
        min_length=1,
        max_length=100,
        description="Name of the scenario: it fills `{name}` in output.directory and heads the report.",
        json_schema_extra={"examples": ["kuiper-brazil"]},
    )
    description: str = Field(
        "",
        description="One line on what the scenario studies, shown by `leonet scenarios` and in the report.",
        json_schema_extra={"examples": ["Kuiper over three Brazilian cities, one gateway, service in Brazil only"]},
    )
    seed: int = Field(
        0,
        ge=0,
        description="Seed of every random choice of the run (sampled terminals, random faults): the same seed "
        "gives bit-identical results.",
        json_schema_extra={"examples": [20220226]},
    )


#: Most time steps a scenario may have (10**8: 800 MB of int64 offsets alone).
MAX_STEPS = 100_000_000


class TimeSpec(Strict):
    start_utc: dt.datetime = Field(
        description="The first simulated instant: a TOML date-time or an ISO 8601 string; without an offset it is "
        "taken as UTC.",
        json_schema_extra={"examples": ["2026-05-30T12:00:00Z"]},
    )
    duration_s: float | None = Field(
        None,
        gt=0,
        le=366 * 86400,
        description="Length of the simulated window; give either this or end_utc.",
        json_schema_extra={"examples": [3600]},
    )
    end_utc: dt.datetime | None = Field(
        None,
        description="End of the simulated window (exclusive); give either this or duration_s.",
        json_schema_extra={"examples": ["2026-05-30T13:00:00Z"]},
    )
    step_s: float = Field(
        1.0,
        gt=0,
        le=86400,
        description="Time between two simulated steps: a whole number of nanoseconds, at most the window.",
        json_schema_extra={"examples": [5]},
    )
    ut1_minus_utc_s: float = Field(
        0.0,
        ge=-0.9,
        le=0.9,
        description="UT1 - UTC for the simulated date (IERS Bulletin A); 0 leaves at most 0.9 s of Earth rotation "
        "error, under 0.5 km at the equator.",
        json_schema_extra={"examples": [0.05]},
    )

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


class ShellSpec(Strict):
    name: str | None = Field(
        None,
        description="Name of the shell in the results; omitted: `<constellation name>-<k>`, k counting from 1.",
        json_schema_extra={"examples": ["kuiper-630"]},
    )
    altitude_km: float = Field(
        ge=MIN_ALTITUDE_KM,
        le=MAX_ALTITUDE_KM,
        description="Altitude of the circular orbits above the WGS72 equatorial radius (6378.135 km).",
        json_schema_extra={"examples": [630]},
    )
    inclination_deg: float = Field(
        ge=0.0,
        le=180.0,
        description="Inclination of every plane; above 90 is retrograde (sun-synchronous shells are near 97-99).",
        json_schema_extra={"examples": [51.9]},
    )
    planes: int = Field(
        ge=1,
        le=10_000,
        description="Number of orbital planes, spread evenly in right ascension over 360 deg (Walker delta).",
        json_schema_extra={"examples": [34]},
    )
    sats_per_plane: int = Field(
        ge=1,
        le=10_000,
        description="Satellites in each plane, evenly spaced in mean anomaly.",
        json_schema_extra={"examples": [34]},
    )
    phase_factor: int = Field(
        0,
        ge=0,
        description="Walker F (i:T/P/F), at most planes - 1: plane p is shifted by p * F * 360 / (planes * "
        "sats_per_plane) deg in mean anomaly; ignored when phasing = \"hypatia\".",
        json_schema_extra={"examples": [1]},
    )
    phasing: Literal["walker", "hypatia"] = Field(
        "walker",
        description='"walker": offsets from phase_factor; "hypatia": odd planes shifted by half a slot, as '
        "Hypatia's satgenpy generates its shells.",
    )
    mean_motion_rev_per_day: float | None = Field(
        None,
        gt=0.0,
        lt=17.0,
        description="Mean motion to use instead of the Keplerian one of altitude_km; the altitude it implies must "
        "be within 50 km of altitude_km.",
        json_schema_extra={"examples": [15.19]},
    )
    min_elevation_deg: float = Field(
        25.0,
        ge=0.0,
        lt=90.0,
        description="Lowest elevation at which a terminal may use a satellite of this shell; a terminal uses the "
        "larger of this and its own mask.",
        json_schema_extra={"examples": [35]},
    )
    raan_offset_deg: float = Field(
        0.0,
        ge=0.0,
        lt=360.0,
        description="Right ascension of the ascending node of plane 0; the other planes follow at 360 / planes.",
        json_schema_extra={"examples": [5.0]},
    )

    @model_validator(mode="after")
    def _physical(self):
        problems = walker_shell_problems(
            self.altitude_km, self.inclination_deg, self.planes, self.sats_per_plane, self.phase_factor,
            self.min_elevation_deg, self.mean_motion_rev_per_day,
        )
        if problems:
            raise ValueError(f"shell {(self.name or 'shell')!r}: " + "; ".join(problems))
        return self


class BuiltinConstellation(Strict):
    kind: Literal["builtin"] = Field("builtin", description="Selects a built-in constellation.")
    builtin: str = Field(
        description="Name of a built-in constellation (listed by `leonet scenarios --constellations`).",
        json_schema_extra={"examples": ["kuiper"]},
    )
    min_elevation_deg: float | None = Field(
        None,
        ge=0.0,
        lt=90.0,
        description="Terminal elevation mask of every satellite of it; omitted: the constellation's own (Starlink 25, "
        "Kuiper 35, OneWeb and Telesat 10 deg).",
        json_schema_extra={"examples": [35]},
    )

    @field_validator("builtin")
    @classmethod
    def _known(cls, value):
        if value not in BUILTIN_CONSTELLATIONS:
            raise ValueError(unknown_constellation_message(value))
        return value


class WalkerConstellation(Strict):
    kind: Literal["walker"] = Field(description="Selects shells built from Walker-delta parameters.")
    name: str = Field(
        min_length=1,
        description="Name of the constellation in the results and in capacity.generation_by_constellation.",
        json_schema_extra={"examples": ["toy"]},
    )
    shells: list[ShellSpec] = Field(min_length=1, description="The shells, one [[constellations.shells]] table each.")


class ElementsConstellation(Strict):
    kind: Literal["elements"] = Field(description="Selects satellites from an element-set file (TLE or OMM).")
    name: str = Field(
        min_length=1,
        description="Name of the constellation in the results and in capacity.generation_by_constellation.",
        json_schema_extra={"examples": ["starlink-2026-06-01"]},
    )
    file: str = Field(
        min_length=1,
        description="TLE (2- or 3-line) or OMM (JSON, CSV or XML) file; a relative path starts at the scenario's "
        "folder.",
        json_schema_extra={"examples": ["elements/starlink.tle"]},
    )
    lenient: bool = Field(
        False, description="Skip bad element-set records with a warning instead of stopping (like `run --lenient`)."
    )
    min_elevation_deg: float = Field(
        25.0, ge=0.0, lt=90.0, description="Terminal elevation mask of every satellite of the file."
    )


ConstellationSpec = Annotated[
    Union[BuiltinConstellation, WalkerConstellation, ElementsConstellation], Field(discriminator="kind")
]


class TerminalSpec(Strict):
    sources: list[TerminalSource] = Field(
        min_length=1, description="Where the terminals are, one [[ground.terminals.sources]] table per source."
    )
    min_elevation_deg: float = Field(
        25.0,
        ge=0.0,
        lt=90.0,
        description="Elevation mask of these terminals (the larger of it and the satellite's applies).",
        json_schema_extra={"examples": [25.0]},
    )


class GatewaySpec(Strict):
    catalog: Literal[GATEWAY_CATALOG_NAMES] = Field(  # type: ignore[valid-type]
        "2026-03",
        description="The shipped gateway list to select from (leonet sites gateways --catalog NAME lists it): "
        "\"2026-03\" (current public sites) or \"starperf-2024-01\" (for historical scenarios).",
        json_schema_extra={"examples": ["2026-03"]},
    )
    include_planned: bool = Field(
        False, description="Also select sites the list marks planned (not yet built; only \"2026-03\" has them)."
    )
    assume_at_pops_km: float = Field(
        500.0,
        ge=0.0,
        le=20_000.0,
        description="When the whole list is used: every PoP with no listed gateway within this distance gets an "
        "assumed gateway at its site (public lists miss sites; Starlink lands a PoP's traffic near it); 0 = off.",
        json_schema_extra={"examples": [500.0]},
    )
    country_iso2: list[str] | None = Field(
        None,
        description="Keep the gateways of the list in these countries (ISO 3166-1 alpha-2); with no country_iso2, "
        "ids, file or extra, the whole list is used.",
        json_schema_extra={"examples": [["BR"]]},
    )
    ids: list[str] | None = Field(
        None,
        description="Keep these gateways of the list, by id (GS1, GS2, ...); with country_iso2, those of them in "
        "the countries.",
        json_schema_extra={"examples": [["GS220", "GS221"]]},
    )
    file: str | None = Field(
        None,
        description="A CSV with the columns of the shipped gateway list, used instead of it; a relative path "
        "starts at the scenario's folder.",
        json_schema_extra={"examples": ["gateways.csv"]},
    )
    extra: list[SiteSpec] = Field(
        default_factory=list,
        description="Gateways not in the list (assumptions), one [[ground.gateways.extra]] table each; their id is "
        "`assumed:<name>`.",
    )
    min_elevation_deg: float = Field(
        25.0, ge=0.0, lt=90.0, description="Elevation mask of every gateway antenna.", json_schema_extra={"examples": [25.0]}
    )


class PopSpec(Strict):
    terminal_pop: Literal["country", "nearest"] = Field(
        "country",
        description="Where a terminal's traffic leaves: \"country\" = the PoP Starlink assigns the terminal's country "
        "(and region, where its geoip feed has one; a region it leaves out takes the nearest of the country's "
        "regional PoPs; the assignment_snapshot), reached over any gateway and fibre; \"nearest\" = the PoP "
        "nearest in delay, each gateway backhauled to its own PoP (assignment).",
        json_schema_extra={"examples": ["country"]},
    )
    assignment_snapshot: Literal[POP_ASSIGNMENT_NAMES] = Field(  # type: ignore[valid-type]
        "auto",
        description="With terminal_pop = \"country\": which shipped snapshot of Starlink's country -> PoP assignment "
        "to use: \"2025-12\" (2025-12-15), \"2026-10\" (2026-10-08), or \"auto\" = the newest whose month is not "
        "after the month of time.start_utc (the oldest for earlier runs).",
        json_schema_extra={"examples": ["auto"]},
    )
    country_pop: dict[str, str] = Field(
        default_factory=dict,
        description="With terminal_pop = \"country\": country (ISO 3166-1 alpha-2) or region (ISO 3166-2) -> the "
        "PoP its terminals use instead of Starlink's assignment (a what-if: \"UA\" = \"FRA\"); a region's entry wins "
        "over its country's.",
        json_schema_extra={"examples": [{"UA": "FRA"}]},
    )
    catalog: Literal[POP_CATALOG_NAMES] = Field(  # type: ignore[valid-type]
        "2026-10",
        description="The shipped PoP list to select from (leonet sites pops --catalog NAME lists it): \"2026-10\" "
        "(Starlink's DNS site codes, e.g. frntdeu1) or \"starperf-2024-01\" (POP1 .. POP23).",
        json_schema_extra={"examples": ["2026-10"]},
    )
    ids: list[str] | None = Field(
        None,
        description="Keep these PoPs of the shipped list, by id (POP12 in starperf-2024-01, frntdeu1 in 2026-10).",
        json_schema_extra={"examples": [["POP12"]]},
    )
    names: list[str] | None = Field(
        None,
        description="Keep these PoPs of the shipped list, by full name, airport-like code or site code, ignoring "
        "case.",
        json_schema_extra={"examples": [["GRU", "FRA"]]},
    )
    extra: list[TerminalSiteSpec] = Field(
        default_factory=list,
        description="PoPs not in the list (assumptions), one [[ground.pops.extra]] table each; their id is "
        "`assumed:<name>`.",
    )
    #: Fibre route length / great-circle distance (1.5 is typical of terrestrial
    #: routes; see docs/design.md for the source).
    route_factor: float = Field(
        1.5,
        ge=1.0,
        le=5.0,
        description="Fibre route length over great-circle distance for the gateway-to-PoP backhaul.",
        json_schema_extra={"examples": [1.5]},
    )
    #: Group index of silica fibre (1.468 at 1550 nm, SMF-28).
    refractive_index: float = Field(
        1.468,
        ge=1.0,
        le=2.0,
        description="Group index of the backhaul fibre: light travels at c / refractive_index (1.468: SMF-28 at "
        "1550 nm).",
    )
    assignment: dict[str, str] = Field(
        default_factory=dict,
        description="Gateway id -> the id of the PoP it backhauls to; gateways not named go to the "
        "great-circle-nearest PoP.",
        json_schema_extra={"examples": [{"GS221": "POP12"}]},
    )


class GroundSpec(Strict):
    terminals: TerminalSpec | None = Field(
        None, description="User terminals that belong to no fleet ([ground.terminals]); omitted: fleets only."
    )
    gateways: GatewaySpec | None = Field(
        None, description="Gateways ([ground.gateways]); needed as soon as there are terminals or fleets."
    )
    pops: PopSpec | None = Field(
        None, description="Points of presence ([ground.pops]); omitted: every PoP of the shipped list."
    )


class NetworkSpec(Strict):
    isl: Literal["plus-grid", "none"] = Field(
        "plus-grid",
        description='"plus-grid": laser links to the two neighbours in the plane and one satellite in each '
        'adjacent plane; "none": bent pipe, terminal -> satellite -> gateway.',
    )
    #: Lowest altitude a laser beam may pass (atmosphere), km.
    isl_min_beam_altitude_km: float = Field(
        80.0,
        ge=0.0,
        le=1000.0,
        description="A laser link whose straight line dips below this altitude (the atmosphere) is down.",
        json_schema_extra={"examples": [80.0]},
    )
    slot_s: float = Field(
        15.0,
        ge=0.0,
        le=3600.0,
        description="Scheduler slot: terminals are reassigned to satellites every slot_s (Starlink: 15 s); 0 = "
        "reassign at every step.",
        json_schema_extra={"examples": [15]},
    )
    slot_offset_s: float = Field(
        12.0,
        ge=0.0,
        lt=3600.0,
        description="Phase of the slot boundaries: this many s past each UTC minute, modulo slot_s (Starlink "
        "reconfigures at 12, 27, 42 and 57 s past each minute), whatever the scenario's start.",
        json_schema_extra={"examples": [12.0]},
    )
    policy: Literal["min-latency", "max-elevation", "longest-visible"] = Field(
        "min-latency",
        description="How the scheduler picks a terminal's satellite among those visible for the whole slot: lowest "
        "round trip to a PoP over the slot (the worse of its start and its end), highest elevation, or longest "
        "time left above the mask.",
    )
    scheduler_slack_ms: float = Field(
        0.0,
        ge=0.0,
        le=100.0,
        description="min-latency only: satellites whose round trip to the PoP is within this many ms of a terminal's "
        "best are equally good, and a keyed draw (seed, slot, terminal) picks among them, as a global scheduler that "
        "spreads cells over the satellites serves them; 0 = always the best.",
        json_schema_extra={"examples": [0.0, 5.0]},
    )

    @model_validator(mode="after")
    def _slack_needs_min_latency(self):
        if self.scheduler_slack_ms > 0.0 and self.policy != "min-latency":
            raise ValueError(
                f"scheduler_slack_ms = {self.scheduler_slack_ms:g} needs policy = \"min-latency\" (it is "
                f"{self.policy!r}): the slack is a tolerance on the round trip; set it to 0 or the policy to min-latency"
            )
        return self

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


class OutputSpec(Strict):
    directory: str = Field(
        "runs/{name}",
        min_length=1,
        description="Run directory; `{name}` is replaced by scenario.name, a relative path starts at the working "
        "directory; `leonet run -o` overrides it.",
        json_schema_extra={"examples": ["runs/{name}"]},
    )
    chunk_steps: int = Field(
        600,
        ge=1,
        le=1_000_000,
        description="Steps computed and written together: fewer use less memory, a stopped run resumes from the "
        "last whole chunk.",
        json_schema_extra={"examples": [120]},
    )


class PropagationSpec(Strict):
    #: Evaluate SGP4 every this many seconds (from the epoch) and interpolate
    #: between (cubic Hermite on positions and velocities; < 1 m error at 30 s,
    #: measured in tests/orbits/test_interpolation.py).  0 = SGP4 at every step.
    sgp4_node_s: float = Field(
        30.0,
        ge=0.0,
        le=120.0,
        description="Run SGP4 every sgp4_node_s and interpolate positions between (< 1 m error at 30 s); 0 = SGP4 at "
        "every step.",
        json_schema_extra={"examples": [30.0]},
    )


class Scenario(Strict):
    scenario: ScenarioMeta = Field(default_factory=ScenarioMeta, description="Name, description and seed.")
    time: TimeSpec = Field(description="The simulated window and its step.")
    constellations: list[ConstellationSpec] = Field(
        min_length=1, description="The satellites: one or more sources, concatenated in order."
    )
    propagation: PropagationSpec = Field(default_factory=PropagationSpec, description="How orbits are propagated.")
    ground: GroundSpec = Field(default_factory=GroundSpec, description="Terminals, gateways and PoPs.")
    network: NetworkSpec = Field(default_factory=NetworkSpec, description="Laser links and the scheduler.")
    capacity: CapacitySpec | None = Field(
        None,
        description="Capacity sharing, demand and throughput; omitted: no capacity model (no beam limits, demand and "
        "throughput not computed).",
    )
    latency: LatencySpec = Field(
        default_factory=LatencySpec,
        description="What a ping measures: the modelled RTT to the PoP and its parts, and loss.",
    )
    probes: list[ProbeSpec] = Field(
        default_factory=list, description="Ping series at sub-step resolution (the pings table), one per terminal."
    )
    fleets: list[FleetSpec] = Field(default_factory=list, description="Named sets of terminals with a service plan.")
    sponsors: list[SponsorSpec] = Field(default_factory=list, description="Declared names of whoever pays for fleets.")
    policies: list[PolicySpec] = Field(default_factory=list, description="Where and when the operator allows service.")
    faults: list[FaultSpec] = Field(default_factory=list, description="Scheduled and random outages.")
    ledger: LedgerSpec = Field(default_factory=LedgerSpec, description="The window of the cost ledger.")
    output: OutputSpec = Field(default_factory=OutputSpec, description="Where the run is written and how it is chunked.")

    @model_validator(mode="after")
    def _across_tables(self):
        problems = service_problems(self.fleets, self.sponsors, self.policies, self.faults)
        if problems:
            raise ValueError("\n".join(problems))
        return self
