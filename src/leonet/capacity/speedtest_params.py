"""Parameters of the speed-test model: dishes, link quality and background load.

Every default is taken from a public source, derived from one by the
arithmetic shown, or marked ASSUMPTION.  Satellite, beam, gateway and laser
capacities are those of `leonet.capacity.params` (downlink); the uplink
figures below are derived from the same source.  Only *global* physical and
behavioural parameters live here: nothing is per country.  Differences
between places come from the geometry (satellites overhead, elevation of the
serving satellite), the fleet mix and the population around a terminal.

Sources
-------
[Pekhterev21]
    S. Pekhterev, "The Bandwidth of the StarLink Constellation ... and the
    assessment of its potential subscriber base in the USA", SatMagazine,
    November 2021: 2,000 MHz of Ku user downlink and 500 MHz of Ku user
    uplink per satellite; the user terminal works "in a 240/62 MHz channel"
    (downlink / uplink) in one polarisation; top modulation 64QAM 8/9
    (5.11 bit/s/Hz).
[OpenVault25]
    OpenVault Broadband Insights, 3Q 2025 (reported by CircleID /
    potsandpansbyccg, 2025): average US broadband subscriber, 592.8 GB
    downloaded and 48.0 GB uploaded a month.
[Arbor12]
    C. Labovitz, "The Internet After Dark", Arbor Networks ASERT blog, 2012:
    North-American consumer traffic is ~50 % of its daily peak at 6 am,
    peaks late in the evening and stays above ~60 % of peak until 3 am.
[CiscoVNI09]
    Cisco Visual Networking Index usage study (Oct 2009): the peak Internet
    hour carries ~20-25 % more traffic than the average hour.
[StarlinkSubs25]
    Starlink on X, 2025-08-27 (Broadband Breakfast, Benzinga, 2025-08-28):
    "more than 7 million" customers in ~150 markets, growing by ~12,200 a
    day over the preceding two months; 4.6 million at the end of 2024.
[StarlinkLegal25]
    Starlink service terms (starlink.com/legal, 2025): "A demand surcharge
    may apply if your location is near capacity"; areas are shown "sold
    out" on the availability map when their cells are full.
[StarlinkSpecs]
    starlink.com/specifications (2025): antenna sizes, Standard 594 x 383 mm,
    Mini 298.5 x 259 mm, Flat High Performance 575 x 511 mm.  (Read from
    memory of the public page, not re-fetched for this model: CHECK.)
[Laniewski24]
    D. Laniewski et al., "Starlink on the Road: A First Look at Mobile
    Starlink Performance in Central Europe", TMA 2024: the dish on the car
    is a Flat High Performance dish.
[Bonald03]
    T. Bonald, J. Roberts, "Congestion at flow level and the impact of user
    behaviour", Computer Networks 42, 2003: under processor sharing an
    elastic flow gets ``C (1 - rho)`` on average, i.e. what the others leave.

Table
-----
=====================================  =================  =======================================
parameter                              default            source
=====================================  =================  =======================================
downlink channel of one terminal       240 MHz            [Pekhterev21]
uplink channel of one terminal/beam    62.5 MHz           [Pekhterev21] (500 MHz / 8)
top spectral efficiency (beams)        5.11 bit/s/Hz      [Pekhterev21]; uplink: ASSUMPTION same
downlink SNR margin at zenith          -3 dB              ASSUMPTION: beam-edge (half-power) contour
uplink SNR margin at zenith            -3 dB              ASSUMPTION: the downlink's (see "Uplink")
dish peak down (Standard)              see `DISHES`       CALIBRATED (best-20 % downloads)
dish uplink grant (share of channel)   0.210              CALIBRATED (best-20 % uploads); [SdrX25]: 1/4
antenna gain vs Standard               10 log10(area)     [StarlinkSpecs]
subscribers (2025-12)                  8.0 million        [StarlinkSubs25], extrapolated
mean demand per subscriber, down       1.80 Mbit/s        [OpenVault25]: 592.8 GB / month
mean demand per subscriber, up         0.146 Mbit/s       [OpenVault25]: 48.0 GB / month
daily profile (local solar time)       `DIURNAL_PROFILE`  ASSUMPTION shaped on [Arbor12], [CiscoVNI09]
sell-out utilisation of a cell         0.8                ASSUMPTION (mechanism: [StarlinkLegal25])
active background flow, down / up      25 / 4 Mbit/s      ASSUMPTION (an UHD stream / an HD call)
=====================================  =================  =======================================

Calibrated: two global numbers.  No public source gives a dish's peak
rates (Starlink publishes only plan ranges such as "Roam: download 65-260,
upload 20-40 Mbit/s"), so they are fitted to the *best-20 %* quantiles of
Starlink's published per-country speeds (the calibration file's
``*_best20_mbps``, median over the 96 countries, with terminals placed like
the model's subscribers): the Standard dish's downlink peak and its uplink
grant (the share of its beam's uplink channel the scheduler gives one dish).  When the network is lightly loaded a speed test is
the dish's peak scaled by the link quality, so the upper quantile measures
the peak; the medians -- what the model is judged on -- and everything
about Osnabrück stay predictions.  validation/throughput_fit.py does the
fit; its numbers are in the report.

[SdrX25]
    sdr-x.github.io, "Starlink uplink signal analysis (3)", 2025: the uplink
    is OFDM at 60 Msps (1024-point FFT) and a burst may occupy only a quarter
    of the subcarriers -- several dishes can share a channel at once.
[StarlinkSubs22]
    Starlink on X, 2022-12-19 (reported by CNBC, PCMag, 2022-12-19): "more
    than 1,000,000 active subscribers".
[StarlinkSubs23]
    Starlink on X, 2023-12-21 (Advanced Television, Benzinga, 2023-12-22):
    "more than 2.3 million" active customers.
[OpenVault23-24]
    OpenVault Broadband Insights, 3Q 2023 (514.3 GB down, 35.9 GB up a
    month) and 2Q 2024 (544.0 / 41.5 GB), average US subscriber.
[Ookla22-25]
    Ookla Speedtest Intelligence, median Starlink speeds in the United
    States: Q3 2022 53.95 Mbit/s down, 7.50 up; Q1 2025 104.71 down, 14.84
    up (Ookla, "Starlink's U.S. performance", 2025; Telecompetitor, RCR
    Wireless 2025).  Both doubled; the upload / download ratio stayed 0.14.
[StarlinkSpecs24]
    starlink.com/specifications, residential, as quoted in 2024 (e.g.
    PCMag / allyoucantech, 2024-10-15): "download 25-220 Mbps, upload 5-20
    Mbps".
[Nicolls25]
    M. Nicolls (Starlink VP of Engineering), October 2025, quoted by
    Telecompetitor (2025-12): "Typical download speeds are over 200 Mbps,
    typical upload speeds are over 30 Mbps" -- and Starlink's own 2025-12
    country medians (the calibration file) put the upload median at 33.5
    Mbit/s, twice [StarlinkSpecs24]'s upper end.
[Mailloux05]
    R. J. Mailloux, "Phased Array Antenna Handbook", 2nd ed., Artech House,
    2005, ch. 1: a planar array's gain scanned to angle theta from its normal
    is its broadside gain times cos(theta) (the projected aperture), at best.
[FCCUT21]
    SpaceX, FCC application for its next-generation user terminal
    (UTA-205/206/207), June 2021, as summarised on r/Starlink (2021-06-11):
    transmit area 29 cm across (receive area 48 cm), at most 2.44 W, 1 mW/cm^2
    power density (the exposure limit), transmit duty cycle 14 %.  The
    transmit array is not the receive aperture.

Uplink: a scheduled grant, not a power-limited link
---------------------------------------------------
A dish's upload is the share of its beam's 62.5 MHz uplink channel the
scheduler grants it while the beam visits its cell (`UPLINK_GRANT_SHARE`:
fitted 0.210 -- [SdrX25] saw single-dish bursts on a quarter of the
channel's subcarriers; the visits: `leonet.capacity.speedtest`) at the
modulation its link's SNR allows, which falls with the slant range by the
same law as the downlink's (`leonet.capacity.speedtest.link_factor`, with
`UPLINK_ZENITH_MARGIN_DB`).  The evidence is Starlink's own: over the 96
published countries the upload / download median ratio is 0.14 with an
interquartile range of 0.12-0.15, and it is uncorrelated with the latency
(r = 0.15: laser-served islands and bent-pipe countries alike), while a
power-limited Shannon rate near 1 bit/s/Hz (this model before 2026-11:
``UPLINK_SPECTRAL_EFFICIENCY_BPS_PER_HZ = 1.017``) falls 3x from zenith to
25 deg elevation, twice as fast as the downlink: it made uploads ~2x too high
where the serving satellite is near zenith (bent-pipe countries next to a
gateway) and ~0.6x too low on laser-served islands.  Power is not what
limits the dish: [FCCUT21]'s 2.44 W into a 29 x 29 cm transmit array
(~32 dBi at 14.25 GHz with 70 % efficiency) is ~36 dBW EIRP, so at 550 km
(170.3 dB of free-space loss) in a fifth of the channel (12.5 MHz) its C/N
is ~23 dB + the satellite's G/T (not public): above the top modulation's
15.3 dB for any G/T above about -8 dB/K (ASSUMPTION that it is).  Fitted,
the Standard dish's grant at the top modulation is 67.1 Mbit/s, 0.145 of
its downlink peak: the published ratio.

The grant is sent only while the beam visits the dish's cell, and the
downlink (~12x the uplink's traffic) sets how often it does: a loaded
satellite slows uploads as it slows downloads.  That is what the data show:
Osnabrück's per-second down- and upload rates correlate 0.6; over the 96
published countries the median / best-20 % ratio is 0.78 for both, and the
two ratios correlate 0.71 country by country; Ookla's US upload and
download medians both doubled from 2022 to 2025 at a constant ratio, 0.14
([Ookla22-25]).  Until 2026-12 leonet's uplink was the grant alone, with an
era factor on it fitted to Ookla's US uploads: it made Osnabrück's 2024
uploads a narrow 25-35 Mbit/s (median 1.85x the measured); the shared
visits give the measured spread with no era factor.

Eras: the network at a date
---------------------------
Subscribers and what a subscriber downloads and uploads changed over the
years.  `network_state` gives them at any date,
interpolated linearly in time between dated, sourced points (held constant
outside them):

* subscribers world-wide (`SUBSCRIBER_HISTORY`): 1.0 M (2022-12), 2.3 M
  (2023-12), 4.6 M (2024-12), 7.0 M (2025-08), 8.0 M (2025-12, extrapolated);
* mean demand per subscriber (`DEMAND_HISTORY`, [OpenVault23-24],
  [OpenVault25]);
Neither direction has an era factor: their changes over time are the fleet
(the run's satellites, V1.5 / V2 mini) and the load (subscribers, demand),
which the model computes; the uplink follows the downlink's beam visits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import KU_BEAM_BANDWIDTH_HZ, KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ

__all__ = [
    "ACTIVE_FLOW_DOWN_BPS",
    "ACTIVE_FLOW_UP_BPS",
    "DEFAULT_DISH",
    "DISHES",
    "DIURNAL_PROFILE",
    "MEAN_DOWN_BPS_PER_SUBSCRIBER",
    "MEAN_DOWN_BPS_PER_SUBSCRIBER_2024_01",
    "MEAN_UP_BPS_PER_SUBSCRIBER",
    "MEAN_UP_BPS_PER_SUBSCRIBER_2024_01",
    "SELL_OUT_UTILISATION",
    "SERVED_ISO2",
    "SUBSCRIBERS_2024_01",
    "SUBSCRIBERS_2025_12",
    "TYPICAL_ALTITUDE_KM",
    "TYPICAL_SLANT_RANGE_KM",
    "UPLINK_CHANNEL_HZ",
    "UPLINK_GRANT_SHARE",
    "UPLINK_ZENITH_MARGIN_DB",
    "UPLINK_TO_DOWNLINK_SATELLITE",
    "V2_MINI_FIRST_NAME_NUMBER",
    "ZENITH_LINK_MARGIN_DB",
    "DishType",
    "flat_mount_loss_db",
    "CALIBRATION_DATE",
    "DEMAND_HISTORY",
    "NetworkState",
    "SUBSCRIBER_HISTORY",
    "network_state",
]

#: Uplink channel of one terminal (and one uplink beam), Hz: 500 MHz of Ku
#: uplink in 8 channels of 62.5 MHz; [Pekhterev21] gives "240/62 MHz".
UPLINK_CHANNEL_HZ = 62.5e6

#: Most of its beam's uplink channel the scheduler grants one dish.
#: CALIBRATED (best-20 % uploads, see the module docstring); [SdrX25] saw
#: uplink bursts on a quarter of the channel's subcarriers.  A dish's uplink
#: is *not* power limited at this share: its EIRP ([FCCUT21]) gives it a high
#: SNR in a part of the channel, so its rate is the grant times the
#: efficiency the link's SNR allows (`leonet.capacity.speedtest.dish_uplink_peak_bps`).
UPLINK_GRANT_SHARE = 0.210

#: Beam (and satellite) uplink capacity / downlink capacity: 62.5 MHz /
#: 240 MHz per beam and 500 / 2,000 MHz per satellite [Pekhterev21], at the
#: same top modulation.
UPLINK_TO_DOWNLINK_BEAM = UPLINK_CHANNEL_HZ / KU_BEAM_BANDWIDTH_HZ
UPLINK_TO_DOWNLINK_SATELLITE = 500e6 / 2000e6

#: Signal-to-noise margin of the downlink above the top modulation's
#: threshold with the satellite at zenith, dB.  ASSUMPTION -3 dB: the
#: capacity figures of [Pekhterev21] use the top modulation, i.e. the beam
#: centre in the best geometry; a service cell is planned inside the beam's
#: half-power (-3 dB) contour, and the model takes that edge value for every
#: terminal.  At elevation e the slant range grows and the SNR falls as
#: 1 / range^2 (`leonet.capacity.speedtest.link_factor`).  Fitting this margin
#: to the published worst-20 % downloads instead gives -5 to -6 dB (the
#: model lacks the spread between users: obstructions, old dishes,
#: deprioritised plans), see the report.
ZENITH_LINK_MARGIN_DB = -3.0

#: The uplink's margin above the top modulation's threshold at zenith, dB.
#: ASSUMPTION: the downlink's (`ZENITH_LINK_MARGIN_DB`, the beam-edge
#: contour); the SNR then falls as 1 / range^2 as on the downlink.
UPLINK_ZENITH_MARGIN_DB = ZENITH_LINK_MARGIN_DB


#: Slant range of a "typical" serving geometry, km: 45 deg elevation at
#: 550 km.  The sell-out cap is computed against the beam capacity there.
TYPICAL_SLANT_RANGE_KM = 749.0
TYPICAL_ALTITUDE_KM = 550.0


@dataclass(frozen=True)
class DishType:
    """A user terminal model.

    Attributes
    ----------
    name : str
    antenna_area_m2 : float, m^2
        Phased-array aperture ([StarlinkSpecs]).
    peak_down_bps : float, bit/s
        Most one dish receives at the top modulation on an idle network;
        scaled by the link quality (`leonet.capacity.speedtest.link_factor`).
    peak_up_bps : float, bit/s
        Most one dish sends at the top modulation: its grant of the beam's
        uplink channel (``UPLINK_GRANT_SHARE x UPLINK_CHANNEL_HZ x 5.11``);
        scaled at each step by the uplink's link quality
        (`leonet.capacity.speedtest.dish_uplink_peak_bps`: range and
        ``uplink_gain_offset_db``) and by its cell's share of the beam's
        time (`leonet.capacity.speedtest.SpeedTestStep.cell_visit`).
    source : str
    flat_mounted : bool
        Mounted flat (facing the zenith), as vehicle dishes are: its gain
        falls with the projected aperture, ``cos`` of the satellite's zenith
        angle, on both links ([Mailloux05]; `flat_mount_loss_db`).  Dishes
        that are not flat point at the part of the sky they use (the
        Standard's kickstand): their pointing is in the calibration.
    """

    name: str
    antenna_area_m2: float
    peak_down_bps: float
    peak_up_bps: float
    source: str
    flat_mounted: bool = False

    @property
    def gain_offset_db(self) -> float:
        """Receive gain relative to the Standard dish, dB (aperture ratio)."""
        return float(10.0 * np.log10(self.antenna_area_m2 / DISHES["standard"].antenna_area_m2))

    @property
    def uplink_gain_offset_db(self) -> float:
        """Transmit EIRP relative to the Standard dish, dB.

        Gain and the most power the exposure limit allows both scale with the
        transmit array's area [FCCUT21], so EIRP scales as its square.  The
        transmit array is smaller than the receive aperture [FCCUT21] and its
        size is public for no current dish: a dish smaller than the Standard
        cannot hold a larger one (Mini: its whole aperture, -9.4 dB), and a
        larger dish is taken to carry the Standard's (FHP: 0 dB; ASSUMPTION,
        no public figure says it is larger).
        """
        return 2.0 * min(self.gain_offset_db, 0.0)


#: Downlink peak of the Standard dish, bit/s.  CALIBRATED to the best-20 %
#: quantiles of Starlink's published per-country download speeds (see the
#: module docstring and validation/throughput.py).
_STANDARD_PEAK_DOWN_BPS = 463e6

#: Uplink peak at the top modulation: the dish's grant of its beam's 62.5 MHz
#: channel (`UPLINK_GRANT_SHARE`) at 5.11 bit/s/Hz; scaled by the link's
#: quality at each step (`leonet.capacity.speedtest.dish_uplink_peak_bps`).
_STANDARD_PEAK_UP_BPS = UPLINK_GRANT_SHARE * UPLINK_CHANNEL_HZ * KU_SPECTRAL_EFFICIENCY_BPS_PER_HZ

#: Known dishes.  The Mini and the Flat High Performance dish share the
#: Standard dish's peak rates (same modem generation, ASSUMPTION); they
#: differ by antenna aperture, which moves their link quality
#: (``gain_offset_db`` down, ``uplink_gain_offset_db`` up: Mini -4.7 / -9.4 dB,
#: FHP +1.1 / 0 dB).
DISHES: dict[str, DishType] = {
    "standard": DishType("standard", 0.594 * 0.383, _STANDARD_PEAK_DOWN_BPS, _STANDARD_PEAK_UP_BPS,
                         "Starlink Standard (V4); peaks calibrated"),
    "mini": DishType("mini", 0.2985 * 0.259, _STANDARD_PEAK_DOWN_BPS, _STANDARD_PEAK_UP_BPS,
                     "Starlink Mini; peaks as Standard (ASSUMPTION), gain from aperture"),
    "fhp": DishType("fhp", 0.575 * 0.511, _STANDARD_PEAK_DOWN_BPS, _STANDARD_PEAK_UP_BPS,
                    "Flat High Performance; peaks as Standard (ASSUMPTION), gain from aperture; mounted flat "
                    "([StarlinkSpecs]: in-motion on vehicles, 140 deg field of view; [Laniewski24]: on a car roof)",
                    flat_mounted=True),
}


def flat_mount_loss_db(sin_elevation) -> np.ndarray:
    """Gain lost by a flat-mounted phased array to a satellite at elevation ``e``, dB (<= 0).

    The array's effective area is its area projected on the direction of
    the satellite: ``cos(zenith angle) = sin(e)`` [Mailloux05]; real elements
    lose a little more (``cos^1.2-1.5``), which this leaves out.

    >>> [round(float(x), 2) for x in flat_mount_loss_db(np.sin(np.radians([90.0, 60.0, 25.0])))]
    [0.0, -0.62, -3.74]
    """
    return 10.0 * np.log10(np.clip(np.asarray(sin_elevation, dtype=np.float64), 1e-3, 1.0))

#: Dish of a terminal that names none.
DEFAULT_DISH = "standard"

#: Starlink subscribers at 2025-12 (the calibration snapshot):
#: 7.0 million on 2025-08-27 + ~12,200 a day x ~95 days ~= 8.2 million
#: [StarlinkSubs25]; rounded down to 8.0 million.
SUBSCRIBERS_2025_12 = 8.0e6

_SECONDS_PER_MONTH = 30.44 * 86400.0

#: Starlink subscribers at the Osnabrück measurements (2024-01): "more than
#: 2.3 million" active customers on 2023-12-21 (Starlink on X; Advanced
#: Television and Benzinga, 2023-12-22).
SUBSCRIBERS_2024_01 = 2.3e6

#: Mean downlink demand of one subscriber over a month, bit/s
#: (592.8 GB x 8 bit / 30.44 days = 1.80 Mbit/s, [OpenVault25]).  A US
#: fixed-broadband figure, used for every subscriber: ASSUMPTION that
#: Starlink households use as much as US broadband households.
MEAN_DOWN_BPS_PER_SUBSCRIBER = 592.8e9 * 8.0 / _SECONDS_PER_MONTH

#: Mean uplink demand of one subscriber, bit/s (48.0 GB / month, [OpenVault25]).
MEAN_UP_BPS_PER_SUBSCRIBER = 48.0e9 * 8.0 / _SECONDS_PER_MONTH

#: The same for early 2024: halfway between OpenVault's 3Q 2023 (514.3 GB
#: down, 35.9 GB up) and 2Q 2024 (544.0 / 41.5 GB) figures.
MEAN_DOWN_BPS_PER_SUBSCRIBER_2024_01 = 529.2e9 * 8.0 / _SECONDS_PER_MONTH
MEAN_UP_BPS_PER_SUBSCRIBER_2024_01 = 38.7e9 * 8.0 / _SECONDS_PER_MONTH

#: Traffic by local (solar) hour 0..23, relative to the day's mean (the
#: array averages to 1).  ASSUMPTION shaped on [Arbor12] (trough ~50 % of
#: peak around 5-6 am, evening peak) and [CiscoVNI09] (peak hour ~1.25 x the
#: mean hour).
_PROFILE_RAW = np.array(
    [0.85, 0.75, 0.65, 0.57, 0.52, 0.50, 0.52, 0.58, 0.65, 0.70, 0.73, 0.75,
     0.77, 0.78, 0.79, 0.80, 0.82, 0.85, 0.89, 0.94, 0.98, 1.00, 0.99, 0.93]
)
DIURNAL_PROFILE = _PROFILE_RAW / _PROFILE_RAW.mean()

#: Busy-hour utilisation of a cell's beam at which Starlink stops selling
#: there.  The mechanism is Starlink's ([StarlinkLegal25]: "sold out" areas,
#: demand surcharges); the value is an ASSUMPTION (a typical busy-hour
#: planning limit of access networks).  It caps the subscribers of a
#: service cell at ``SELL_OUT_UTILISATION x beam capacity / busy-hour demand``.
SELL_OUT_UTILISATION = 0.8

#: Demand of one active background flow, bit/s.  ASSUMPTION: an UHD video
#: stream down, an HD video call up.  The *number* of background flows is
#: their load divided by this; it matters only on saturated links (it sets
#: how finely the capacity is shared), never on unsaturated ones, where a
#: speed test gets the capacity minus the load [Bonald03].
ACTIVE_FLOW_DOWN_BPS = 25e6
ACTIVE_FLOW_UP_BPS = 4e6

#: Starlink satellites named ``STARLINK-<n>`` with n >= this are V2 mini
#: (V2 mini, V2 mini Optimized and the direct-to-cell "[DTC]" satellites).
#: Checked on the shipped 2026-05 snapshot: no launch mixes the two name
#: ranges; every launch with such names has <= 29 satellites in the file (a
#: Falcon 9 carries ~21-23 V2 mini of ~800 kg, or up to ~29 V2 mini
#: Optimized of ~575 kg), the 2022-2023 launches with smaller numbers a
#: median of 46 (V1.5, ~300 kg); the first names >= 30000 belong to launch
#: 2023-056.  (tests/capacity/test_speedtest.py checks this.)
V2_MINI_FIRST_NAME_NUMBER = 30000

#: ISO 3166-1 alpha-2 codes of the countries and territories where Starlink
#: sells residential service (2025-12): the 96 territories of Starlink's
#: published per-country metrics outside Europe (the calibration file's
#: list, not its values), the five it publishes by region only (US, CA, MX,
#: BR, AU), and Europe except Russia and Belarus.  Subscribers are spread
#: over the population of these places only.
SERVED_ISO2 = frozenset(
    ["AR", "AS", "AQ", "AG", "YE", "SS", "NE", "NG", "JM", "SH", "LR", "PH", "GU", "MG", "SG", "ZW", "SX", "NR", "GH", "KI", "EC", "TD", "HT", "KE", "BJ", "MF", "GT", "DO", "ZM", "TL", "MQ", "CO", "BI", "ID", "SV", "SL", "CR", "PE", "CK", "PA", "TV", "SB", "MH", "HN", "CD", "UM", "MY", "BL", "VI", "PR", "GW", "CV", "YT", "MZ", "GY", "MV", "WS", "MW", "CL", "FK", "SO", "GF", "MP", "FJ", "RW", "NZ", "BD", "BB", "BW", "BS", "TO", "TT", "PY", "VU", "GP", "FM", "MN", "RE", "NF", "OM", "PN", "JP", "SZ", "QA", "LK", "CX", "CC", "UY", "DM", "KZ", "BT", "VC", "JO", "IL", "BH", "LS", "US", "CA", "MX", "BR", "AU", "AL", "AD", "AT", "BA", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FO", "FR", "GB", "GG", "GI", "GR", "HR", "HU", "IE", "IM", "IS", "IT", "JE", "LI", "LT", "LU", "LV", "MC", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "SE", "SI", "SK", "SM", "UA", "VA", "XK", "AX"]
)


# --------------------------------------------------------------------------
# Eras: the network at a date (module docstring, "Eras")
# --------------------------------------------------------------------------

#: The date of the calibration snapshot (Starlink's per-country speeds,
#: 2025-12): the dish peaks above are calibrated at the network of this date.
CALIBRATION_DATE = "2025-12-01"

#: Starlink customers world-wide: (date, subscribers, source).
SUBSCRIBER_HISTORY: tuple[tuple[str, float, str], ...] = (
    ("2022-12-19", 1.0e6, "[StarlinkSubs22]"),
    ("2023-12-21", SUBSCRIBERS_2024_01, "[StarlinkSubs23]"),
    ("2024-12-31", 4.6e6, "[StarlinkSubs25]: 4.6 million at the end of 2024"),
    ("2025-08-27", 7.0e6, "[StarlinkSubs25]"),
    (CALIBRATION_DATE, SUBSCRIBERS_2025_12, "[StarlinkSubs25], extrapolated at ~12,200 a day"),
)

#: Mean monthly use of one subscriber, (date, GB down, GB up, source): the
#: middle of each reported quarter.
DEMAND_HISTORY: tuple[tuple[str, float, float, str], ...] = (
    ("2023-08-15", 514.3, 35.9, "[OpenVault23-24] 3Q 2023"),
    ("2024-05-15", 544.0, 41.5, "[OpenVault23-24] 2Q 2024"),
    ("2025-08-15", 592.8, 48.0, "[OpenVault25] 3Q 2025"),
)

@dataclass(frozen=True)
class NetworkState:
    """The network's load at one date (`network_state`).

    Attributes
    ----------
    when : str
        The date, ISO 8601.
    subscribers : float
        Starlink customers world-wide.
    mean_down_bps, mean_up_bps : float, bit/s
        Mean demand of one subscriber over a month.
    """

    when: str
    subscribers: float
    mean_down_bps: float
    mean_up_bps: float


def _days(when) -> float:
    """Days since 1970-01-01 of a date, datetime or ISO 8601 text (UTC)."""
    import datetime as dt

    from ..timebase import parse_utc

    if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day, tzinfo=dt.timezone.utc)
    elif isinstance(when, str) and len(when) == 10:
        when = when + "T00:00:00Z"
    t = parse_utc(when)
    return (t - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)).total_seconds() / 86400.0


def _at(when_days: float, dates: list[str], values: list[float]) -> float:
    """Linear interpolation in time, held constant outside the points."""
    return float(np.interp(when_days, [_days(d) for d in dates], values))


def network_state(when) -> NetworkState:
    """Subscribers and demand per subscriber at a date.

    Parameters
    ----------
    when : datetime, date or str
        UTC time or date (e.g. the scenario's ``start_utc``).

    Examples
    --------
    >>> s = network_state("2025-12-01")
    >>> s.subscribers, round(s.mean_down_bps / 1e6, 2)
    (8000000.0, 1.8)
    >>> round(network_state("2024-02-01").subscribers / 1e6, 2)
    2.56
    """
    d = _days(when)
    subs = _at(d, [h[0] for h in SUBSCRIBER_HISTORY], [h[1] for h in SUBSCRIBER_HISTORY])
    down_gb = _at(d, [h[0] for h in DEMAND_HISTORY], [h[1] for h in DEMAND_HISTORY])
    up_gb = _at(d, [h[0] for h in DEMAND_HISTORY], [h[2] for h in DEMAND_HISTORY])
    text = when.isoformat() if hasattr(when, "isoformat") else str(when)
    return NetworkState(text, subs, down_gb * 1e9 * 8.0 / _SECONDS_PER_MONTH, up_gb * 1e9 * 8.0 / _SECONDS_PER_MONTH)
