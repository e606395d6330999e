"""Capacity parameters: what a satellite, a beam, a gateway and a laser can carry.

Every default below is either taken from a public source or derived from one
by the arithmetic shown next to it; values that are pure assumptions say so.
SpaceX publishes no per-satellite capacity figures of its own, so most
numbers come from analyses of its FCC filings.  They are *forward-link*
(gateway -> satellite -> terminal, i.e. user downlink) figures: downlink is
the direction consumer traffic saturates first.

Sources
-------
[Pekhterev21]
    S. Pekhterev, "The Bandwidth of the StarLink Constellation ... and the
    assessment of its potential subscriber base in the USA", SatMagazine,
    November 2021 (http://www.satmagazine.com/story.php?number=1026762698).
    From SpaceX's FCC filings: 2,000 MHz of Ku user downlink per polarisation,
    two polarisations, 64QAM rate 8/9 = 5.11 bit/s/Hz, so one satellite
    carries 2,000 MHz x 2 x 5.11 = 20.2 Gbit/s; user beams are 240 MHz
    channels, 8 simultaneous beams per polarisation (16 with both), limited
    by the 2,000 MHz Ka feeder per polarisation; cells are hexagons inscribed
    in a 24 km (15 mile) circle.
[Puchol22]
    M. Puchol, Starlink mailing list (lists.bufferbloat.net), 30-31 Aug 2022,
    "Starlink beam spread": 3 downlink phased arrays x 8 beams x 2
    polarisations = 48 steerable downlink beams, 240 MHz effective out of a
    250 MHz channel, 8 channels in the 2 GHz of downlink spectrum.  The
    number of beams in *hardware* (48) is larger than the number that can
    carry full-rate traffic at once, which the spectrum and the feeder limit
    to 16 [Pekhterev21]; leonet uses the latter.
[SpaceX23]
    SpaceX letter to the FCC, February 2023, on the first Gen2 ("V2 mini")
    satellites: "four times the communications capacity of early generations
    of Starlink satellites" (reported by PCMag / Eyerys, 2023-02-28).
[SpaceXGW23]
    SpaceX Services, "Application for gateway earth stations" (blanket
    Ka-band licence narrative, 2023): each earth station uses up to 40
    identical 1.85 m antennas and communicates simultaneously with up to 8
    Gen1 and 32 Gen2 satellites, transmitting in 28.35-29.1 GHz and
    29.5-30.0 GHz.  One antenna tracks one satellite.
[StarPerf24]
    The shipped gateway list (``leonet/data/gateways``, SpaceNetLab StarPerf,
    2024-01): Ka sites 2.1 GHz uplink, E-band sites 5.0 GHz uplink.
[SpaceXISL24]
    SpaceX (T. Brashears, SPIE Photonics West, January 2024), reported by
    Computerworld / PCMag: over 9,000 lasers on Starlink satellites, each
    link up to 100 Gbit/s, 42 PB a day.  100 Gbit/s is also the issue's
    default.
[StarlinkStandby25]
    Starlink support, "Standby Mode" (2025): unlimited low-speed data at
    about 0.5 Mbit/s "for emergency messaging".  Starlink's earlier 1 TB
    fair-use policy throttled to 1 Mbit/s (Autoevolution, 2022).

Table
-----
=============================  ========  =========  ==========================================
parameter                      V1.5      V2 mini    source
=============================  ========  =========  ==========================================
satellite user downlink        20 Gbps   80 Gbps    [Pekhterev21]; V2 mini = 4 x V1.5 [SpaceX23]
beams (cells) per satellite    16        64         [Pekhterev21]; V2 mini: ASSUMPTION, 4 x V1.5
capacity of one cell beam      1.23 Gbps 1.23 Gbps  240 MHz x 5.11 bit/s/Hz [Pekhterev21]
laser link (each direction)    100 Gbps  100 Gbps   [SpaceXISL24]
gateway antenna, Ka            20 Gbps              one antenna feeds one V1.5 satellite:
                                                    2.1 GHz x 2 pol x ~4.8 bit/s/Hz
                                                    [Pekhterev21, SpaceXGW23, StarPerf24]
gateway antenna, E-band        48 Gbps              ASSUMPTION: Ka figure x 5.0 / 2.1 GHz [StarPerf24]
minimum served rate            1 Mbps               decision, see `MIN_RATE_BPS`
default terminal demand        100 Mbps             decision, see `DEFAULT_DEMAND_BPS`
=============================  ========  =========  ==========================================

Note on the gateway figure: a few Gbit/s per gateway antenna (a figure one
sometimes sees) would leave a V1.5 satellite, whose 20 Gbit/s reach the
ground through one feeder link, unable to fill its own beams; the Ka
feeder's filed bandwidth and both polarisations carry about 20 Gbit/s,
which is why [Pekhterev21] ties the 16-beam figure to dual-polarised
feeders.  Override it per scenario when better data is known.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ScenarioError

__all__ = [
    "SatelliteGeneration",
    "GENERATIONS",
    "DEFAULT_GENERATION",
    "KU_BEAM_BANDWIDTH_HZ",
    "KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ",
    "BEAM_CAPACITY_BPS",
    "ISL_CAPACITY_BPS",
    "GATEWAY_ANTENNA_CAPACITY_BPS",
    "MIN_RATE_BPS",
    "DEFAULT_DEMAND_BPS",
    "generation",
]

#: Effective bandwidth of one Ku user beam, Hz (240 MHz of a 250 MHz channel;
#: [Pekhterev21], [Puchol22]).
KU_BEAM_BANDWIDTH_HZ = 240e6

#: Spectral efficiency of the Ku user downlink at the top modulation, bit/s/Hz
#: (64QAM, FEC 8/9, [Pekhterev21]).
KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ = 5.11

#: Capacity of one user beam pointed at one cell, bit/s (= 240 MHz x 5.11
#: bit/s/Hz = 1.226 Gbit/s).  A clear-sky, best-modulation figure: terminals
#: at the edge of a beam or in rain get less.
BEAM_CAPACITY_BPS = KU_BEAM_BANDWIDTH_HZ * KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ

#: Capacity of one laser link in each direction, bit/s ([SpaceXISL24]).
ISL_CAPACITY_BPS = 100e9

#: Forward capacity of one gateway antenna (one feeder link to one satellite),
#: bit/s, by feeder band.  ``"Ka+E"`` (co-located sites merged by
#: ``load_gateways(dedupe_colocated=True)``, antennas summed) takes the Ka
#: figure, the conservative choice since the split is lost.
GATEWAY_ANTENNA_CAPACITY_BPS: dict[str, float] = {
    "Ka": 20e9,
    "E": 48e9,  # ASSUMPTION: 20 Gbit/s x 5.0 GHz / 2.1 GHz, rounded
    "Ka+E": 20e9,
    "": 20e9,  # sites given by hand (no band): treated as Ka
}

#: A terminal whose allocated rate is below this, while its demand is not,
#: is *unserved for lack of capacity*, bit/s.  Decision: 1 Mbit/s, twice
#: Starlink's own "Standby Mode" floor of 0.5 Mbit/s (sold for emergency
#: messaging only, [StarlinkStandby25]) and equal to the rate Starlink used to
#: throttle to under its 1 TB fair-use policy: enough for messaging and a voice
#: call, not for video.  Configurable per scenario (``[capacity] min_rate_bps``).
MIN_RATE_BPS = 1e6

#: Default demand of one terminal at the busy hour, bit/s.  Decision: the low
#: end of Starlink's advertised residential download range (about 100-250
#: Mbit/s in 2025); every terminal wants this much and max-min fairness
#: shares what the bottlenecks allow.  The service layer replaces it per
#: terminal and scales it per step (daily profile).
DEFAULT_DEMAND_BPS = 100e6


@dataclass(frozen=True)
class SatelliteGeneration:
    """Capacity of one satellite generation (forward / user-downlink direction).

    Attributes
    ----------
    name : str
    satellite_capacity_bps : float, bit/s
        Total user-downlink capacity of one satellite (all beams together).
    beams_per_satellite : int
        Cells one satellite can point a full-rate beam at simultaneously.
    beam_capacity_bps : float, bit/s
        Capacity of one beam on one cell.
    isl_capacity_bps : float, bit/s
        Capacity of one laser link, each direction.
    source : str
        Where the numbers come from (see the module docstring).
    """

    name: str
    satellite_capacity_bps: float
    beams_per_satellite: int
    beam_capacity_bps: float
    isl_capacity_bps: float
    source: str


#: Known generations, by name.
GENERATIONS: dict[str, SatelliteGeneration] = {
    "v1.5": SatelliteGeneration(
        name="v1.5",
        satellite_capacity_bps=20e9,
        beams_per_satellite=16,
        beam_capacity_bps=BEAM_CAPACITY_BPS,
        isl_capacity_bps=ISL_CAPACITY_BPS,
        source="Pekhterev, SatMagazine 2021 (20.2 Gbit/s, 16 x 240 MHz beams); lasers: SpaceX 2024",
    ),
    "v2-mini": SatelliteGeneration(
        name="v2-mini",
        satellite_capacity_bps=80e9,
        beams_per_satellite=64,
        beam_capacity_bps=BEAM_CAPACITY_BPS,
        isl_capacity_bps=ISL_CAPACITY_BPS,
        source="4 x V1.5 (SpaceX to the FCC, Feb 2023); beams 4 x 16 is an ASSUMPTION",
    ),
}

#: Generation used when a scenario names none.  V1.5 is the conservative
#: choice: the shipped 2026 snapshot mixes V1.5 and V2 mini satellites and
#: nothing in a TLE says which is which.
DEFAULT_GENERATION = "v1.5"


def generation(name: str) -> SatelliteGeneration:
    """The `SatelliteGeneration` called *name*.

    Raises
    ------
    leonet.errors.ScenarioError
        For an unknown name; the message lists the known ones.

    Examples
    --------
    >>> generation("v1.5").beams_per_satellite
    16
    """
    try:
        return GENERATIONS[name]
    except KeyError:
        raise ScenarioError(
            f"unknown satellite generation {name!r}; known generations: {', '.join(sorted(GENERATIONS))}"
        ) from None
