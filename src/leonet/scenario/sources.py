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

    name: str = Field(min_length=1, max_length=200)
    lat_deg: float = Field(ge=-90.0, le=90.0)
    lon_deg: float = Field(ge=-180.0, le=180.0)
    altitude_km: float = Field(0.0, ge=-0.5, le=10.0)
    note: str = ""


class SiteSpec(TerminalSiteSpec):
    """A site given by its coordinates, with its number of antennas (gateways)."""

    antenna_count: int = Field(1, ge=1, le=1000)


class CitiesSource(Strict):
    """Terminals at GeoNames cities (the shipped list of places of >= 15,000 people)."""

    kind: Literal["cities"]
    country_iso2: str | None = Field(None, min_length=2, max_length=2)
    names: list[str] | None = None
    min_population: int = Field(0, ge=0)
    limit: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _some_filter(self):
        if self.country_iso2 is None and self.names is None and self.limit is None:
            raise ValueError('kind = "cities" needs at least one of "country_iso2", "names" or "limit"')
        return self


class CoordinatesSource(Strict):
    """Terminals at explicit sites."""

    kind: Literal["coordinates"]
    sites: list[TerminalSiteSpec] = Field(min_length=1)


class SampleSource(Strict):
    """``count`` terminals sampled in a region."""

    kind: Literal["sample"]
    region: str = Field(min_length=1, description='"country:UA", "oblast:Kharkiv", "crimea" or a GeoJSON path')
    count: int = Field(ge=1, le=10_000_000)
    weight_by_population: bool = True


#: One source of user terminals, told apart by ``kind``.
TerminalSource = Annotated[Union[CitiesSource, CoordinatesSource, SampleSource], Field(discriminator="kind")]

#: The ``kind`` of each terminal source model.
TERMINAL_SOURCE_KINDS = ("cities", "coordinates", "sample")
