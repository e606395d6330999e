"""Scenario models shared by several tables (and by `leonet.service.spec`).

Kept apart from `leonet.scenario.schema` so that the service layer can use
them while the schema imports the service layer's tables, without a cycle.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["SiteSpec", "TerminalSource"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class SiteSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    lat_deg: float = Field(ge=-90.0, le=90.0)
    lon_deg: float = Field(ge=-180.0, le=180.0)
    altitude_km: float = Field(0.0, ge=-0.5, le=10.0)
    antenna_count: int = Field(1, ge=1, le=1000)
    note: str = ""


class TerminalSource(_Strict):
    """One source of user terminals.

    ``kind = "cities"``: GeoNames cities (shipped, >= 15k people), filtered by
    country, names, population and count.  ``kind = "coordinates"``: explicit
    sites.  ``kind = "sample"``: ``count`` points in a region, weighted by
    population.
    """

    kind: Literal["cities", "coordinates", "sample"]
    country_iso2: str | None = Field(None, min_length=2, max_length=2)
    names: list[str] | None = None
    min_population: int = Field(0, ge=0)
    limit: int | None = Field(None, ge=1)
    sites: list[SiteSpec] | None = None
    region: str | None = Field(None, description='"country:UA", "oblast:Kharkiv", "crimea" or a GeoJSON path')
    count: int | None = Field(None, ge=1, le=10_000_000)
    weight_by_population: bool = True

    @model_validator(mode="after")
    def _fields_for_kind(self):
        if self.kind == "coordinates" and not self.sites:
            raise ValueError('kind = "coordinates" needs a non-empty "sites" list')
        if self.kind == "sample" and (self.region is None or self.count is None):
            raise ValueError('kind = "sample" needs "region" and "count"')
        if self.kind == "cities" and self.country_iso2 is None and self.names is None and self.limit is None:
            raise ValueError('kind = "cities" needs at least one of "country_iso2", "names" or "limit"')
        return self
