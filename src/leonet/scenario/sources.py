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
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from .base import Strict

__all__ = [
    "SiteSpec",
    "TerminalSiteSpec",
    "TerminalSource",
    "CitiesSource",
    "CoordinatesSource",
    "SampleSource",
    "TERMINAL_SOURCE_KINDS",
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


#: One source of user terminals, told apart by ``kind``.
TerminalSource = Annotated[Union[CitiesSource, CoordinatesSource, SampleSource], Field(discriminator="kind")]

#: The ``kind`` of each terminal source model.
TERMINAL_SOURCE_KINDS = ("cities", "coordinates", "sample")
