"""Physical constants, in leonet's internal units (km, s, rad).

Sources are cited per value.  WGS84 is used for geodetic conversions of
ground sites (as Skyfield's ``wgs84`` and GPS do); SGP4 itself runs on WGS72
(as the element sets were fitted with it, AIAA 2006-6753 section 2).
"""

from __future__ import annotations

import math

#: Speed of light in vacuum, km/s (exact, SI definition).
C_KM_S = 299_792.458

#: WGS84 equatorial radius, km (NIMA TR8350.2, table 3.1).
WGS84_A_KM = 6378.137
#: WGS84 flattening (NIMA TR8350.2, table 3.1).
WGS84_F = 1.0 / 298.257223563
#: WGS84 first eccentricity squared.
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

#: WGS72 equatorial radius, km (as used by SGP4 and by Hypatia).
WGS72_A_KM = 6378.135
#: WGS72 gravitational parameter, km^3/s^2 (sgp4 ``wgs72``).
WGS72_MU_KM3_S2 = 398600.8
#: WGS72 J2 (sgp4 ``wgs72``).
WGS72_J2 = 0.001082616

#: Earth's rotation rate, rad/s (IERS conventions value used with GMST 1982).
EARTH_ROTATION_RAD_S = 7.292115146706979e-5

#: Nanoseconds per second and per day.
NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S

#: Seconds per day.
DAY_S = 86_400.0

TWO_PI = 2.0 * math.pi
